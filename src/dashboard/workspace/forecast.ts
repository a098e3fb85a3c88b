// What the workspace shows of the forecasts (issue 26.8): a burn-up per epic and per program
// with the forecast cone (P50/P85/P95), and the slip table against a chosen baseline. Read from
// the stored forecasts and the items' history; nothing is simulated here, so a page shows
// exactly the forecast the API lists and the rules judged.
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { queryRows } from '../../../db/query.ts';
import { baselines, forecasts, itemHistory, workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { listBaselines, type SlipRow, slipAgainst } from '../../forecast/baselines.ts';
import { categoryAt, FLOW_KINDS, type FlowItem } from '../../forecast/throughput.ts';
import { compareNatural } from '../../workspace/metrics.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** The burn-up looks a quarter back at most: older weeks squeeze the cone into a sliver. */
const MAX_WEEKS = 13;

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

type LeafRow = {
  ref: string;
  kind: string;
  parent: string | null;
  status_category: string;
  points: number | null;
  created: string;
  started: string | null;
  resolved: string | null;
  transitions: [number, string][] | string | null;
};

const iso = (v: string | null) => (v === null ? null : new Date(v).toISOString());

function toFlow(r: LeafRow): FlowItem {
  return {
    ref: r.ref,
    team: '',
    kind: r.kind,
    parent: r.parent,
    statusCategory: r.status_category,
    points: r.points,
    created: new Date(r.created).toISOString(),
    started: iso(r.started),
    resolved: iso(r.resolved),
    due: null,
    transitions: typeof r.transitions === 'string' ? JSON.parse(r.transitions) : r.transitions,
  };
}

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

const leafColumns = sql`w.ref, w.kind, w.parent, w.status_category, w.points, w.created, w.started, w.resolved, h.transitions`;

/** Leaf work (stories, bugs, tasks) at any depth under the epic or feature. */
async function epicLeaves(db: Db, ref: string): Promise<FlowItem[]> {
  const rows = await queryRows<LeafRow>(
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
  return rows.map(toFlow);
}

/** Leaf work of the program's projects, as the forecaster groups a program. */
async function programLeaves(db: Db, include: { connection: string; project: string }[]): Promise<FlowItem[]> {
  if (include.length === 0) return [];
  const rows = await queryRows<LeafRow>(
    db,
    sql`select ${leafColumns} from ${workItems} w left join ${itemHistory} h on h.ref = w.ref
        where w.deleted_at is null
          and w.kind in (${sql.join(
            FLOW_KIND_LIST.map((k) => sql`${k}`),
            sql`, `,
          )})
          and (${sql.join(
            include.map((i) => sql`(w.connection = ${i.connection} and w.project = ${i.project})`),
            sql` or `,
          )})`,
  );
  return rows.map(toFlow);
}

/** Week-end figures from the leaves' history: done by then, and the scope not removed by then. */
export function burnUpSeries(
  leaves: readonly FlowItem[],
  unit: 'items' | 'points',
  now: Date,
): Pick<BurnUp, 'weeks' | 'doneNow' | 'scopeNow'> {
  const weight = (l: FlowItem) => (unit === 'points' ? (l.points ?? 0) : 1);
  const at = (t: number) => {
    let done = 0;
    let scope = 0;
    for (const l of leaves) {
      // Removed with no record of when: the forecaster counts it as never started, but a
      // burn-up would show scope that is gone today, so it is left out.
      if (l.statusCategory === 'removed' && !l.resolved && !l.transitions?.length) continue;
      const c = categoryAt(l, t);
      if (c === null || c === 'removed') continue;
      scope += weight(l);
      if (c === 'done') done += weight(l);
    }
    return { done: round(done), scope: round(scope) };
  };
  const t = now.getTime();
  const first = Math.min(t, ...leaves.map((l) => Date.parse(l.created)));
  const count = Math.min(MAX_WEEKS, Math.max(1, Math.ceil((t - first) / WEEK)));
  const weeks: BurnUp['weeks'] = [];
  for (let i = count; i >= 1; i--) {
    const w = t - i * WEEK;
    weeks.push({ at: new Date(w).toISOString(), ...at(w) });
  }
  const nowFigures = at(t);
  weeks.push({ at: now.toISOString(), ...nowFigures });
  return { weeks, doneNow: nowFigures.done, scopeNow: nowFigures.scope };
}

const round = (n: number) => Math.round(n * 100) / 100;

async function burnUpOf(db: Db, scope: string, leaves: FlowItem[], now: Date): Promise<BurnUp> {
  const forecast = await storedForecast(db, scope);
  const unit = forecast?.unit === 'points' ? 'points' : 'items';
  return { scope, unit, today: now.toISOString(), ...burnUpSeries(leaves, unit, now), forecast };
}

export async function loadEpicBurnUp(db: Db, ref: string, now: Date): Promise<BurnUp> {
  return burnUpOf(db, `epic:${ref}`, await epicLeaves(db, ref), now);
}

export async function loadProgramBurnUp(db: Db, config: Config | null, id: string, now: Date): Promise<BurnUp | null> {
  const program = config?.portfolio.programs.find((p) => p.id === id);
  if (!program) return null;
  return burnUpOf(db, `program:${id}`, await programLeaves(db, program.include), now);
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
