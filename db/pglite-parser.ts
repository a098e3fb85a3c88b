// Keeps V8 from optimizing PGlite's SQL parser, whose optimizing compile is the largest
// allocation a process with PGlite ever makes.
//
// PGlite's parser (raw_parser, with the grammar inlined: a 105 KB WebAssembly function) becomes
// hot within the first few dozen statements, and V8 then recompiles it with TurboFan on a
// background thread. That one compile's compiler memory alone would break the first sync's memory
// goal (`--trace-wasm-compilation-times` shows it; the figures are in BENCHMARKS.md, and
// bench/guard.json holds the peak in CI). The baseline code runs the few statements a sync
// parses about as fast.
//
// V8's baseline compiler (Liftoff) decides when it compiles a function whether that code counts
// its way towards an optimizing recompile, and it counts only while `--wasm-tier-up-filter` is
// unset or names that function. So the parser is compiled first in a moment when the filter names
// another function (an import, which is never compiled): by parsing an empty statement after the
// backend has started, before PGlite's first query. Only the parser and the scanner functions it
// calls are compiled in that moment; everything else tiers up as before.
import { setFlagsFromString } from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';

/** What of PGlite's Emscripten module this needs (PGlite 0.5's exports). */
interface ParserModule {
  _raw_parser?: (query: number, mode: number) => number;
  stackSave?: () => number;
  stackRestore?: (sp: number) => void;
  stringToUTF8OnStack?: (s: string) => number;
}

type Hooked = { _initArrayTypes?: (...args: unknown[]) => Promise<unknown>; mod?: ParserModule };

/**
 * Arranges for `client`'s parser to be compiled without tier-up, just before PGlite's first
 * query. Call right after `new PGlite(…)`, before it is ready. Where PGlite or V8 lacks what this
 * needs, it does nothing and the parser is optimized as before.
 */
export function keepParserUnoptimized(client: PGlite): void {
  const hooked = client as unknown as Hooked;
  const first = hooked._initArrayTypes;
  if (typeof first !== 'function') return;
  // V8 drops baseline code in a memory-reducing collection (src/util/memory.ts asks for them)
  // and compiles it again when it is next called, this time counting towards tier-up: the
  // parser's must stay.
  setFlagsFromString('--no-flush-liftoff-code');
  hooked._initArrayTypes = async (...args: unknown[]) => {
    // Once only: later calls find the class's own method again.
    delete hooked._initArrayTypes;
    compileParser(hooked.mod);
    return first.apply(client, args);
  };
}

/** Whether the parser was compiled here (false: PGlite's module lacks an export this needs). */
function compileParser(mod: ParserModule | undefined): boolean {
  if (!mod?._raw_parser || !mod.stackSave || !mod.stackRestore || !mod.stringToUTF8OnStack) return false;
  const sp = mod.stackSave();
  setFlagsFromString('--wasm-tier-up-filter=0');
  try {
    // RAW_PARSE_DEFAULT; an empty statement parses to nothing and raises no error.
    mod._raw_parser(mod.stringToUTF8OnStack(''), 0);
  } finally {
    setFlagsFromString('--wasm-tier-up-filter=-1');
    mod.stackRestore(sp);
  }
  return true;
}
