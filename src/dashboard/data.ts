// Everything one dashboard page shows, loaded for a filter (program, tracker, project). Uses the
// API's queries, so the page and /api/v1/portfolio report the same numbers for the same filter.
import { asc, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { workItems } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import {
  type EpicRow,
  type Freshness,
  type Headline,
  loadEpics,
  loadFreshness,
  loadHeadline,
  loadHistory,
  type RuleCount,
  rollupsByPrefix,
  type SnapshotRow,
  topRules,
} from '../http/queries.ts';
import { type ProgramInfo, programsOf, type ScopeFilter } from '../http/scope.ts';
import type { ReportRollup } from '../report/load.ts';

export interface DashboardFilter {
  program?: string;
  tracker?: string;
  /** `<connection>:<project>`: one select names a project across both trackers. */
  project?: string;
}

export interface ProjectOption {
  value: string;
  connection: string;
  project: string;
  tracker: string;
}

export interface ProgramRow extends ProgramInfo {
  trackers: string[];
  rollup: ReportRollup | null;
  /** The headline figures for the program alone, so the table and the headline agree. */
  headline: Headline;
}

export interface DashboardData {
  filter: DashboardFilter;
  /** Filter values that named nothing and were ignored. */
  ignored: string[];
  options: { programs: ProgramInfo[]; trackers: string[]; projects: ProjectOption[] };
  headline: Headline;
  programs: ProgramRow[];
  epics: EpicRow[];
  rules: RuleCount[];
  freshness: Freshness[];
  trend: { scope: string; days: SnapshotRow[] };
}

export function toScopeFilter(f: DashboardFilter): ScopeFilter {
  const out: ScopeFilter = {};
  if (f.program) out.program = f.program;
  if (f.tracker) out.tracker = f.tracker;
  if (f.project) {
    const at = f.project.indexOf(':');
    out.connection = f.project.slice(0, at);
    out.project = f.project.slice(at + 1);
  }
  return out;
}

export async function loadDashboard(
  db: Db,
  config: Config | null,
  requested: DashboardFilter,
  now: Date,
): Promise<DashboardData> {
  const programRollups = await rollupsByPrefix(db, 'program:');
  const programs = programsOf(
    config,
    programRollups.map((r) => r.scope),
  );
  const projects = (
    await db
      .selectDistinct({ connection: workItems.connection, project: workItems.project, tracker: workItems.tracker })
      .from(workItems)
      .where(sql`${workItems.deletedAt} is null`)
      .orderBy(asc(workItems.tracker), asc(workItems.connection), asc(workItems.project))
  ).map((p) => ({ ...p, value: `${p.connection}:${p.project}` }));
  const trackers = [...new Set(projects.map((p) => p.tracker))].sort();

  // Unknown values are dropped (and said so) rather than failing the page: it is a bookmark
  // from before a config change more often than a mistake.
  const filter: DashboardFilter = {};
  const ignored: string[] = [];
  const keep = (name: keyof DashboardFilter, known: boolean) => {
    const value = requested[name];
    if (!value) return;
    if (known) filter[name] = value;
    else ignored.push(`${name} "${value}"`);
  };
  keep(
    'program',
    programs.some((p) => p.id === requested.program && p.include.length > 0),
  );
  keep('tracker', trackers.includes(requested.tracker ?? ''));
  keep(
    'project',
    projects.some((p) => p.value === requested.project),
  );

  const scope = toScopeFilter(filter);
  const trackerOf = new Map(config?.connections.map((c) => [c.id, c.kind as string]) ?? []);
  for (const p of projects) trackerOf.set(p.connection, p.tracker);
  const byScope = new Map(programRollups.map((r) => [r.scope, r]));
  const programRows: ProgramRow[] = await Promise.all(
    programs
      .filter((p) => !filter.program || p.id === filter.program)
      .filter((p) => p.include.length > 0)
      .map(async (p) => ({
        ...p,
        trackers: [...new Set(p.include.map((i) => trackerOf.get(i.connection) ?? i.connection))].sort(),
        rollup: byScope.get(`program:${p.id}`) ?? null,
        headline: await loadHeadline(db, config, { program: p.id }, now),
      })),
  );
  const trendScope = filter.project
    ? `project:${filter.project}`
    : filter.program
      ? `program:${filter.program}`
      : 'portfolio';
  const [headline, epics, rules, freshness, days] = await Promise.all([
    loadHeadline(db, config, scope, now),
    loadEpics(db, config, scope, 300),
    topRules(db, config, scope, 10),
    loadFreshness(db, config, now),
    loadHistory(db, trendScope, { from: new Date(now.getTime() - 90 * 86_400_000).toISOString().slice(0, 10) }),
  ]);
  return {
    filter,
    ignored,
    options: { programs, trackers, projects },
    headline,
    programs: programRows,
    epics,
    rules,
    freshness,
    trend: { scope: trendScope, days },
  };
}
