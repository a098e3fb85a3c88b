// What the workspace shows of the forecasts (issue 26.8): a burn-up per epic and per program
// with the forecast cone (P50/P85/P95), and the slip table against a chosen baseline. Read from
// the stored forecasts and the items' history; nothing is simulated here, so a page shows
// exactly the forecast the API lists and the rules judged.
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { queryRows } from '../../../db/query.ts';
import { baselines, forecasts, itemHistory, itemRollups, workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { listBaselines, type SlipRow, slipAgainst } from '../../forecast/baselines.ts';
import {
  BURN_UP_WEEKS,
  type BurnUpLeaf,
  type BurnUpLeafRow,
  burnUpLeafOf,
  leftOut,
  round,
  seriesOfSteps,
  storedBurnUpSteps,
} from '../../forecast/burnup.ts';
import { categoriesAt, FLOW_KINDS } from '../../forecast/throughput.ts';
import { compareNatural } from '../../workspace/metrics.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

export interface StoredForecast {
  status: string;
  confidence: string;
  unit: string;
  remaining: number;
  p50: string | null;
  p85: string | null;
  p95: string | null;
  target: string | null;
  onTimeProbability: number | null;
  weeksOfHistory: number;
  reason: string | null;
}

export interface BurnUp {
  /** `epic:<ref>` or `program:<id>`, as the forecasts are stored. */
  scope: string;
  /** Points when the forecast counts points, else items. */
  unit: 'items' | 'points';
  today: string;
  /** End of each week, oldest first: work done by then and the scope that existed then. */
  weeks: { at: string; done: number; scope: number }[];
  doneNow: number;
  scopeNow: number;
  forecast: StoredForecast | null;
}

const FLOW_KIND_LIST = [...FLOW_KINDS];

const iso = (v: string | null) => (v === null ? null : new Date(v).toISOString());

async function storedForecast(db: Db, scope: string): Promise<StoredForecast | null> {
  const [f] = await db
    .select({
      status: forecasts.status,
      confidence: forecasts.confidence,
      unit: forecasts.unit,
      remaining: forecasts.remaining,
      p50: forecasts.p50,
      p85: forecasts.p85,
      p95: forecasts.p95,
      target: forecasts.target,
      onTimeProbability: forecasts.onTimeProbability,
      weeksOfHistory: forecasts.weeksOfHistory,
      reason: forecasts.reason,
    })
    .from(forecasts)
    .where(eq(forecasts.scope, scope));
  return f ?? null;
}

// Dates as milliseconds: a program has tens of thousands of leaves, each read at every week.
const epochMs = (c: string) => sql.raw(`(extract(epoch from w.${c}) * 1000)::float8 as ${c}`);
const leafColumns = sql`w.status_category, w.points, ${epochMs('created')}, ${epochMs('started')}, ${epochMs('resolved')},
  h.transitions`;

/** Leaf work (stories, bugs, tasks) at any depth under the epic or feature. */
async function epicLeaves(db: Db, ref: string): Promise<BurnUpLeaf[]> {
  const rows = await queryRows<BurnUpLeafRow>(
    db,
    sql`with recursive tree(ref, depth) as (
          select ${workItems.ref}, 0 from ${workItems} where ${workItems.parent} = ${ref} and ${workItems.deletedAt} is null
          union all
          select c.ref, t.depth + 1 from ${workItems} c join tree t on c.parent = t.ref
          where c.deleted_at is null and t.depth < 20
        )
        select ${leafColumns} from ${workItems} w join (select distinct ref from tree) t on t.ref = w.ref
        left join ${itemHistory} h on h.ref = w.ref
        where w.kind in (${sql.join(
          FLOW_KIND_LIST.map((k) => sql`${k}`),
          sql`, `,
        )})`,
  );
  return rows.map(burnUpLeafOf);
}

/**
 * Leaf work without history, grouped by the weeks (counted back from now, up to BURN_UP_WEEKS)
 * since it was created, resolved and started: its category at a week's end follows from its
 * dates alone (categoryAt), so a program's tens of thousands of such leaves reach the series
 * as a few hundred groups.
 */
export type LeafGroup = {
  /** Left out of the series (removed with no record of when), but counted for its first week. */
  skip: boolean;
  /** Weeks back from now at which it existed (created by then); -1: created after now. */
  created: number;
  /** Done leaves: weeks back from now at which they were done; null otherwise. */
  done: number | null;
  /** Removed leaves: weeks back at which they were resolved, and at which they were started. */
  removed: number | null;
  started: number | null;
  items: number;
  points: number;
  /** The earliest creation among them, milliseconds since the epoch. */
  first: number;
};

const FLOW = sql.join(
  FLOW_KIND_LIST.map((k) => sql`${k}`),
  sql`, `,
);

/** Leaf work of the program's projects, as the forecaster groups a program, from item_rollups. */
async function programLeaves(
  db: Db,
  include: { connection: string; project: string }[],
  now: Date,
): Promise<{ leaves: BurnUpLeaf[]; groups: LeafGroup[] }> {
  if (include.length === 0) return { leaves: [], groups: [] };
  const inProgram = sql`w.kind in (${FLOW}) and (${sql.join(
    include.map((i) => sql`(w.connection = ${i.connection} and w.project = ${i.project})`),
    sql` or `,
  )})`;
  const withHistory = sql`exists (select 1 from ${itemHistory} h where h.ref = w.ref and jsonb_array_length(h.transitions) > 0)`;
  // Null for no date: least() and greatest() would skip a null and answer their bound.
  const weeksBack = (column: string) =>
    sql.raw(
      `case when w.${column} is not null then greatest(-1, least(${BURN_UP_WEEKS}, floor(date_part('epoch', '${now.toISOString()}'::timestamptz - w.${column}) * 1000 / ${WEEK})))::int end`,
    );
  const [rows, groups] = await Promise.all([
    queryRows<BurnUpLeafRow>(
      db,
      sql`select ${leafColumns} from ${itemRollups} w join ${itemHistory} h on h.ref = w.ref
        where ${inProgram} and jsonb_array_length(h.transitions) > 0`,
    ),
    queryRows<LeafGroup>(
      db,
      sql`select w.status_category = 'removed' and w.resolved is null as skip,
          ${weeksBack('created')} as created,
          case when w.status_category = 'done' then ${weeksBack('resolved')} end as done,
          case when w.status_category = 'removed' then ${weeksBack('resolved')} end as removed,
          case when w.status_category = 'removed' then ${weeksBack('started')} end as started,
          count(*)::int as items, coalesce(sum(w.points), 0)::float8 as points,
          (extract(epoch from min(w.created)) * 1000)::float8 as first
        from ${itemRollups} w where ${inProgram} and not ${withHistory}
        group by 1, 2, 3, 4, 5`,
    ),
  ]);
  return {
    leaves: rows.map(burnUpLeafOf),
    groups: groups.map((g) => ({ ...g, items: Number(g.items), points: Number(g.points), first: Number(g.first) })),
  };
}

/** Week-end figures from the leaves' history: done by then, and the scope not removed by then. */
export function burnUpSeries(
  leaves: readonly BurnUpLeaf[],
  unit: 'items' | 'points',
  now: Date,
  groups: readonly LeafGroup[] = [],
): Pick<BurnUp, 'weeks' | 'doneNow' | 'scopeNow'> {
  const weight = (l: BurnUpLeaf) => (unit === 'points' ? (l.points ?? 0) : 1);
  const t = now.getTime();
  let first = t;
  for (const l of leaves) first = Math.min(first, l.created);
  for (const g of groups) first = Math.min(first, g.first);
  const count = Math.min(BURN_UP_WEEKS, Math.max(1, Math.ceil((t - first) / WEEK)));
  // Each week's end, oldest first, then now.
  const times = [...Array.from({ length: count }, (_, i) => t - (count - i) * WEEK), t];
  const done = times.map(() => 0);
  const scope = times.map(() => 0);
  for (const l of leaves) {
    // Removed with no record of when: the forecaster counts it as never started, but a
    // burn-up would show scope that is gone today, so it is left out.
    if (leftOut(l)) continue;
    const w = weight(l);
    categoriesAt(l, times).forEach((c, i) => {
      if (c === null || c === 'removed') return;
      scope[i]! += w;
      if (c === 'done') done[i]! += w;
    });
  }
  for (const g of groups) {
    if (g.skip) continue;
    const w = unit === 'points' ? g.points : g.items;
    for (let i = 0; i < times.length; i++) {
      // categoryAt from the dates, at `back` weeks before now: created by then; done once
      // resolved; removed once resolved unless started by then (then it is in progress).
      const back = times.length - 1 - i;
      if (back > g.created) continue;
      if (g.removed !== null && back <= g.removed && !(g.started !== null && back <= g.started)) continue;
      scope[i]! += w;
      if (g.done !== null && back <= g.done) done[i]! += w;
    }
  }
  const weeks: BurnUp['weeks'] = times.map((at, i) => ({
    at: new Date(at).toISOString(),
    done: round(done[i]!),
    scope: round(scope[i]!),
  }));
  return { weeks, doneNow: weeks.at(-1)!.done, scopeNow: weeks.at(-1)!.scope };
}

async function burnUpOf(
  db: Db,
  scope: string,
  work: Promise<{ leaves: BurnUpLeaf[]; groups?: LeafGroup[] }>,
  now: Date,
): Promise<BurnUp> {
  const [forecast, { leaves, groups }] = await Promise.all([storedForecast(db, scope), work]);
  const unit = forecast?.unit === 'points' ? 'points' : 'items';
  return { scope, unit, today: now.toISOString(), ...burnUpSeries(leaves, unit, now, groups), forecast };
}

export async function loadEpicBurnUp(db: Db, ref: string, now: Date): Promise<BurnUp> {
  return burnUpOf(
    db,
    `epic:${ref}`,
    epicLeaves(db, ref).then((leaves) => ({ leaves })),
    now,
  );
}

/**
 * A program's burn-up: from its stored steps (src/forecast/burnup.ts) when they were computed for
 * its projects as they are and reach back to `now`'s first week, else (or with `live`) from every
 * leaf of the program.
 */
export async function loadProgramBurnUp(
  db: Db,
  config: Config | null,
  id: string,
  now: Date,
  opts: { live?: boolean } = {},
): Promise<BurnUp | null> {
  const program = config?.portfolio.programs.find((p) => p.id === id);
  if (!program) return null;
  const scope = `program:${id}`;
  if (!opts.live) {
    const [forecast, steps] = await Promise.all([storedForecast(db, scope), storedBurnUpSteps(db, program)]);
    const unit = forecast?.unit === 'points' ? 'points' : 'items';
    const series = steps && seriesOfSteps(steps, unit, now);
    if (series) return { scope, unit, today: now.toISOString(), ...series, forecast };
  }
  return burnUpOf(db, scope, programLeaves(db, program.include, now), now);
}

/**
 * The stored P85 of each roadmap bar, for the timeline's marker: how far it falls after (or
 * before) the bar's own target. Bars without a stored forecast keep no marker.
 */
export async function attachP85(
  db: Db,
  bars: {
    ref: string;
    end: string;
    noTarget: boolean;
    p85?: string | null;
    p85VsTarget?: number | null;
    onTimeProbability?: number | null;
  }[],
): Promise<void> {
  const byScope = new Map(bars.map((b) => [`epic:${b.ref}`, b]));
  const scopes = [...byScope.keys()];
  for (let i = 0; i < scopes.length; i += 1000) {
    const rows = await db
      .select({ scope: forecasts.scope, p85: forecasts.p85, onTime: forecasts.onTimeProbability })
      .from(forecasts)
      .where(inArray(forecasts.scope, scopes.slice(i, i + 1000)));
    for (const r of rows) {
      const b = byScope.get(r.scope);
      if (!b || !r.p85) continue;
      b.p85 = r.p85;
      b.onTimeProbability = r.onTime;
      b.p85VsTarget = b.noTarget ? null : Math.round((Date.parse(r.p85) - Date.parse(b.end.slice(0, 10))) / DAY);
    }
  }
}

// ── Slip against a baseline ─────────────────────────────────────────────────────────────

export interface SlipViewRow extends SlipRow {
  title: string | null;
  kind: string | null;
  tracker: string | null;
}

export interface SlipView {
  baselines: { name: string; program: string | null; asOf: string }[];
  /** The baseline asked for, when it exists. */
  baseline: { name: string; program: string | null; asOf: string } | null;
  /** The name asked for that no baseline has, to say so. */
  unknown: string | null;
  rows: SlipViewRow[];
  headline: {
    epics: number;
    targetSlipped: number;
    forecastSlipped: number;
    added: number;
    removed: number;
  };
}

/**
 * The slip table for `?baseline=NAME`: every epic captured in it with its target and forecast
 * slip in days and the leaf items added and removed since. The most-slipped first (by forecast
 * slip, then target slip), then natural ref order.
 */
export async function loadSlip(db: Db, name: string | undefined): Promise<SlipView> {
  const all = (await listBaselines(db)).map((b) => ({ name: b.name, program: b.program, asOf: iso(b.asOf)! }));
  const empty = { epics: 0, targetSlipped: 0, forecastSlipped: 0, added: 0, removed: 0 };
  if (!name) return { baselines: all, baseline: null, unknown: null, rows: [], headline: empty };
  const [exists] = await db.select({ id: baselines.id }).from(baselines).where(eq(baselines.name, name));
  if (!exists) return { baselines: all, baseline: null, unknown: name, rows: [], headline: empty };
  const slip = await slipAgainst(db, name);
  const refs = slip.rows.map((r) => r.ref);
  const info = new Map<string, { title: string; kind: string; tracker: string }>();
  for (let i = 0; i < refs.length; i += 1000) {
    const rows = await db
      .select({ ref: workItems.ref, title: workItems.title, kind: workItems.kind, tracker: workItems.tracker })
      .from(workItems)
      .where(inArray(workItems.ref, refs.slice(i, i + 1000)));
    for (const r of rows) info.set(r.ref, r);
  }
  const rows = slip.rows
    .map((r) => ({
      ...r,
      title: info.get(r.ref)?.title ?? null,
      kind: info.get(r.ref)?.kind ?? null,
      tracker: info.get(r.ref)?.tracker ?? null,
    }))
    .sort(
      (a, b) =>
        (b.forecastSlipDays ?? Number.NEGATIVE_INFINITY) - (a.forecastSlipDays ?? Number.NEGATIVE_INFINITY) ||
        (b.targetSlipDays ?? Number.NEGATIVE_INFINITY) - (a.targetSlipDays ?? Number.NEGATIVE_INFINITY) ||
        compareNatural(a.ref, b.ref),
    );
  return {
    baselines: all,
    baseline: { name: slip.baseline.name, program: slip.baseline.program, asOf: iso(slip.baseline.asOf)! },
    unknown: null,
    rows,
    headline: {
      epics: rows.length,
      targetSlipped: rows.filter((r) => (r.targetSlipDays ?? 0) > 0).length,
      forecastSlipped: rows.filter((r) => (r.forecastSlipDays ?? 0) > 0).length,
      added: rows.reduce((n, r) => n + r.added.length, 0),
      removed: rows.reduce((n, r) => n + r.removed.length, 0),
    },
  };
}
