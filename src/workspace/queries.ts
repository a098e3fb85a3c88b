// The workspace panels that used to ignore part of the filter — the Programs table, the trend and
// the freshness card — computed for the whole filter, for the API, the dashboard and `report`.
import { type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { itemRollups, rollupSnapshots, trendGroupDays, trendMembers } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import { type Freshness, loadFreshness, loadHistory, rollupsByPrefix, type SnapshotRow } from '../http/queries.ts';
import {
  ITEM_ROLLUP_SCOPE,
  itemRollupScope,
  type ProgramInfo,
  programsOf,
  type ScopeFilter,
  scopeCondition,
} from '../http/scope.ts';
import type { ReportRollup } from '../report/load.ts';
import { type Headline, type HeadlineGroup, loadHeadlineGroups, sumHeadline } from './headline.ts';
import { EPIC_KIND } from './metrics.ts';

export interface ConnectionInfo {
  id: string;
  tracker: string;
}

/** Connections the config names and the database holds live items of, with their tracker. */
export async function knownConnections(db: Db, config: Config | null): Promise<ConnectionInfo[]> {
  const out = new Map<string, string>(config?.connections.map((c) => [c.id, c.kind as string]) ?? []);
  for (const p of await liveProjects(db)) if (!out.has(p.connection)) out.set(p.connection, p.tracker);
  return [...out].map(([id, tracker]) => ({ id, tracker })).sort((a, b) => a.id.localeCompare(b.id));
}

export interface ProjectInfo {
  connection: string;
  project: string;
  tracker: string;
}

/**
 * The tracker projects live items are in, by tracker, connection and project. A loose index
 * scan of work_items_connection_idx: one probe per project, not a pass over every item.
 */
export async function liveProjects(db: Db): Promise<ProjectInfo[]> {
  return queryRows<{ connection: string; project: string; tracker: string }>(
    db,
    sql`with recursive p(connection, project) as (
        (select connection, project from work_items order by connection, project limit 1)
        union all
        select n.connection, n.project from p
        cross join lateral (
          select w.connection, w.project from work_items w
          where (w.connection, w.project) > (p.connection, p.project)
          order by w.connection, w.project limit 1
        ) n
      )
      select p.connection, p.project, t.tracker from p
      cross join lateral (
        -- In index order: the planner otherwise scans the table for the project's first live row.
        select w.tracker from work_items w
        where w.connection = p.connection and w.project = p.project and w.deleted_at is null
        order by w.connection, w.project limit 1
      ) t
      order by t.tracker, p.connection, p.project`,
  );
}

/** Connections a filter can include (freshness is per connection). Team and owner narrow none. */
export function connectionsIn(config: Config | null, f: ScopeFilter, known: readonly ConnectionInfo[]): string[] {
  let ids = known;
  if (f.tracker) ids = ids.filter((k) => k.tracker === f.tracker);
  if (f.connection) ids = ids.filter((k) => k.id === f.connection);
  if (f.program) {
    const inc = new Set(
      programsOf(config)
        .find((p) => p.id === f.program)
        ?.include.map((i) => i.connection) ?? [],
    );
    ids = ids.filter((k) => inc.has(k.id));
  }
  return ids.map((k) => k.id);
}

/** Data freshness of the connections the filter includes. */
export async function loadFreshnessFor(
  db: Db,
  config: Config | null,
  f: ScopeFilter,
  now: Date,
  known?: readonly ConnectionInfo[],
): Promise<Freshness[]> {
  const ids = new Set(connectionsIn(config, f, known ?? (await knownConnections(db, config))));
  return (await loadFreshness(db, config, now)).filter((r) => ids.has(r.connection));
}

export interface ProgramRow extends ProgramInfo {
  trackers: string[];
  /** The stored rollup of the whole program (no filter), for its comment and history. */
  rollup: ReportRollup | null;
  /** The program's figures under the filter: what the row shows, and what adds up to the headline. */
  headline: Headline;
}

/**
 * The Programs table under a filter: the programs the filter can include (a program filter keeps
 * its own; a tracker or project filter keeps the programs that include it), each with its
 * headline for the filter narrowed to it.
 */
export async function loadProgramRows(
  db: Db,
  config: Config | null,
  f: ScopeFilter,
  now: Date,
  known?: readonly ConnectionInfo[],
  /** The filter's headline groups when the caller has them (its own headline is their sum). */
  groups?: readonly HeadlineGroup[],
): Promise<ProgramRow[]> {
  const connections = known ?? (await knownConnections(db, config));
  const trackerOf = new Map(connections.map((c) => [c.id, c.tracker]));
  const programRollups = await rollupsByPrefix(db, 'program:');
  const byScope = new Map(programRollups.map((r) => [r.scope, r]));
  const programs = programsOf(
    config,
    programRollups.map((r) => r.scope),
  ).filter((p) => p.include.length > 0 && (!f.program || p.id === f.program));
  const matches = (p: ProgramInfo) =>
    p.include.some(
      (i) =>
        (!f.tracker || trackerOf.get(i.connection) === f.tracker) &&
        (!f.connection || i.connection === f.connection) &&
        (!f.project || i.project === f.project),
    );
  const shown = programs.filter(matches);
  // One pass for every row: a program's headline sums its projects' groups under the filter.
  const sums = groups ?? (shown.length === 0 ? [] : await loadHeadlineGroups(db, config, f, now));
  return shown.map((p) => ({
    ...p,
    trackers: [...new Set(p.include.map((i) => trackerOf.get(i.connection) ?? i.connection))].sort(),
    rollup: byScope.get(`program:${p.id}`) ?? null,
    headline: sumHeadline(sums, p.include),
  }));
}

export interface TrendDay extends SnapshotRow {
  /** The epics of the filter on that day, by health (from their daily snapshots). */
  epics: { total: number; green: number; amber: number; red: number };
}

export interface Trend {
  /** The stored scope the figures come from, or `epics` when they are summed from epic snapshots. */
  scope: string;
  days: TrendDay[];
}

/** The stored scope a filter is exactly, if any: its snapshots are the trend. */
export function storedScopeOf(f: ScopeFilter): string | null {
  const { program, tracker, connection, project, team, owner } = f;
  if (tracker || team || owner) return null;
  if (connection && project && !program) return `project:${connection}:${project}`;
  if (program && !connection && !project) return `program:${program}`;
  if (!program && !connection && !project) return 'portfolio';
  return null;
}

export type TrendSums = {
  day: string;
  green: number;
  amber: number;
  red: number;
  total: number;
  points_done: number | string | null;
  points_total: number | string | null;
  done: number | string | null;
  counted: number | string | null;
};

/**
 * Each day's sums over the snapshots of the epics the filter includes today (live, not removed,
 * as item_rollups gives them): the groups of trend_group_days the filter includes, read
 * groups × days rather than epics × days, corrected for the epics trend_members records with
 * other attributes than item_rollups has (moved, new or gone since trend_sync_members last ran):
 * their snapshots are taken from the group they were summed in and added where they are now.
 */
export function trendSums(config: Config | null, f: ScopeFilter, from: string): SQL {
  // Aliases for the columns the filter reads; both tables name an epic's filter attributes as item_rollups does.
  const g = alias(trendGroupDays, 'g');
  const m = alias(trendMembers, 'm');
  const inGroup = scopeCondition(config, f, itemRollupScope(g)) ?? sql`true`;
  const wasIn = scopeCondition(config, f, itemRollupScope(m)) ?? sql`true`;
  const isIn = scopeCondition(config, f, ITEM_ROLLUP_SCOPE) ?? sql`true`;
  const r = itemRollups;
  const snapshotFigures = (sign: number) =>
    sql.raw(`s.day, ${sign} as total,
      ${sign} * (s.health = 'green')::int as green, ${sign} * (s.health = 'amber')::int as amber,
      ${sign} * (s.health = 'red')::int as red, ${sign} * s.points_done::numeric as points_done,
      ${sign} * s.points_total::numeric as points_total, ${sign} * s.counts_done::numeric as done,
      ${sign} * (s.counts_total - s.counts_removed)::numeric as counted`);
  return sql`with live as (
        select ${r.ref} as ref, ${r.connection} as connection, ${r.project} as project,
          ${r.tracker} as tracker, ${r.team} as team, ${r.ownerId} as owner_id, ${r.ownerName} as owner_name
        from ${r} where ${r.kind} = ${EPIC_KIND} and ${r.statusCategory} <> 'removed'
      ),
      moved as (
        select coalesce(c.ref, m.ref) as ref, m.ref is not null as was_in, c.ref is not null as is_in
        from live c full join ${trendMembers} m on m.ref = c.ref
        where c.ref is null or m.ref is null
          or (c.connection, c.project, c.tracker, c.team, c.owner_id, c.owner_name)
            is distinct from (m.connection, m.project, m.tracker, m.team, m.owner_id, m.owner_name)
      ),
      parts as (
        select g.day, g.epics as total, g.green, g.amber, g.red, g.points_done, g.points_total,
          g.counts_done as done, g.counted
        from ${trendGroupDays} g where g.day >= ${from}::date and ${inGroup}
        union all
        select ${snapshotFigures(-1)}
        from moved d join ${trendMembers} m on m.ref = d.ref
        join ${rollupSnapshots} s on s.scope = 'epic:' || d.ref
        where d.was_in and s.day >= ${from}::date and ${wasIn}
        union all
        select ${snapshotFigures(1)}
        from moved d join ${r} on ${r.ref} = d.ref
        join ${rollupSnapshots} s on s.scope = 'epic:' || d.ref
        where d.is_in and s.day >= ${from}::date and ${isIn}
      )
      select day::text as day, sum(green)::int as green, sum(amber)::int as amber, sum(red)::int as red,
        sum(total)::int as total, sum(points_done) as points_done, sum(points_total) as points_total,
        sum(done) as done, sum(counted) as counted
      from parts group by day having sum(total) > 0 order by day`;
}

/**
 * The trend of a filter, day by day from `from`: the epic health counts come from the daily
 * snapshots of the epics the filter includes today (the headline's epics); % complete and
 * compliance from the filter's stored scope when it is one, else % complete is summed from the
 * epics' points (done ÷ total), compliance is not known and the day's health is the worst
 * colour of its epics.
 */
export async function loadTrend(db: Db, config: Config | null, f: ScopeFilter, from: string): Promise<Trend> {
  const rows = await queryRows<TrendSums>(db, trendSums(config, f, from));
  const stored = storedScopeOf(f);
  const scoped = stored ? new Map((await loadHistory(db, stored, { from })).map((d) => [d.day, d])) : null;
  const days = new Set([...rows.map((r) => String(r.day).slice(0, 10)), ...(scoped?.keys() ?? [])]);
  const byDay = new Map(rows.map((r) => [String(r.day).slice(0, 10), r]));
  return {
    scope: stored ?? 'epics',
    days: [...days].sort().map((day) => {
      const r = byDay.get(day);
      const epics = {
        total: Number(r?.total ?? 0),
        green: Number(r?.green ?? 0),
        amber: Number(r?.amber ?? 0),
        red: Number(r?.red ?? 0),
      };
      const own = scoped?.get(day);
      if (own) return { ...own, epics };
      const pointsTotal = Number(r?.points_total ?? 0);
      const counted = Number(r?.counted ?? 0);
      const pc =
        pointsTotal > 0
          ? Number(r?.points_done ?? 0) / pointsTotal
          : counted > 0
            ? Number(r?.done ?? 0) / counted
            : null;
      return {
        day,
        percentComplete: pc === null ? null : Math.round(pc * 10_000) / 10_000,
        health: epics.red > 0 ? 'red' : epics.amber > 0 ? 'amber' : 'green',
        compliance: null,
        metrics: {},
        epics,
      };
    }),
  };
}
