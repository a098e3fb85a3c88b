// How the background loops (webhook processor, write-back worker) fared last: readiness reports
// a loop whose latest pass failed, so /readyz turns 503 while the process cannot do its work
// (a full disk, a database that rejects writes) even though it still answers reads. A loop that
// passes again clears its failure. One per process, handed to the runtime and to readiness.
import { describeError } from '../http/db-errors.ts';

export interface LoopFailure {
  /** When the loop's current run of failures began. */
  since: string;
  /** The latest error, one line, without query values. */
  error: string;
  failures: number;
}

export interface BackgroundHealth {
  failed(loop: string, err: unknown): void;
  succeeded(loop: string): void;
  /** The loops whose latest pass failed. */
  failing(): Record<string, LoopFailure>;
}

export function createBackgroundHealth(opts: { now?: () => Date; onChange?: () => void } = {}): BackgroundHealth {
  const now = opts.now ?? (() => new Date());
  const failing = new Map<string, LoopFailure>();
  return {
    failed(loop, err) {
      const before = failing.get(loop);
      failing.set(loop, {
        since: before?.since ?? now().toISOString(),
        error: describeError(err),
        failures: (before?.failures ?? 0) + 1,
      });
      opts.onChange?.();
    },
    succeeded(loop) {
      if (failing.delete(loop)) opts.onChange?.();
    },
    failing: () => Object.fromEntries(failing),
  };
}
