// Calibration, measured: forecasts made from the history known at a past instant, compared with
// what happened since. A calibrated forecaster has about 50% of epics finished by their P50 date,
// 85% by P85 and 95% by P95. An epic not finished by now counts for a percentile only once that
// percentile's date has passed (a miss); before that, whether it will make it is not yet known.
import type { FlowPlannedItem } from '../../connectors/flow-portfolio.ts';
import type { ProgramMembership } from '../rollups/sql.ts';
import { type ForecastSettings, forecastAll } from './compute.ts';
import { dayNumber } from './forecaster.ts';
import { DAY_MS, doneAt, type FlowItem, itemsAsOf, leavesByContainer } from './throughput.ts';

export interface Calibration {
  /** Epics whose date is known by now: finished, or past the percentile's date. */
  evaluable: number;
  finishedBy: number;
  /** finishedBy / evaluable; null when none is evaluable. */
  share: number | null;
}

export interface BacktestResult {
  asOf: string;
  now: string;
  /** Open epics and features at `asOf` that got a dated forecast. */
  forecast: number;
  /** Of those, finished by now. */
  finished: number;
  p50: Calibration;
  p85: Calibration;
  p95: Calibration;
  /** Mean absolute error of P50 against the actual finish day, over the finished ones. */
  maeDays: number | null;
  /** Open at `asOf` without a dated forecast (no history then). */
  lowConfidence: number;
}

/** When a container finished: when its last leaf did, once all are done (or it is itself done). */
function finishedAt(container: FlowItem, leaves: readonly FlowItem[], t: number): number | null {
  const own = doneAt(container, t);
  if (leaves.length === 0) return own;
  let last = Number.NEGATIVE_INFINITY;
  for (const l of leaves) {
    const d = doneAt(l, t);
    if (d === null) return own;
    last = Math.max(last, d);
  }
  return last;
}

export function backtest(
  items: readonly FlowItem[],
  opts: {
    asOf: Date;
    now: Date;
    programs?: readonly ProgramMembership[];
    settings: Pick<ForecastSettings, 'trials' | 'windowWeeks'>;
  },
): BacktestResult {
  const now = opts.now.getTime();
  // What was known then: items created by then, history up to then (the flow functions cut at
  // `at`), each epic's target and each item's parent as they were then.
  const { scopes } = forecastAll(itemsAsOf(items, opts.asOf.getTime()), {
    at: opts.asOf,
    programs: opts.programs ?? [],
    settings: opts.settings,
  });
  const byRef = new Map(items.map((i) => [i.ref, i]));
  const leaves = leavesByContainer(items);
  const cal = () => ({ evaluable: 0, finishedBy: 0, share: null as number | null });
  const result: BacktestResult = {
    asOf: opts.asOf.toISOString(),
    now: opts.now.toISOString(),
    forecast: 0,
    finished: 0,
    p50: cal(),
    p85: cal(),
    p95: cal(),
    maeDays: null,
    lowConfidence: 0,
  };
  const nowDay = Math.floor(now / DAY_MS);
  let errors = 0;
  for (const s of scopes) {
    if (!s.scope.startsWith('epic:')) continue;
    const f = s.forecast;
    if (f.status !== 'forecast' || f.p50 === null) {
      if (f.status !== 'done') result.lowConfidence++;
      continue;
    }
    const ref = s.scope.slice(5);
    const container = byRef.get(ref);
    if (!container) continue;
    result.forecast++;
    const done = finishedAt(container, leaves.get(ref) ?? [], now);
    const doneDay = done === null ? null : Math.floor(done / DAY_MS);
    if (doneDay !== null) {
      result.finished++;
      errors += Math.abs(doneDay - dayNumber(f.p50));
    }
    for (const q of ['p50', 'p85', 'p95'] as const) {
      const date = f[q];
      const c = result[q];
      if (doneDay !== null) {
        c.evaluable++;
        if (date !== null && doneDay <= dayNumber(date)) c.finishedBy++;
      } else if (date !== null && dayNumber(date) < nowDay) c.evaluable++;
    }
  }
  for (const q of ['p50', 'p85', 'p95'] as const) {
    const c = result[q];
    c.share = c.evaluable === 0 ? null : Math.round((c.finishedBy / c.evaluable) * 1000) / 1000;
  }
  result.maeDays = result.finished === 0 ? null : Math.round((errors / result.finished) * 10) / 10;
  return result;
}

/** A generated flow portfolio as the database holds it after a sync with history. */
export function flowItemsOf(plan: readonly FlowPlannedItem[], connection = 'sim'): FlowItem[] {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return plan.map((p) => {
    const transitions: [number, string][] = [];
    if (p.started !== null) transitions.push([Math.floor(p.started / 60_000), 'p']);
    if (p.resolved !== null) transitions.push([Math.floor(p.resolved / 60_000), 'd']);
    return {
      ref: `${connection}:${p.id}`,
      team: `${connection}:T${p.team + 1}`,
      kind: p.kind,
      parent: p.parent === null ? null : `${connection}:${p.parent}`,
      statusCategory: p.resolved !== null ? 'done' : p.started !== null ? 'in_progress' : 'todo',
      points: p.points || null,
      created: iso(p.created)!,
      started: iso(p.started),
      resolved: iso(p.resolved),
      due: p.due === null ? null : iso(p.due)!.slice(0, 10),
      transitions,
    };
  });
}
