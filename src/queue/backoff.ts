// The one retry policy of pmo-sync's queues: after a recorded failure a row waits
// `firstMs · 2^(failures − 1)`, capped, spread by a jitter so rows that failed together do not
// all come back together.

export interface BackoffPolicy {
  /** The wait after the first failure. */
  firstMs: number;
  /** The longest wait, however many failures. */
  capMs: number;
  /** How far each wait is spread either side, as a fraction of it (0.25: ±25 %); 0 for none. */
  jitter: number;
  /** A number in [0, 1); Math.random unless a test fixes it. */
  random?: () => number;
}

/** Milliseconds to wait before the next try of a row that has now failed `failures` times (≥ 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  const base = Math.min(policy.capMs, policy.firstMs * 2 ** Math.max(0, failures - 1));
  if (policy.jitter === 0) return Math.round(base);
  const random = policy.random ?? Math.random;
  return Math.round(base * (1 - policy.jitter + random() * 2 * policy.jitter));
}
