// Monte Carlo completion forecasts: remaining work (items, or points where sized) drawn against a
// team's historical weekly throughput, N seeded trials, P50/P85/P95 finish dates and the chance of
// finishing by a target. Pure: no clock, no database — the same input gives the same answer.
//
// Each trial samples weeks from the history with replacement until the sampled throughput covers
// what is left; the last week counts only the share of it needed (a week that would finish 2 of
// 5 items finishes after 3 of its 7 days), so constant throughput gives one exact date. Work with
// no throughput history gets a low-confidence answer without dates: a forecast from nothing would
// be a made-up date.

export type ForecastUnit = 'items' | 'points';

export interface ForecastInput {
  /** Work left, in `unit`. 0 (or less) means done. */
  remaining: number;
  unit: ForecastUnit;
  /**
   * Work finished per week, in `unit`, one entry per week of the history window (weeks in which
   * nothing finished are 0, not left out: they are part of the team's pace).
   */
  weeklyThroughput: ArrayLike<number>;
  /** The day the forecast is made, `YYYY-MM-DD` (UTC). Week 1 starts the day after. */
  today: string;
  /** Target finish date `YYYY-MM-DD`, when there is one. */
  target?: string | null;
  /** Trials (default 10,000). */
  trials?: number;
  /** PRNG seed (default fixed): give each subject its own (seedFor) so forecasts are independent. */
  seed?: number;
}

export type ForecastStatus = 'forecast' | 'done' | 'no-history' | 'stalled';
export type ForecastConfidence = 'high' | 'medium' | 'low';

export interface Forecast {
  status: ForecastStatus;
  confidence: ForecastConfidence;
  unit: ForecastUnit;
  remaining: number;
  trials: number;
  /** Weeks of throughput history the trials drew from. */
  weeksOfHistory: number;
  /** Finish dates `YYYY-MM-DD`; null when they cannot be stated (no history, or past the horizon). */
  p50: string | null;
  p85: string | null;
  p95: string | null;
  /** Share of trials finished on or before `target` (0..1); null without a target or without dates. */
  onTimeProbability: number | null;
  /** Why the forecast is weak or has no dates, for people; null for an ordinary forecast. */
  reason: string | null;
}

export const DEFAULT_TRIALS = 10_000;
/** A trial that has not finished within ten years is counted as not finishing. */
export const HORIZON_WEEKS = 520;
const HORIZON_DAYS = HORIZON_WEEKS * 7;
/** Weeks of history from which a forecast is stated with high, then medium, confidence. */
const HIGH_CONFIDENCE_WEEKS = 12;
const MEDIUM_CONFIDENCE_WEEKS = 6;
const DEFAULT_SEED = 0x2545f491;
const DAY_MS = 86_400_000;

export function forecast(input: ForecastInput): Forecast {
  const trials = Math.max(1, Math.floor(input.trials ?? DEFAULT_TRIALS));
  const today = dayNumber(input.today);
  const target = input.target ? dayNumber(input.target) : null;
  const weeks = input.weeklyThroughput.length;
  const base = {
    unit: input.unit,
    remaining: Math.max(0, input.remaining),
    trials,
    weeksOfHistory: weeks,
  };
  if (!(input.remaining > 0)) {
    const date = dayString(today);
    return {
      ...base,
      status: 'done',
      confidence: 'high',
      p50: date,
      p85: date,
      p95: date,
      onTimeProbability: target === null ? null : today <= target ? 1 : 0,
      reason: null,
    };
  }
  const history = new Float64Array(weeks);
  let total = 0;
  for (let i = 0; i < weeks; i++) {
    const v = Number(input.weeklyThroughput[i]);
    history[i] = Number.isFinite(v) && v > 0 ? v : 0;
    total += history[i]!;
  }
  if (weeks === 0)
    return { ...noDates(base, 'no-history'), reason: `no throughput history in ${input.unit} for the teams doing it` };
  if (total === 0)
    return { ...noDates(base, 'stalled'), reason: `nothing finished in the last ${weeks} weeks of history` };

  const counts = simulate(history, base.remaining, trials, input.seed ?? DEFAULT_SEED);
  const at = (q: number) => {
    const d = percentileDay(counts, trials, q);
    return d === null ? null : dayString(today + d);
  };
  let onTime: number | null = null;
  if (target !== null) {
    const within = target - today;
    let n = 0;
    for (let d = 0; d <= Math.min(within, HORIZON_DAYS); d++) n += counts[d]!;
    onTime = within < 0 ? 0 : n / trials;
  }
  const p95 = at(0.95);
  const confidence: ForecastConfidence =
    weeks >= HIGH_CONFIDENCE_WEEKS ? 'high' : weeks >= MEDIUM_CONFIDENCE_WEEKS ? 'medium' : 'low';
  return {
    ...base,
    status: 'forecast',
    confidence,
    p50: at(0.5),
    p85: at(0.85),
    p95,
    onTimeProbability: onTime,
    reason:
      p95 === null
        ? `more than 5% of trials do not finish within ${HORIZON_WEEKS} weeks`
        : confidence === 'low'
          ? `only ${weeks} weeks of throughput history`
          : null,
  };
}

/**
 * Days to finish per trial, as a histogram: counts[d] trials finished d days after today
 * (d ≤ HORIZON_DAYS), counts[HORIZON_DAYS + 1] did not finish within the horizon. A histogram, not
 * a sorted array: percentiles of 10,000 trials then cost one pass over 3,641 buckets.
 */
function simulate(history: Float64Array, remaining: number, trials: number, seed: number): Uint32Array {
  const counts = new Uint32Array(HORIZON_DAYS + 2);
  const n = history.length;
  // mulberry32, inlined: this loop is the forecaster's whole cost.
  let s = seed >>> 0;
  for (let t = 0; t < trials; t++) {
    let left = remaining;
    let week = 0;
    let days = HORIZON_DAYS + 1;
    while (week < HORIZON_WEEKS) {
      s = (s + 0x6d2b79f5) >>> 0;
      let r = Math.imul(s ^ (s >>> 15), s | 1);
      r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
      const done = history[((((r ^ (r >>> 14)) >>> 0) * n) / 4294967296) >>> 0]!;
      if (done >= left) {
        days = week * 7 + Math.ceil((7 * left) / done - 1e-9);
        break;
      }
      left -= done;
      week++;
    }
    counts[days]! += 1;
  }
  return counts;
}

/** The smallest day by which at least `q` of the trials finished; null past the horizon. */
function percentileDay(counts: Uint32Array, trials: number, q: number): number | null {
  const need = Math.ceil(q * trials);
  let seen = 0;
  for (let d = 0; d <= HORIZON_DAYS; d++) {
    seen += counts[d]!;
    if (seen >= need) return d;
  }
  return null;
}

function noDates(base: Pick<Forecast, 'unit' | 'remaining' | 'trials' | 'weeksOfHistory'>, status: ForecastStatus) {
  return {
    ...base,
    status,
    confidence: 'low' as const,
    p50: null,
    p85: null,
    p95: null,
    onTimeProbability: null,
  };
}

/** A stable 32-bit seed for a subject (an epic's ref): independent trials per epic, same every run. */
export function seedFor(subject: string): number {
  // FNV-1a.
  let h = 0x811c9dc5;
  for (let i = 0; i < subject.length; i++) h = Math.imul(h ^ subject.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` (or full ISO) date, UTC. */
export function dayNumber(date: string): number {
  const ms = Date.parse(date.length === 10 ? `${date}T00:00:00Z` : date);
  if (Number.isNaN(ms)) throw new RangeError(`not a date: ${JSON.stringify(date)} (expected YYYY-MM-DD)`);
  return Math.floor(ms / DAY_MS);
}

export function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
