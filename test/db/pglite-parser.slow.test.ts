// PGlite's SQL parser stays on V8's baseline code (db/pglite-parser.ts): its optimizing compile
// alone allocates hundreds of MiB, more than a first sync's whole budget. Read from V8's own trace of every WebAssembly compile in a child
// process that opens a new database, migrates, runs a memory-reducing collection (which drops
// baseline code) and parses 400 statements: plenty for the parser to become hot.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NODE_ENV } from '../../scripts/node24.mjs';

const CHILD = fileURLToPath(new URL('./pglite-parser.child.ts', import.meta.url));
const TURBOFAN = /using TurboFan, took \d+ ms and (\d+) \/ \d+ max\/total bytes/;

describe.skipIf(process.platform !== 'linux')('PGlite parser', () => {
  it('is never recompiled by the optimizing compiler, whose compile of it is larger than a sync', () => {
    const r = spawnSync(process.execPath, ['--trace-wasm-compilation-times', '--import', 'tsx', CHILD], {
      encoding: 'utf8',
      env: { ...process.env, ...NODE_ENV },
      maxBuffer: 64 * 2 ** 20,
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const compilerBytes = r.stdout
      .split('\n')
      .map((line) => TURBOFAN.exec(line))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]));
    // The trace is there: other hot functions are optimized as usual.
    expect(compilerBytes.length).toBeGreaterThan(20);
    // No compile near the parser's: the largest others take tens of megabytes.
    expect(Math.max(...compilerBytes)).toBeLessThan(200 * 2 ** 20);
    // V8's trace lines may still come after the child's own line (a background compile ending).
    const own = r.stdout.split('\n').findLast((line) => line.startsWith('{"peakRssMiB"'));
    const { peakRssMiB } = JSON.parse(own ?? 'null') as { peakRssMiB: number };
    expect(peakRssMiB).toBeLessThan(450);
  });
});
