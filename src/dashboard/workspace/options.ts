// What the filter form offers, and the filter a request asked for with values that name nothing
// dropped (a bookmark from before a config change should still open, just wider).
import { like, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { queryRows } from '../../../db/query.ts';
import { rollups } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { programsOf } from '../../http/scope.ts';
import { liveProjects } from '../../workspace/queries.ts';
import { NO_OWNER, NO_TEAM, type WorkspaceFilter } from './filter.ts';
import type { FilterOptions } from './parts.tsx';

const OWNER_OPTIONS = 500;

/**
 * The values the form offers. Teams and owners are the distinct values item_rollups stores,
 * read by loose index scans (one probe per value, not a pass over every item); projects by
 * the same over work_items.
 */
export async function loadFilterOptions(db: Db, config: Config | null): Promise<FilterOptions> {
  const [scopes, projects, teams, owners] = await Promise.all([
    config ? [] : db.select({ scope: rollups.scope }).from(rollups).where(like(rollups.scope, 'program:%')),
    liveProjects(db),
    queryRows<{ team: string }>(
      db,
      sql`with recursive t(team) as (
          (select team from item_rollups where team is not null order by team limit 1)
          union all
          select (select r.team from item_rollups r where r.team > t.team order by r.team limit 1)
          from t where t.team is not null
        ) select team from t where team is not null`,
    ),
    queryRows<{ id: string; name: string | null }>(
      db,
      sql`with recursive o(id, name) as (
          (select owner_id, owner_name from item_rollups where owner_id is not null
            order by owner_id, owner_name limit 1)
          union all
          select n.owner_id, n.owner_name from o
          cross join lateral (
            select r.owner_id, r.owner_name from item_rollups r
            where r.owner_id is not null and (r.owner_id, r.owner_name) > (o.id, o.name)
            order by r.owner_id, r.owner_name limit 1
          ) n
        ) select id, name from o`,
    ),
  ]);
  return {
    programs: programsOf(
      config,
      scopes.map((s) => s.scope),
    ).map((p) => ({ id: p.id, name: p.name })),
    trackers: [...new Set(projects.map((p) => p.tracker))].sort(),
    projects: projects.map((p) => ({ value: `${p.connection}:${p.project}`, label: `${p.project} (${p.connection})` })),
    teams: teams.map((t) => t.team).filter((t) => t !== NO_TEAM),
    owners: owners
      .map((o) => ({ id: o.id, name: o.name ?? o.id }))
      .sort((a, b) => a.name.localeCompare(b.name))
      .slice(0, OWNER_OPTIONS),
  };
}

/**
 * The filter with unknown values dropped. Program, tracker and project must be offered; team and
 * owner pass as given (an owner past the option list is still a real owner).
 */
export function knownFilter(f: WorkspaceFilter, o: FilterOptions, config: Config | null): WorkspaceFilter {
  const out: WorkspaceFilter = { ...f };
  const programOk = config ? config.portfolio.programs.some((p) => p.id === f.program) : false;
  if (f.program && !programOk) delete out.program;
  if (f.tracker && !o.trackers.includes(f.tracker)) delete out.tracker;
  if (f.project && !o.projects.some((p) => p.value === f.project)) delete out.project;
  if (f.owner === NO_OWNER) out.owner = NO_OWNER;
  return out;
}
