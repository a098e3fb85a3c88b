// A program's burn-up, stored (burn_ups) so the program page reads one row instead of every leaf
// of the program. What is stored does not depend on when it is read: a burn-up's figures at any
// instant T (work done by T, scope that existed and was not removed by T) add up each leaf's
// contribution, which only changes where categoriesAt's answer does — at the leaf's creation, its
// start and resolution dates, its history's transitions. So each leaf becomes a few signed steps
// in time, a program the sum of its leaves' steps: the figures before `cutoff` as one base, the
// later ones step by step. Read at any `now` from a week before it was computed on, this gives
// the week ends the live computation reads, with the same figures (a test compares them).
//
// Written with the program rollups (src/rollups/compute.ts, whenever they are computed: every
// sync pass with changes and the webhook path's deferred refresh) and by the forecast step when
// only histories moved; a row whose program's projects changed since is not used.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { inList, queryRows } from '../../db/query.ts';
import { burnUps, itemHistory, itemRollups } from '../../db/schema.ts';
import { hashOf } from '../core/hash.ts';
import { parseJson } from '../core/json.ts';
import { categoriesAt, FLOW_KINDS, type TimedItem, WEEK_MS } from './throughput.ts';

/** The burn-up looks a quarter back at most: older weeks squeeze the cone into a sliver. */
export const BURN_UP_WEEKS = 13;
/** Steps are kept from this long before the computation: a reader's clock may run a week behind. */
const KEPT_MS = (BURN_UP_WEEKS + 1) * WEEK_MS;

/** A leaf of a burn-up: what categoriesAt reads, and its size. */
export interface BurnUpLeaf extends TimedItem {
  points: number | null;
}

/** Scope and done, in items and in points: [scope items, done items, scope points, done points]. */
export type BurnUpFigures = [number, number, number, number];

export interface BurnUpSteps {
  /** Milliseconds since the epoch: the figures at `cutoff` are `base`, later ones add `steps`. */
  cutoff: number;
  /** The earliest creation among the leaves (where the weeks start); null without leaves. */
  first: number | null;
  base: BurnUpFigures;
  /** `[at, …change]`, ascending by `at`, every `at` after `cutoff`: the change from `at` on. */
  steps: [number, ...BurnUpFigures][];
}

/** Removed with no record of when: a burn-up would show scope that is gone today, so it is left out. */
export const leftOut = (l: BurnUpLeaf) =>
  l.statusCategory === 'removed' && l.resolved === null && !l.transitions?.length;

/**
 * The instants at which categoriesAt's answer for `l` can change, ascending, from its creation
 * on: every date and transition it reads (a history's leaf reads its start date too, before the
 * first transition).
 */
function changesOf(l: BurnUpLeaf): number[] {
  const at = new Set<number>([l.created]);
  if (l.transitions) for (const [min] of l.transitions) at.add(min * 60_000);
  if (l.started !== null) at.add(l.started);
  if (l.resolved !== null) at.add(l.resolved);
  return [...at].filter((t) => t >= l.created).sort((a, b) => a - b);
}

/** Steps being summed: those up to `cutoff` into the base, later ones by their instant. */
interface StepSums {
  cutoff: number;
  first: number | null;
  base: BurnUpFigures;
  byTime: Map<number, BurnUpFigures>;
}

const stepSums = (cutoff: number): StepSums => ({ cutoff, first: null, base: [0, 0, 0, 0], byTime: new Map() });

function addStep(s: StepSums, at: number, change: BurnUpFigures): void {
  let f = s.base;
  if (at > s.cutoff) {
    f = s.byTime.get(at) ?? [0, 0, 0, 0];
    s.byTime.set(at, f);
  }
  for (let i = 0; i < 4; i++) f[i]! += change[i]!;
}

const addFirst = (s: StepSums, created: number | null) => {
  if (created !== null) s.first = s.first === null ? created : Math.min(s.first, created);
};

/** Each leaf's changes of scope and done work, where categoriesAt's answer moves. */
function addLeaves(s: StepSums, leaves: readonly BurnUpLeaf[]): void {
  for (const l of leaves) {
    addFirst(s, l.created);
    if (leftOut(l)) continue;
    const points = l.points ?? 0;
    const times = changesOf(l);
    let scope = false;
    let done = false;
    categoriesAt(l, times).forEach((c, i) => {
      const nowScope = c !== null && c !== 'removed';
      const nowDone = c === 'done';
      if (nowScope === scope && nowDone === done) return;
      const ds = Number(nowScope) - Number(scope);
      const dd = Number(nowDone) - Number(done);
      scope = nowScope;
      done = nowDone;
      addStep(s, times[i]!, [ds, dd, ds * points, dd * points]);
    });
  }
}

function stepsOf(s: StepSums): BurnUpSteps {
  const steps = [...s.byTime]
    .filter(([, f]) => f.some((x) => x !== 0))
    .sort((a, b) => a[0] - b[0])
    .map(([at, f]): [number, ...BurnUpFigures] => [at, ...f]);
  return { cutoff: s.cutoff, first: s.first, base: s.base, steps };
}

/** The leaves' figures as steps in time, those up to `cutoff` summed into the base. */
export function burnUpSteps(leaves: readonly BurnUpLeaf[], cutoff: number): BurnUpSteps {
  const s = stepSums(cutoff);
  addLeaves(s, leaves);
  return stepsOf(s);
}

export interface BurnUpSeries {
  /** End of each week, oldest first, then now: work done by then and the scope that existed then. */
  weeks: { at: string; done: number; scope: number }[];
  doneNow: number;
  scopeNow: number;
}

/**
 * The week ends before `now` (as many as the leaves' age asks, up to BURN_UP_WEEKS) and now, with
 * each one's figures; null when `now` is too early for what the steps kept.
 */
export function seriesOfSteps(s: BurnUpSteps, unit: 'items' | 'points', now: Date): BurnUpSeries | null {
  const t = now.getTime();
  if (t - BURN_UP_WEEKS * WEEK_MS < s.cutoff) return null;
  const first = Math.min(t, s.first ?? t);
  const count = Math.min(BURN_UP_WEEKS, Math.max(1, Math.ceil((t - first) / WEEK_MS)));
  const times = [...Array.from({ length: count }, (_, i) => t - (count - i) * WEEK_MS), t];
  // Items or points: the first or the second pair of figures (each step's come after its time).
  const o = unit === 'points' ? 2 : 0;
  let scope = s.base[o]!;
  let done = s.base[o + 1]!;
  let next = 0;
  const weeks = times.map((at) => {
    for (; next < s.steps.length && s.steps[next]![0] <= at; next++) {
      scope += s.steps[next]![o + 1]!;
      done += s.steps[next]![o + 2]!;
    }
    return { at: new Date(at).toISOString(), done: round(done), scope: round(scope) };
  });
  return { weeks, doneNow: weeks.at(-1)!.done, scopeNow: weeks.at(-1)!.scope };
}

export const round = (n: number) => Math.round(n * 100) / 100;

// ── Stored ────────────────────────────────────────────────────────────────────────────────

export interface ProgramProjects {
  id: string;
  include: readonly { connection: string; project: string }[];
}

/** What a stored row was computed for: a program whose projects changed is computed live until the next refresh. */
const membershipOf = (p: ProgramProjects) =>
  hashOf([...p.include].map((i) => [i.connection, i.project]).sort((a, b) => (a.join('\0') < b.join('\0') ? -1 : 1)));

/** A leaf as the burn-up reads it from item_rollups and item_history (times in epoch ms). */
export type BurnUpLeafRow = {
  status_category: string;
  points: number | null;
  created: number;
  started: number | null;
  resolved: number | null;
  transitions: [number, string][] | string | null;
};

/** A leaf row as a burn-up leaf (a driver may hand the history over as JSON text). */
export const burnUpLeafOf = (r: BurnUpLeafRow): BurnUpLeaf => ({
  statusCategory: r.status_category,
  points: r.points,
  created: Number(r.created),
  started: r.started === null ? null : Number(r.started),
  resolved: r.resolved === null ? null : Number(r.resolved),
  transitions: typeof r.transitions === 'string' ? (parseJson(r.transitions) as [number, string][]) : r.transitions,
});

type LeafRow = BurnUpLeafRow & { connection: string; project: string };

type GroupRow = {
  connection: string;
  project: string;
  /** `step` (at `at`), `base` (at `cutoff` or before) or `first` (the earliest creation, in `at`). */
  row: 'step' | 'base' | 'first';
  at: number | null;
  scope_items: number;
  done_items: number;
  scope_points: number;
  done_points: number;
};

// Dates as milliseconds, as the live burn-up reads them (src/dashboard/workspace/forecast.ts).
const epochMs = (c: string) => sql.raw(`(extract(epoch from w.${c}) * 1000)::float8`);
const FLOW = sql.join(
  [...FLOW_KINDS].map((k) => sql`${k}`),
  sql`, `,
);
const withHistory = sql`exists (select 1 from ${itemHistory} h where h.ref = w.ref and jsonb_array_length(h.transitions) > 0)`;

/**
 * Leaf work of these projects, from item_rollups as the live burn-up reads it: the leaves with a
 * history one by one, the others (most of them) as their steps summed per project in SQL. Without
 * a history a leaf's category follows from its dates (categoriesAt): in scope from its creation,
 * done from its resolution if done; removed from its resolution unless started by then, and in
 * progress again once started; removed without a date it is left out.
 */
async function projectLeaves(
  db: Db,
  projects: readonly { connection: string; project: string }[],
  cutoff: number,
): Promise<{ leaves: (BurnUpLeaf & { key: string })[]; groups: GroupRow[] }> {
  if (projects.length === 0) return { leaves: [], groups: [] };
  const inProjects = sql`w.kind in (${FLOW}) and (${sql.join(
    projects.map((i) => sql`(w.connection = ${i.connection} and w.project = ${i.project})`),
    sql` or `,
  )})`;
  const [rows, groups] = await Promise.all([
    queryRows<LeafRow>(
      db,
      sql`select w.connection, w.project, w.status_category, w.points, ${epochMs('created')} as created,
            ${epochMs('started')} as started, ${epochMs('resolved')} as resolved, h.transitions
          from ${itemRollups} w join ${itemHistory} h on h.ref = w.ref
          where ${inProjects} and jsonb_array_length(h.transitions) > 0`,
    ),
    queryRows<GroupRow>(
      db,
      sql`with leaf as (
            select w.connection, w.project, w.status_category as cat, coalesce(w.points, 0)::float8 as p,
              ${epochMs('created')} as c, ${epochMs('started')} as s, ${epochMs('resolved')} as r
            from ${itemRollups} w where ${inProjects} and not ${withHistory}
          ), change as (
            select connection, project, c as at, 1 as ds, 0 as dd, p from leaf where not (cat = 'removed' and r is null)
            union all
            select connection, project, greatest(c, r), 0, 1, p from leaf where cat = 'done' and r is not null
            union all
            select connection, project, greatest(c, r), -1, 0, p from leaf
            where cat = 'removed' and r is not null and not coalesce(s <= greatest(c, r), false)
            union all
            select connection, project, s, 1, 0, p from leaf where cat = 'removed' and r is not null and s > greatest(c, r)
          )
          select connection, project, case when at > ${cutoff}::float8 then 'step' else 'base' end as row,
            case when at > ${cutoff}::float8 then at end as at,
            sum(ds)::int as scope_items, sum(dd)::int as done_items,
            sum(ds * p)::float8 as scope_points, sum(dd * p)::float8 as done_points
          from change group by 1, 2, 3, 4
          union all
          select connection, project, 'first', min(c), 0, 0, 0, 0 from leaf group by 1, 2`,
    ),
  ]);
  return {
    leaves: rows.map((r) => ({ key: `${r.connection}\0${r.project}`, ...burnUpLeafOf(r) })),
    groups,
  };
}

/** Computes and stores every program's burn-up steps as of `now`; drops those of programs gone. */
export async function refreshBurnUps(db: Db, opts: { programs: readonly ProgramProjects[]; now: Date }): Promise<void> {
  const cutoff = opts.now.getTime() - KEPT_MS;
  const projects = new Map<string, { connection: string; project: string }>();
  for (const p of opts.programs) for (const i of p.include) projects.set(`${i.connection}\0${i.project}`, i);
  const { leaves, groups } = await projectLeaves(db, [...projects.values()], cutoff);
  const byProject = new Map<string, { leaves: BurnUpLeaf[]; groups: GroupRow[] }>();
  const of = (key: string) => {
    const entry = byProject.get(key) ?? { leaves: [], groups: [] };
    byProject.set(key, entry);
    return entry;
  };
  for (const l of leaves) of(l.key).leaves.push(l);
  for (const g of groups) of(`${g.connection}\0${g.project}`).groups.push(g);
  const rows = opts.programs.map((p) => {
    const sums = stepSums(cutoff);
    for (const key of new Set(p.include.map((i) => `${i.connection}\0${i.project}`))) {
      const entry = byProject.get(key);
      if (!entry) continue;
      addLeaves(sums, entry.leaves);
      for (const g of entry.groups) {
        const at = g.at === null ? null : Number(g.at);
        if (g.row === 'first') addFirst(sums, at);
        else
          addStep(sums, g.row === 'base' ? cutoff : at!, [
            Number(g.scope_items),
            Number(g.done_items),
            Number(g.scope_points),
            Number(g.done_points),
          ]);
      }
    }
    const s = stepsOf(sums);
    return {
      scope: `program:${p.id}`,
      membership: membershipOf(p),
      cutoff: s.cutoff,
      first: s.first,
      base: s.base,
      steps: s.steps,
      computedAt: opts.now.toISOString(),
    };
  });
  const keep = rows.map((r) => r.scope);
  await db.delete(burnUps).where(keep.length === 0 ? sql`true` : sql`not (${inList(burnUps.scope, keep)})`);
  for (const r of rows)
    await db
      .insert(burnUps)
      .values(r)
      .onConflictDoUpdate({
        target: burnUps.scope,
        set: {
          membership: r.membership,
          cutoff: r.cutoff,
          first: r.first,
          base: r.base,
          steps: r.steps,
          computedAt: r.computedAt,
        },
      });
}

/** The program's stored burn-up steps, or null when none is stored for its projects as they are. */
export async function storedBurnUpSteps(db: Db, program: ProgramProjects): Promise<BurnUpSteps | null> {
  const [row] = await db
    .select({
      membership: burnUps.membership,
      cutoff: burnUps.cutoff,
      first: burnUps.first,
      base: burnUps.base,
      steps: burnUps.steps,
    })
    .from(burnUps)
    .where(eq(burnUps.scope, `program:${program.id}`));
  if (!row || row.membership !== membershipOf(program)) return null;
  return { cutoff: row.cutoff, first: row.first, base: row.base, steps: row.steps };
}
