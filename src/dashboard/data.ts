// Everything one dashboard page shows, loaded for a filter (program, tracker, project, team,
// owner: src/workspace/filters.ts), every panel under the whole filter. Uses the
// API's queries, so the page and /api/v1/portfolio report the same numbers for the same filter.
import type { Db } from '../../db/client.ts';
import type { Config } from '../config/schema.ts';
import {
  type EpicRow,
  type Freshness,
  type Headline,
  loadEpics,
  type RuleCount,
  rollupsByPrefix,
  topRules,
} from '../http/queries.ts';
import { type ProgramInfo, programsOf } from '../http/scope.ts';
import { toScopeFilter, type WorkspaceFilter } from '../workspace/filters.ts';
import { loadHeadlineGroups, sumHeadline } from '../workspace/headline.ts';
import {
  knownConnections,
  liveProjects,
  loadFreshnessFor,
  loadProgramRows,
  loadTrend,
  type ProgramRow,
  type Trend,
} from '../workspace/queries.ts';

/** The workspace filter (src/workspace/filters.ts): program, tracker, project, team, owner. */
export type DashboardFilter = WorkspaceFilter;

export interface ProjectOption {
  value: string;
  connection: string;
  project: string;
  tracker: string;
}

export type { ProgramRow };

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
  trend: Trend;
}

export { toScopeFilter };

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
  const projects = (await liveProjects(db)).map((p) => ({ ...p, value: `${p.connection}:${p.project}` }));
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
  // Free text: a team or owner that matches nothing shows empty panels, not an error.
  keep('team', true);
  keep('owner', true);

  const scope = toScopeFilter(filter);
  const from = new Date(now.getTime() - 90 * 86_400_000).toISOString().slice(0, 10);
  // One pass over the items for the headline and every program row (loadHeadlineGroups). Every
  // panel reads the whole filter: the Programs table, the trend and the freshness too. The panels
  // that need neither the groups nor the connections start with them: the top rules count every
  // open finding, the longest read of the page, and waiting for the groups first added their times.
  const [known, groups, epics, rules, trend] = await Promise.all([
    knownConnections(db, config),
    loadHeadlineGroups(db, config, scope, now),
    loadEpics(db, config, scope, 300, now),
    topRules(db, config, scope, 10),
    loadTrend(db, config, scope, from),
  ]);
  const headline = sumHeadline(groups);
  const [freshness, programRows] = await Promise.all([
    loadFreshnessFor(db, config, scope, now, known),
    loadProgramRows(db, config, scope, now, known, groups),
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
    trend,
  };
}
