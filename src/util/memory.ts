// Hands the heap's freed pages back to the system after a large stage of work (Node only).
//
// A major collection does not return the pages it frees: V8 pools them for reuse and releases
// the pool only in a memory-reducing collection, which it runs when the process idles or the
// system reports pressure. A first sync never idles, so the process stays resident at the heap's
// high-water mark of the pull while the evaluation builds its own on top, against the first
// sync's memory goal (bench/guard.json). V8 runs such a collection on request
// only through its `gc` extension; it is fetched from a fresh context here, so no `gc` global
// appears in the process's own.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (opts: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let gc: Gc | null | undefined;

function loadGc(): Gc | null {
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as Gc) : null;
  } catch {
    return null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/**
 * Runs a memory-reducing collection (on this thread, in time proportional to what is live):
 * everything unreachable is collected and the pooled pages are returned. False where the
 * runtime offers no way to ask for one.
 */
export function releaseFreedMemory(): boolean {
  if (gc === undefined) gc = loadGc();
  if (!gc) return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}
