// Small measuring helpers: percentiles, a peak-RSS sampler, timers.

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const round = (x: number | null, digits = 2): number | null =>
  x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;

/** Samples this process's RSS every `everyMs` until stopped; `peak()` and `stop()` give the peak in MiB. */
export function sampleRss(everyMs = 100): { peak(): number; stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  timer.unref();
  const read = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
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

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
