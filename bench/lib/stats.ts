// Small measuring helpers: percentiles, a peak-RSS sampler, timers.
import { hash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (x: number | null, digits = 2): number | null =>
  x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The peak RSS of this process from now until stopped, in MiB (`peak()`, `stop()`). On Linux
 * the kernel's own high-water mark (VmHWM) is reset here and read at the end: a timer samples
 * only when the event loop turns, and PGlite's statements run on this thread and hold the loop
 * for seconds, so a timer alone missed the peaks of the stages that follow the pull. The timer
 * stays for systems without /proc.
 */
export function sampleRss(everyMs = 100): { peak(): number; stop(): number } {
  const kernel = resetPeakRss();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  timer.unref();
  const read = () => {
    peak = Math.max(peak, process.memoryUsage.rss(), kernel ? kernelPeakRss() : 0);
    return Math.round(peak / 1024 / 1024);
  };
  return {
    peak: read,
    stop() {
      clearInterval(timer);
      return read();
    },
  };
}

/** Resets the kernel's peak-RSS mark of this process (Linux: clear_refs 5); false when it cannot. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return kernelPeakRss() > 0;
  } catch {
    return false;
  }
}

/** VmHWM of this process in bytes (0 when unreadable). */
function kernelPeakRss(): number {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A fixed workload of the kind a sync does (JSON parsed and serialised, SHA-256), timed in ms.
 * The same work everywhere, so its time says how fast this machine is at the moment: the
 * machines these figures come from have differed by half between hours of one day. Taken at
 * the start and the end of a run; runs whose calibrations differ are not comparable as they are.
 */
export function calibrate(): number {
  const issue = {
    key: 'PAY-1234',
    fields: {
      summary: 'Card vault: rotate keys without downtime',
      status: { name: 'In Progress', statusCategory: { key: 'indeterminate' } },
      labels: ['pmo', 'payments', 'q3'],
      created: '2026-01-02T03:04:05.000+0000',
      description: 'x'.repeat(600),
      issuelinks: Array.from({ length: 4 }, (_, i) => ({
        type: { name: 'Blocks' },
        outwardIssue: { key: `PAY-${i}` },
      })),
    },
  };
  const text = JSON.stringify(issue);
  // Not `round`: that name is this module's rounding helper.
  const work = (n: number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += hash('sha256', JSON.stringify(JSON.parse(text)), 'hex').length;
    return sum;
  };
  work(2000); // warm-up: optimised code, as a sync runs
  const t = performance.now();
  work(40_000);
  return Math.round(performance.now() - t);
}
