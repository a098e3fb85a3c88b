// For tests and the bench: one virtual clock for a connector and its simulator. Every sleep is
// queued at its wake-up instant and woken in order, the clock jumping to that instant, so hours
// of Jira's pauses pass in milliseconds and the simulator sees the same time the connector does.
// Not imported by production code.
import type { JiraTuning } from './client.ts';

export function createVirtualClock(start: number) {
  let t = start;
  const sleepers: { until: number; resolve: () => void }[] = [];
  let scheduled = false;
  const wakeNext = () => {
    scheduled = false;
    sleepers.sort((a, b) => a.until - b.until);
    const next = sleepers.shift();
    if (!next) return;
    t = Math.max(t, next.until);
    next.resolve();
    if (sleepers.length) schedule();
  };
  // setImmediate lets the I/O of requests already sent settle before time jumps.
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(wakeNext, 1);
  };
  const sleeps: number[] = [];
  const tuning: JiraTuning = {
    now: () => t,
    random: () => 0,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        sleeps.push(ms);
        const s = { until: t + ms, resolve };
        sleepers.push(s);
        signal?.addEventListener(
          'abort',
          () => {
            const i = sleepers.indexOf(s);
            if (i >= 0) sleepers.splice(i, 1);
            reject(signal.reason);
          },
          { once: true },
        );
        schedule();
      }),
  };
  return {
    now: () => t,
    tuning,
    /** Every sleep asked for, in order. */
    sleeps: () => [...sleeps],
    /** Moves the clock on (between steps of a test). */
    advance(ms: number) {
      t += ms;
    },
  };
}
export type VirtualClock = ReturnType<typeof createVirtualClock>;
