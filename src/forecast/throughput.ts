// Flow from status histories, pure: each item's status at any instant, weekly throughput per
// team, cycle times, and the inputs of a scope's forecast (remaining work and the weekly series
// the trials draw from). The same functions serve today's forecasts and the backtest, which asks
// them about a past instant with only the history known by then.
import type { ForecastUnit } from './forecaster.ts';

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
/** Kinds whose completions are throughput: containers and sub-tasks would count work twice. */
export const FLOW_KINDS: ReadonlySet<string> = new Set(['story', 'bug', 'task', 'other']);
export const CONTAINER_KINDS: ReadonlySet<string> = new Set(['initiative', 'epic', 'feature']);
/** Weeks of an epic's own history from which its own pace is used instead of its teams'. */
export const OWN_PACE_WEEKS = 4;

export const CATEGORY_CODE = { todo: 't', in_progress: 'p', done: 'd', removed: 'r' } as const;
const CODE_CATEGORY: Record<string, string> = { t: 'todo', p: 'in_progress', d: 'done', r: 'removed' };

export interface FlowItem {
  ref: string;
  /** Whose throughput it counts towards: a configured team, a team field or area path, else `<connection>:<project>` (teams.ts). */
  team: string;
  /** `<connection>:<project>`, what project and program scopes take; absent: the same as `team`. */
  project?: string;
  kind: string;
  parent: string | null;
  statusCategory: string;
  points: number | null;
  created: string;
  started: string | null;
  resolved: string | null;
  due: string | null;
  /** Compact history (db item_history): [minutes since epoch, category code], oldest first. */
  transitions: readonly (readonly [number, string])[] | null;
  /**
   * The target date and the parent (a ref) over time, [minutes since epoch, value from then on],
   * oldest first; absent or null: the current value held throughout (loaded only when asked).
   */
  dueChanges?: readonly (readonly [number, string | null])[] | null;
  parentChanges?: readonly (readonly [number, string | null])[] | null;
}

const ms = (s: string | null) => (s === null ? null : Date.parse(s));

/** The item's status category at `t`, or null when it did not exist yet. */
export function categoryAt(it: FlowItem, t: number): string | null {
  if (Date.parse(it.created) > t) return null;
  const tr = it.transitions;
  if (tr && tr.length > 0) {
    let last: string | null = null;
    for (const [min, code] of tr) {
      if (min * 60_000 > t) break;
      last = code;
    }
    if (last !== null) return CODE_CATEGORY[last] ?? null;
    return beforeHistory(tr, ms(it.started), t);
  }
  // No history within the horizon: its dates say where it stood.
  const resolved = ms(it.resolved);
  if (resolved !== null && resolved <= t && it.statusCategory === 'done') return 'done';
  const started = ms(it.started);
  if (started !== null && started <= t && it.statusCategory !== 'todo') return 'in_progress';
  return it.statusCategory === 'removed' && resolved !== null && resolved <= t ? 'removed' : 'todo';
}

/**
 * A field's value at `t` from its values over time: the last one set by `t`. Before the first
 * recorded one the history says nothing (it starts at the horizon, and Azure DevOps shows a value
 * only from the first revision read), so the first is taken to have held already; with none
 * recorded, the current value held throughout.
 */
export function valueAt<T>(changes: readonly (readonly [number, T])[] | null | undefined, t: number, current: T): T {
  if (!changes || changes.length === 0) return current;
  let value = changes[0]![1];
  for (const [min, v] of changes) {
    if (min * 60_000 > t) break;
    value = v;
  }
  return value;
}

/** The items with the target date and parent each had at `t` (a baseline or backtest as of a past date). */
export function itemsAsOf(items: readonly FlowItem[], t: number): FlowItem[] {
  return items.map((it) =>
    it.dueChanges || it.parentChanges
      ? { ...it, due: valueAt(it.dueChanges, t, it.due), parent: valueAt(it.parentChanges, t, it.parent) }
      : it,
  );
}

/**
 * Where an item stood at `t`, before the first transition its history records. A history that
 * starts with the item created knows it was to do; one that starts later (the item began before
 * the horizon, or an Azure DevOps stream first showed it at a later state) knows only what its
 * start date says: in progress from then, unless it was done before the horizon and its history
 * starts with a later reopening, which is rare.
 */
function beforeHistory(tr: readonly (readonly [number, string])[], started: number | null, t: number): string {
  return tr[0]![1] !== 't' && started !== null && started <= t ? 'in_progress' : 'todo';
}

/** What categoryAt reads of an item, its dates as milliseconds since the epoch. */
export interface TimedItem {
  created: number;
  started: number | null;
  resolved: number | null;
  statusCategory: string;
  transitions: readonly (readonly [number, string])[] | null;
}

/**
 * categoryAt at each of `times` (ascending), in one pass over the item's history: a burn-up
 * asks every leaf of a program about each of its weeks.
 */
export function categoriesAt(it: TimedItem, times: readonly number[]): (string | null)[] {
  const tr = it.transitions;
  const out: (string | null)[] = [];
  if (tr && tr.length > 0) {
    let i = 0;
    let last: string | null = null;
    for (const t of times) {
      if (it.created > t) {
        out.push(null);
        continue;
      }
      while (i < tr.length && tr[i]![0] * 60_000 <= t) last = tr[i++]![1];
      out.push(last === null ? beforeHistory(tr, it.started, t) : (CODE_CATEGORY[last] ?? null));
    }
    return out;
  }
  const { resolved, started } = it;
  for (const t of times) {
    if (it.created > t) out.push(null);
    else if (resolved !== null && resolved <= t && it.statusCategory === 'done') out.push('done');
    else if (started !== null && started <= t && it.statusCategory !== 'todo') out.push('in_progress');
    else out.push(it.statusCategory === 'removed' && resolved !== null && resolved <= t ? 'removed' : 'todo');
  }
  return out;
}

/** When the item last became done, if it is done at `t`. */
export function doneAt(it: FlowItem, t: number): number | null {
  if (categoryAt(it, t) !== 'done') return null;
  const tr = it.transitions;
  if (tr) {
    let at: number | null = null;
    for (const [min, code] of tr) {
      if (min * 60_000 > t) break;
      if (code === 'd') at = min * 60_000;
    }
    if (at !== null) return at;
  }
  return ms(it.resolved);
}

/**
 * When work on the item first started, as known at `t`: its start date when its history begins
 * later than that (the work began before the history's first transition), else the history's
 * first move to in progress or done.
 */
export function startedAt(it: FlowItem, t: number): number | null {
  const tr = it.transitions;
  const s = ms(it.started);
  if (s !== null && s <= t && (!tr || tr.length === 0 || (tr[0]![1] !== 't' && s < tr[0]![0] * 60_000))) return s;
  if (tr) for (const [min, code] of tr) if (min * 60_000 <= t && (code === 'p' || code === 'd')) return min * 60_000;
  return s !== null && s <= t ? s : null;
}

export interface WeeklySeries {
  /** Start of each week (ms), oldest first; the last week ends at `end`. */
  starts: number[];
  items: number[];
  points: number[];
}

export interface TeamFlowFigures {
  team: string;
  weeks: WeeklySeries;
  cycleTimeDays: { n: number; p50: number | null; p85: number | null; p95: number | null };
}

/** Index of the week (of `weeks` ending at `end`) holding `t`, or -1 outside the window. */
function weekOf(t: number, end: number, weeks: number): number {
  if (t >= end) return -1;
  const back = Math.floor((end - t) / WEEK_MS);
  return back >= weeks ? -1 : weeks - 1 - back;
}

function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * Throughput per team per week over the `weeks` weeks before `end`, and cycle times of what
 * finished in them. A team's weeks start at its first item: weeks before a team existed are not
 * weeks in which it finished nothing.
 */
export function teamFlowOf(items: readonly FlowItem[], end: number, weeks: number): Map<string, TeamFlowFigures> {
  const out = new Map<string, TeamFlowFigures & { first: number; cycles: number[] }>();
  for (const it of items) {
    if (!FLOW_KINDS.has(it.kind)) continue;
    const created = Date.parse(it.created);
    if (created > end) continue;
    let f = out.get(it.team);
    if (!f) {
      f = {
        team: it.team,
        weeks: { starts: [], items: new Array(weeks).fill(0), points: new Array(weeks).fill(0) },
        cycleTimeDays: { n: 0, p50: null, p85: null, p95: null },
        first: created,
        cycles: [],
      };
      out.set(it.team, f);
    }
    f.first = Math.min(f.first, created);
    const done = doneAt(it, end - 1);
    if (done === null) continue;
    const w = weekOf(done, end, weeks);
    if (w < 0) continue;
    f.weeks.items[w]! += 1;
    f.weeks.points[w]! += it.points ?? 0;
    const start = startedAt(it, done);
    if (start !== null) f.cycles.push(Math.max(0, (done - start) / DAY_MS));
  }
  const result = new Map<string, TeamFlowFigures>();
  for (const [team, f] of out) {
    const from = Math.max(0, weekOf(f.first, end, weeks));
    const starts = Array.from({ length: weeks - from }, (_, i) => end - (weeks - from - i) * WEEK_MS);
    const cycles = f.cycles.sort((a, b) => a - b);
    result.set(team, {
      team,
      weeks: { starts, items: f.weeks.items.slice(from), points: f.weeks.points.slice(from) },
      cycleTimeDays: {
        n: cycles.length,
        p50: round1(percentile(cycles, 0.5)),
        p85: round1(percentile(cycles, 0.85)),
        p95: round1(percentile(cycles, 0.95)),
      },
    });
  }
  return result;
}

const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

export interface ScopeInputs {
  remaining: number;
  /**
   * Work of its teams that comes first: a scope not started yet waits behind the teams' work in
   * progress, so the trials draw `remaining + ahead` at the teams' whole pace.
   */
  ahead: number;
  unit: ForecastUnit;
  /** Work finished per week that the trials draw from, in `unit`. */
  series: number[];
  basis: 'epic' | 'team' | 'none';
  /** Leaves in scope at `t` (for baselines and scope change). */
  scope: string[];
}

/** Open work per team at `t`: all of it, and the part in scopes already started. */
export interface TeamLoad {
  open: ReadonlyMap<string, number>;
  started: ReadonlyMap<string, { items: number; points: number }>;
}

/**
 * What a scope's forecast draws on at `t`: its open leaves (points when every one is sized), and
 * either its own weekly pace (once it has OWN_PACE_WEEKS weeks of it) or its teams' throughput:
 * a started scope gets its part of the teams' started work's pace; one not started yet waits
 * behind that work (`ahead`) at the teams' whole pace.
 */
export function scopeInputs(
  leaves: readonly FlowItem[],
  flow: ReadonlyMap<string, TeamFlowFigures>,
  load: TeamLoad | ReadonlyMap<string, number>,
  t: number,
  weeks: number,
): ScopeInputs {
  const teamLoad: TeamLoad = load instanceof Map ? { open: load, started: new Map() } : (load as TeamLoad);
  const present = leaves.filter((l) => categoryAt(l, t) !== null);
  const open = present.filter((l) => {
    const c = categoryAt(l, t);
    return c === 'todo' || c === 'in_progress';
  });
  const sized = open.length > 0 && open.every((l) => l.points !== null && l.points > 0);
  const unit: ForecastUnit = sized ? 'points' : 'items';
  const remaining = sized ? open.reduce((a, l) => a + l.points!, 0) : open.length;
  const scope = present.filter((l) => categoryAt(l, t) !== 'removed').map((l) => l.ref);
  // Its own pace: weeks since its first start.
  let first = Number.POSITIVE_INFINITY;
  for (const l of present) {
    const s = startedAt(l, t);
    if (s !== null) first = Math.min(first, s);
  }
  const ownWeeks = Number.isFinite(first) ? Math.min(weeks, Math.floor((t - first) / WEEK_MS)) : 0;
  if (ownWeeks >= OWN_PACE_WEEKS) {
    const series = new Array(ownWeeks).fill(0);
    for (const l of present) {
      const d = doneAt(l, t - 1);
      if (d === null) continue;
      const w = weekOf(d, t, ownWeeks);
      if (w >= 0) series[w] += unit === 'points' ? (l.points ?? 0) : 1;
    }
    if (series.some((x) => x > 0)) return { remaining, ahead: 0, unit, series, basis: 'epic', scope };
  }
  // Its teams' pace, shared by their open work.
  const mine = new Map<string, number>();
  for (const l of open) mine.set(l.team, (mine.get(l.team) ?? 0) + 1);
  let length = 0;
  for (const team of mine.keys()) length = Math.max(length, flow.get(team)?.weeks.items.length ?? 0);
  if (length === 0) return { remaining, ahead: 0, unit, series: [], basis: 'none', scope };
  const waiting = Number.isFinite(first) === false && teamLoad.started.size > 0;
  let ahead = 0;
  const series = new Array(length).fill(0);
  for (const [team, n] of mine) {
    const f = flow.get(team);
    if (!f) continue;
    const busy = teamLoad.started.get(team);
    let share: number;
    if (waiting) {
      share = 1;
      ahead += busy ? (unit === 'points' ? busy.points : busy.items) : 0;
    } else {
      const denominator = busy && busy.items > 0 ? busy.items : (teamLoad.open.get(team) ?? n);
      share = Math.min(1, n / Math.max(1, denominator));
    }
    const src = unit === 'points' ? f.weeks.points : f.weeks.items;
    const offset = length - src.length;
    for (let i = 0; i < src.length; i++) series[offset + i] += src[i]! * share;
  }
  return { remaining, ahead, unit, series, basis: 'team', scope };
}

/** Open leaves per team at `t`: what a team's throughput is shared by. */
export function openLeavesByTeam(items: readonly FlowItem[], t: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const it of items) {
    if (!FLOW_KINDS.has(it.kind)) continue;
    const c = categoryAt(it, t);
    if (c === 'todo' || c === 'in_progress') out.set(it.team, (out.get(it.team) ?? 0) + 1);
  }
  return out;
}

/** Flow leaves under each container (all levels), by the container's ref. */
export function leavesByContainer(items: readonly FlowItem[]): Map<string, FlowItem[]> {
  const byRef = new Map(items.map((i) => [i.ref, i]));
  const out = new Map<string, FlowItem[]>();
  for (const it of items) {
    if (!FLOW_KINDS.has(it.kind)) continue;
    const seen = new Set<string>();
    let p = it.parent;
    while (p && !seen.has(p)) {
      seen.add(p);
      const parent = byRef.get(p);
      if (!parent) break;
      if (CONTAINER_KINDS.has(parent.kind)) {
        const list = out.get(p) ?? [];
        list.push(it);
        out.set(p, list);
      }
      p = parent.parent;
    }
  }
  return out;
}

/** `[minutes, value]` pairs from a field's values over time, after `before`, repeats collapsed. */
export function compactValues(
  values: readonly { at: string; value: string | null }[],
  before: readonly (readonly [number, string | null])[] = [],
): [number, string | null][] {
  const all: [number, string | null][] = before.map(([m, v]) => [m, v]);
  for (const v of values) all.push([Math.floor(Date.parse(v.at) / 60_000), v.value]);
  // Stable: values of one minute keep their order (the later one is the value from then on).
  all.sort((a, b) => a[0] - b[0]);
  const out: [number, string | null][] = [];
  for (const x of all) {
    const last = out[out.length - 1];
    if (last && last[1] === x[1]) continue;
    if (last && last[0] === x[0]) last[1] = x[1];
    else out.push(x);
  }
  // Replacing a value within its minute can leave two neighbours equal.
  return out.filter((x, i) => i === 0 || out[i - 1]![1] !== x[1]);
}

/** `[minutes, code]` pairs from transitions, repeats of one category collapsed. */
export function compactTransitions(
  transitions: readonly { at: string; to: keyof typeof CATEGORY_CODE }[],
  before: readonly (readonly [number, string])[] = [],
): [number, string][] {
  const all: [number, string][] = [...before.map(([m, c]) => [m, c] as [number, string])];
  for (const t of transitions) all.push([Math.floor(Date.parse(t.at) / 60_000), CATEGORY_CODE[t.to]]);
  all.sort((a, b) => a[0] - b[0]);
  const out: [number, string][] = [];
  for (const x of all) if (out.length === 0 || out[out.length - 1]![1] !== x[1]) out.push(x);
  return out;
}
