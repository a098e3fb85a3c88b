// What the filter form offers, and the filter a request asked for with values that name nothing
// dropped (a bookmark from before a config change should still open, just wider).
import { asc, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { rollups, workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { programsOf } from '../../http/scope.ts';
import { NO_OWNER, NO_TEAM, ownerIdExpr, ownerNameExpr, teamExpr, type WorkspaceFilter } from './filter.ts';
import type { FilterOptions } from './parts.tsx';

const OWNER_OPTIONS = 500;

export async function loadFilterOptions(db: Db, config: Config | null): Promise<FilterOptions> {
  const live = sql`${workItems.deletedAt} is null`;
  const [scopes, projects, teams, owners] = await Promise.all([
    db.select({ scope: rollups.scope }).from(rollups),
    db
      .selectDistinct({ connection: workItems.connection, project: workItems.project, tracker: workItems.tracker })
      .from(workItems)
      .where(live)
      .orderBy(asc(workItems.tracker), asc(workItems.connection), asc(workItems.project)),
    db.selectDistinct({ team: teamExpr }).from(workItems).where(live).orderBy(teamExpr),
    db
      .selectDistinct({ id: ownerIdExpr, name: ownerNameExpr })
      .from(workItems)
      .where(sql`${live} and ${ownerIdExpr} is not null`)
      .orderBy(ownerNameExpr)
      .limit(OWNER_OPTIONS),
  ]);
  return {
    programs: programsOf(
      config,
      scopes.map((s) => s.scope),
    ).map((p) => ({ id: p.id, name: p.name })),
    trackers: [...new Set(projects.map((p) => p.tracker))].sort(),
    projects: projects.map((p) => ({ value: `${p.connection}:${p.project}`, label: `${p.project} (${p.connection})` })),
    teams: teams.map((t) => t.team).filter((t) => t !== NO_TEAM),
    owners: owners.flatMap((o) => (o.id === null ? [] : [{ id: o.id, name: o.name ?? o.id }])),
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
