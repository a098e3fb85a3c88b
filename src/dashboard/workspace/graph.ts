// Timeline and dependency map: epics and features of both trackers by start and target, and the
// dependency graph between them. A link on a story counts for the epic or feature it sits under
// (up to two levels), since that is the level a roadmap is read at. Violations (a predecessor
// that finishes after its successor starts) and cycles are worked out here, not in the view.
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../../db/client.ts';
import { inList, queryRows, textArray } from '../../../db/query.ts';
import { itemLinks, itemRollups, rollups, workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { itemRollupScope } from '../../http/scope.ts';
import { rollupCondition, type WorkspaceFilter } from './filter.ts';
import { attachP85 } from './forecast.ts';
import { type Health, naturalRef } from './load.ts';

/** The kinds a roadmap shows; link_end_container (migration 0021) lifts links to the same. */
export const ROADMAP_KINDS = ['epic', 'feature'];
const ORDERED_TYPES = ['blocks', 'blocked_by', 'depends_on'];
/** A link of item_links that orders two items, directly or across trackers. */
const ORDERED_LINK = (() => {
  const types = sql.raw(ORDERED_TYPES.map((t) => `'${t}'`).join(', '));
  return sql`(type in (${types}) or (type = 'cross_tracker' and relation in (${types})))`;
})();

export interface Bar {
  ref: string;
  title: string;
  kind: string;
  tracker: string;
  status: string;
  health: Health;
  healthReason: string | null;
  start: string;
  end: string;
  /** No planned start: the bar starts at the date work began, else the date it was created. */
  startAssumed: boolean;
  /** No target date: the bar ends at the latest due date of its children, else at its start. */
  noTarget: boolean;
  /** A planned start or the date work started: something a dependency can be late for. */
  startKnown: boolean;
  /** A target, its own or its children's latest due date. */
  endKnown: boolean;
  /** Target before start: the item's own dates are out of order. */
  datesReversed: boolean;
  inCycle: boolean;
  external?: boolean;
  /** The stored forecast's P85 (85% likely finished by), when one is stored (issue 26.8). */
  p85?: string | null;
  /** Days the P85 falls after the item's own target (negative: before); null without both. */
  p85VsTarget?: number | null;
  onTimeProbability?: number | null;
}

export interface Edge {
  /** Must finish first. */
  from: string;
  to: string;
  crossTracker: boolean;
  /**
   * `from` ends after `to` starts (`against: 'start'`), or, when `to` has no start of its own,
   * after `to`'s target (`against: 'target'`). Dates only assumed never make a violation.
   */
  violation: boolean;
  against: 'start' | 'target' | null;
  inCycle: boolean;
}

export interface Timeline {
  today: string;
  /** The dates asked for: the bars are those overlapping them, and every figure counts those bars. */
  window: TimelineWindow;
  /** The drawing's first and last date: the bars' own dates and today. */
  from: string;
  to: string;
  bars: Bar[];
  edges: Edge[];
  violations: Edge[];
  cycles: string[][];
  headline: { bars: number; health: Record<Health, number>; violations: number; cycles: number };
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const healthOf = (h: string | null | undefined): Health => (h === 'green' || h === 'amber' || h === 'red' ? h : 'none');

/** The columns a bar is drawn from: not `raw`, `fields` or `links`, which dwarf them. */
const BAR_COLUMNS = {
  ref: workItems.ref,
  title: workItems.title,
  kind: workItems.kind,
  tracker: workItems.tracker,
  status: workItems.status,
  start: workItems.start,
  started: workItems.started,
  created: workItems.created,
  due: workItems.due,
};

/** The dates a timeline shows bars for: those that overlap [from, to], whole days (UTC). */
export interface TimelineWindow {
  from: string;
  to: string;
}

/** Days before and after today the timeline shows when the request names no window. */
export const WINDOW_DAYS = { before: 182, after: 365 };

const DAY_MS = 86_400_000;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The window a request asks for (`from`, `to` as YYYY-MM-DD), each bound defaulting to
 * WINDOW_DAYS around today; a malformed date or one before `from` is ignored.
 */
export function timelineWindow(q: { from?: string; to?: string }, now: Date): TimelineWindow {
  const day = (v: string | undefined) => (v && ISO_DAY.test(v) && !Number.isNaN(Date.parse(v)) ? v : null);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const from = day(q.from) ?? new Date(today - WINDOW_DAYS.before * DAY_MS).toISOString().slice(0, 10);
  const asked = day(q.to);
  const to =
    asked && asked >= from
      ? asked
      : new Date(Math.max(Date.parse(from), today) + WINDOW_DAYS.after * DAY_MS).toISOString().slice(0, 10);
  return { from, to };
}

/**
 * The epics and features in view (an item_rollups condition), with the columns a bar is drawn
 * from; in a window, only the bars overlapping it (a bar's start and end as loadBars draws them).
 */
async function loadBars(db: Db, where: SQL | undefined, window?: TimelineWindow): Promise<Bar[]> {
  const r = itemRollups;
  // From item_rollups alone (its container index holds them), so the window is applied before
  // any work_items row is read.
  const start = sql`coalesce(${r.start}, ${r.started}, ${r.created})`;
  const end = sql`greatest(coalesce(${r.due}, ${r.childDue}, ${start}), ${start})`;
  const rows = await db
    .select({ item: BAR_COLUMNS, health: rollups.health, reason: rollups.healthReason, childDue: r.childDue })
    .from(r)
    .innerJoin(workItems, eq(workItems.ref, r.ref))
    .leftJoin(rollups, sql`${rollups.scope} = 'epic:' || ${r.ref}`)
    .where(
      and(
        inArray(r.kind, ROADMAP_KINDS),
        sql`${r.statusCategory} <> 'removed'`,
        where,
        // Whole days in UTC, whatever the session's time zone.
        window
          ? sql`${start} < (${window.to}::date + 1)::timestamp at time zone 'UTC'
              and ${end} >= ${window.from}::date::timestamp at time zone 'UTC'`
          : undefined,
      ),
    );
  return rows.map(({ item, health, reason, childDue }) => {
    const start = iso(item.start) ?? iso(item.started) ?? iso(item.created)!;
    const end = iso(item.due) ?? iso(childDue) ?? start;
    return {
      ref: item.ref,
      title: item.title,
      kind: item.kind,
      tracker: item.tracker,
      status: item.status,
      health: healthOf(health),
      healthReason: reason ?? null,
      start,
      end: end < start ? start : end,
      startAssumed: item.start === null,
      noTarget: item.due === null,
      startKnown: item.start !== null || item.started !== null,
      endKnown: item.due !== null || childDue !== null,
      datesReversed: item.due !== null && item.start !== null && iso(item.due)! < iso(item.start)!,
      inCycle: false,
    };
  });
}

/**
 * Dependency edges with an end in view (`inView` of an alias of item_rollups, whose rows are
 * the live items), lifted to the nearest epic or feature (or the item itself when it has none):
 * the containers item_links keeps for each end (migration 0021, link_end_container).
 */
async function loadLiftedEdges(
  db: Db,
  inView: (t: typeof itemRollups) => SQL | undefined,
): Promise<{ from: string; to: string }[]> {
  const si = alias(itemRollups, 'si');
  const ti = alias(itemRollups, 'ti');
  const sIn = inView(si as unknown as typeof itemRollups) ?? sql`true`;
  const tIn = inView(ti as unknown as typeof itemRollups) ?? sql`true`;
  return orderedEdges(
    await queryRows<LiftedLink>(
      db,
      sql`select distinct l.source_container as a, l.target_container as b, l.type, l.relation
      from ${itemLinks} l
      join ${itemRollups} si on ${si.ref} = l.source
      join ${itemRollups} ti on ${ti.ref} = l.target
      where ${ORDERED_LINK} and ((${sIn}) or (${tIn}))`,
    ),
  );
}

/**
 * Dependency edges between the epics and features in `refs`, from the containers item_links
 * keeps for each end (migration 0021: the same lifting as loadLiftedEdges, stored): a link counts
 * when both its ends are live and sit under two of them, whoever owns the items linked.
 */
async function loadEdgesBetween(db: Db, refs: readonly string[]): Promise<{ from: string; to: string }[]> {
  if (refs.length === 0) return [];
  const list = textArray(refs);
  return orderedEdges(
    await queryRows<LiftedLink>(
      db,
      sql`select distinct source_container as a, target_container as b, type, relation from ${itemLinks}
      where source_container = any(${list}::text[]) and target_container = any(${list}::text[]) and ${ORDERED_LINK}`,
    ),
  );
}

type LiftedLink = { a: string; b: string; type: string; relation: string | null };

/** Lifted links (ORDERED_LINK rows) as edges from the work that must finish first, once each, in natural key order. */
function orderedEdges(rows: readonly LiftedLink[]): { from: string; to: string }[] {
  const seen = new Set<string>();
  const out: { from: string; to: string }[] = [];
  for (const r of rows) {
    const kind = r.type === 'cross_tracker' ? r.relation! : r.type;
    // `A blocks B`: A first. `A blocked_by B` / `A depends_on B`: B first.
    const [from, to] = kind === 'blocks' ? [r.a, r.b] : [r.b, r.a];
    if (from === to) continue;
    const k = `${from}\n${to}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ from, to });
  }
  return out.sort((x, y) => naturalRef(x.from, y.from) || naturalRef(x.to, y.to));
}

/** Strongly connected components with more than one node (Tarjan), each in natural key order. */
export function findCycles(nodes: readonly string[], edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  // Iterative, so a long chain of dependencies cannot overflow the call stack.
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { v: string; i: number }[] = [{ v: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const succ = next.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const scc: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          scc.push(w);
        } while (w !== top.v);
        if (scc.length > 1) out.push(scc.sort(naturalRef));
      }
    }
  }
  return out.sort((a, b) => naturalRef(a[0]!, b[0]!));
}

function countHealth(bars: readonly Bar[]): Record<Health, number> {
  const out: Record<Health, number> = { red: 0, amber: 0, green: 0, none: 0 };
  for (const b of bars) out[b.health]++;
  return out;
}

function mark(bars: Bar[], raw: { from: string; to: string }[]) {
  const byRef = new Map(bars.map((b) => [b.ref, b]));
  const cycles = findCycles(
    bars.map((b) => b.ref),
    raw,
  );
  const cyclic = new Map<string, number>();
  cycles.forEach((c, i) => {
    for (const r of c) cyclic.set(r, i);
  });
  for (const b of bars) b.inCycle = cyclic.has(b.ref);
  const edges: Edge[] = raw.map((e) => {
    const a = byRef.get(e.from)!;
    const b = byRef.get(e.to)!;
    const ci = cyclic.get(e.from);
    const against = !a.endKnown ? null : b.startKnown ? 'start' : b.endKnown ? 'target' : null;
    return {
      from: e.from,
      to: e.to,
      crossTracker: a.tracker !== b.tracker,
      violation: against === 'start' ? a.end > b.start : against === 'target' ? a.end > b.end : false,
      against,
      inCycle: ci !== undefined && ci === cyclic.get(e.to),
    };
  });
  return { edges, cycles };
}

const HEALTH_RANK: Record<Health, number> = { red: 0, amber: 1, green: 2, none: 3 };

export async function loadTimeline(
  db: Db,
  config: Config | null,
  filter: WorkspaceFilter,
  now: Date,
  asked: { from?: string; to?: string } = {},
): Promise<Timeline> {
  const inView = (t: typeof itemRollups) => rollupCondition(config, filter, itemRollupScope(t));
  const window = timelineWindow(asked, now);
  const bars = (await loadBars(db, inView(itemRollups), window)).sort(
    (a, b) =>
      a.start.localeCompare(b.start) || HEALTH_RANK[a.health] - HEALTH_RANK[b.health] || naturalRef(a.ref, b.ref),
  );
  const [raw] = await Promise.all([
    loadEdgesBetween(
      db,
      bars.map((b) => b.ref),
    ),
    attachP85(db, bars),
  ]);
  const { edges, cycles } = mark(bars, raw);
  const today = now.toISOString();
  const dates = [today, ...bars.flatMap((b) => (b.p85 ? [b.start, b.end, b.p85] : [b.start, b.end]))].sort();
  const violations = edges.filter((e) => e.violation);
  return {
    today,
    window,
    from: dates[0]!,
    to: dates[dates.length - 1]!,
    bars,
    edges,
    violations,
    cycles,
    headline: { bars: bars.length, health: countHealth(bars), violations: violations.length, cycles: cycles.length },
  };
}

export interface DependencyMap {
  nodes: (Bar & { layer: number; row: number })[];
  edges: Edge[];
  cycles: string[][];
  headline: { nodes: number; edges: number; crossTracker: number; external: number; cycles: number };
}

/**
 * The program's dependency graph between epics and features (plus anything outside the program
 * they depend on or that depends on them), laid out in layers by longest path: predecessors to
 * the left. Cycles are cut at the edge that closes them, only for layout.
 */
export async function loadDependencyMap(
  db: Db,
  config: Config | null,
  filter: WorkspaceFilter,
): Promise<DependencyMap> {
  const inView = (t: typeof itemRollups) => rollupCondition(config, filter, itemRollupScope(t));
  const raw = await loadLiftedEdges(db, inView);
  const involved = new Set(raw.flatMap((e) => [e.from, e.to]));
  // The bars of the edges' ends alone, not of every epic and feature in view.
  const ours =
    involved.size === 0 ? [] : await loadBars(db, and(inView(itemRollups), inList(itemRollups.ref, [...involved])));
  const mine = new Set(ours.map((b) => b.ref));
  const missing = [...involved].filter((r) => !mine.has(r));
  const others = missing.length === 0 ? [] : (await loadBarsOf(db, missing)).map((b) => ({ ...b, external: true }));
  const bars = [...ours.filter((b) => involved.has(b.ref)), ...others].sort((a, b) => naturalRef(a.ref, b.ref));
  const present = new Set(bars.map((b) => b.ref));
  const usable = raw.filter((e) => present.has(e.from) && present.has(e.to));
  const { edges, cycles } = mark(bars, usable);
  const layer = layers(
    bars.map((b) => b.ref),
    usable,
  );
  const rows = new Map<number, number>();
  const nodes = bars.map((b) => {
    const l = layer.get(b.ref) ?? 0;
    const r = rows.get(l) ?? 0;
    rows.set(l, r + 1);
    return { ...b, layer: l, row: r };
  });
  return {
    nodes,
    edges,
    cycles,
    headline: {
      nodes: nodes.length,
      edges: edges.length,
      crossTracker: edges.filter((e) => e.crossTracker).length,
      external: nodes.filter((n) => n.external).length,
      cycles: cycles.length,
    },
  };
}

async function loadBarsOf(db: Db, refs: string[]): Promise<Bar[]> {
  // Items outside the view may be of any kind (a story another program's epic waits for).
  const rows = await db
    .select({ item: BAR_COLUMNS, health: rollups.health, reason: rollups.healthReason })
    .from(workItems)
    .leftJoin(rollups, sql`${rollups.scope} = 'epic:' || ${workItems.ref}`)
    .where(inArray(workItems.ref, refs));
  return rows.map(({ item, health, reason }) => {
    const start = iso(item.start) ?? iso(item.started) ?? iso(item.created)!;
    const end = iso(item.due) ?? start;
    return {
      ref: item.ref,
      title: item.title,
      kind: item.kind,
      tracker: item.tracker,
      status: item.status,
      health: healthOf(health),
      healthReason: reason ?? null,
      start,
      end: end < start ? start : end,
      startAssumed: item.start === null,
      noTarget: item.due === null,
      startKnown: item.start !== null || item.started !== null,
      endKnown: item.due !== null,
      datesReversed: false,
      inCycle: false,
    };
  });
}

/** Longest-path layers with back edges (found by DFS) ignored, so cycles still lay out. */
export function layers(nodes: readonly string[], edges: readonly { from: string; to: string }[]): Map<string, number> {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 1 | 2>();
  const order: string[] = [];
  const forward: { from: string; to: string }[] = [];
  for (const root of nodes) {
    if (state.has(root)) continue;
    const work: { v: string; i: number }[] = [{ v: root, i: 0 }];
    state.set(root, 1);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const succ = next.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++]!;
        if (state.get(w) === 1) continue; // a back edge: it closes a cycle
        forward.push({ from: top.v, to: w });
        if (!state.has(w)) {
          state.set(w, 1);
          work.push({ v: w, i: 0 });
        }
        continue;
      }
      state.set(top.v, 2);
      order.push(top.v);
      work.pop();
    }
  }
  const layer = new Map<string, number>(nodes.map((n) => [n, 0]));
  const incoming = new Map<string, string[]>();
  for (const e of forward) incoming.set(e.to, [...(incoming.get(e.to) ?? []), e.from]);
  for (const v of order.reverse()) {
    for (const p of incoming.get(v) ?? []) layer.set(v, Math.max(layer.get(v)!, layer.get(p)! + 1));
  }
  return layer;
}
