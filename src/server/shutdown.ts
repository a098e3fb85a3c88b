// How a long-running command (`serve`, the demo) ends on SIGINT or SIGTERM: the first signal
// asks everything to stop (an AbortSignal the whole start-up and the runtime watch), and arms a
// deadline; a second signal, or the deadline passing, ends the process at once. Listeners are
// the process's own, so they are removed again when the command is done with them.

/** The part of `process` this module uses; tests pass their own. */
export interface SignalProcess {
  on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  exit(code: number): never | undefined;
}

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Exit status of a process ended by a second signal: 128 + the signal's number, as shells report it. */
export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** Everything must have stopped this long after the first signal (DESIGN.md, "Clean lifecycle"). */
export const STOP_DEADLINE_MS = 10_000;

/**
 * One Ctrl-C reaches the process several times: the terminal signals its whole process group
 * (npm, the Node 24 launcher, pmo-sync), and npm and the launcher each pass theirs on too. Those
 * copies arrive within milliseconds; a person's second Ctrl-C comes later. The same signal again
 * within this window is taken for a copy; a different signal never is.
 */
export const DUPLICATE_WINDOW_MS = 300;

export interface ShutdownOptions {
  /** One line for the person watching (stderr); never more than one per event. */
  say(line: string): void;
  proc?: SignalProcess;
  deadlineMs?: number;
  /** Clock for the duplicate window (milliseconds, monotonic). */
  now?: () => number;
}

export interface Shutdown {
  /** Aborted by the first signal; start-up steps and the runtime stop when it is. */
  readonly signal: AbortSignal;
  /** Resolves with the first signal's name. */
  readonly requested: Promise<StopSignal>;
  /** Removes the signal listeners (the deadline, once armed, stays armed until the process ends). */
  dispose(): void;
}

export function createShutdown(opts: ShutdownOptions): Shutdown {
  const proc: SignalProcess = opts.proc ?? process;
  const deadlineMs = opts.deadlineMs ?? STOP_DEADLINE_MS;
  const now = opts.now ?? (() => performance.now());
  const controller = new AbortController();
  let first: { sig: StopSignal; at: number } | null = null;
  let resolveRequested!: (sig: StopSignal) => void;
  const requested = new Promise<StopSignal>((resolve) => {
    resolveRequested = resolve;
  });

  const on = (sig: StopSignal) => () => {
    if (first) {
      if (sig === first.sig && now() - first.at < DUPLICATE_WINDOW_MS) return;
      opts.say(`pmo-sync: ${sig} again while stopping; exiting now (exit ${SIGNAL_EXIT[sig]})`);
      proc.exit(SIGNAL_EXIT[sig]);
      return;
    }
    first = { sig, at: now() };
    opts.say(`pmo-sync: ${sig} received; stopping (send it again to exit at once)`);
    // Unreferenced: it never keeps a process alive that has stopped, and it still ends one that
    // something (a stuck request, a leaked handle) keeps running past the deadline.
    const timer = setTimeout(() => {
      opts.say(`pmo-sync: still stopping ${deadlineMs / 1000} s after ${sig}; exiting now (exit 1)`);
      proc.exit(1);
    }, deadlineMs);
    timer.unref();
    controller.abort(new StopRequested(sig));
    resolveRequested(sig);
  };
  const listeners = { SIGINT: on('SIGINT'), SIGTERM: on('SIGTERM') };
  proc.on('SIGINT', listeners.SIGINT);
  proc.on('SIGTERM', listeners.SIGTERM);
  let disposed = false;

  return {
    signal: controller.signal,
    requested,
    dispose() {
      if (disposed) return;
      disposed = true;
      proc.off('SIGINT', listeners.SIGINT);
      proc.off('SIGTERM', listeners.SIGTERM);
    },
  };
}

/** The abort reason once a stop was asked for: not a failure, so commands end with exit 0. */
export class StopRequested extends Error {
  readonly signalName: StopSignal;
  constructor(sig: StopSignal) {
    super(`stopped by ${sig}`);
    this.name = 'StopRequested';
    this.signalName = sig;
  }
}
