// A value read from a tracker and kept for later calls: the site's field list, its status list,
// a project's iteration tree. Concurrent callers share one read, a failed read is forgotten (the
// next call reads again), and each call says how old a kept value it accepts.

export interface KeptRead<T> {
  /** The kept value unless it was read `maxAgeMs` or more ago (default: any age), else a new read's. */
  get(maxAgeMs?: number): Promise<T>;
}

export function keptRead<T>(read: () => Promise<T>, now: () => number): KeptRead<T> {
  let kept: { at: number; value: Promise<T> } | null = null;
  return {
    get(maxAgeMs = Number.POSITIVE_INFINITY) {
      if (!kept || now() - kept.at >= maxAgeMs) {
        const entry = { at: now(), value: read() };
        kept = entry;
        entry.value.catch(() => {
          if (kept === entry) kept = null;
        });
      }
      return kept.value;
    },
  };
}
