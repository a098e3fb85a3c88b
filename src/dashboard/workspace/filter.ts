// The workspace views' filter: the one workspace filter (src/workspace/filters.ts: program,
// tracker, project, team, owner, read from and written back to the URL) plus one value of the
// views' own, `owner=(none)` for unowned work, which the explorer's "who must act" links to.
// Team and owner are the definitions in src/http/scope.ts (teamOf, ownerOf), so a grouping
// here and a filter anywhere can never disagree.
import { and, type SQL, sql } from 'drizzle-orm';
import { workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { ownerOf, teamOf } from '../../http/scope.ts';
import {
  FILTER_KEYS,
  filterToQuery,
  parseFilter as parseWorkspaceFilter,
  type WorkspaceFilter,
  filterCondition as workspaceCondition,
} from '../../workspace/filters.ts';

export { FILTER_KEYS, type WorkspaceFilter };

export const NO_OWNER = '(none)';
/** Items with neither a team field nor an area path group under this. */
export const NO_TEAM = '(none)';

// Literals, not parameters: Postgres matches GROUP BY to the select list by text, and two
// parameters ($1, $3) never match.
export const teamExpr = sql<string>`coalesce(${teamOf}, ${sql.raw(`'${NO_TEAM}'`)})`;
export const ownerIdExpr = sql<string | null>`${ownerOf}->>'id'`;
export const ownerKeyExpr = sql<string>`coalesce(${ownerIdExpr}, ${sql.raw(`'${NO_OWNER}'`)})`;
export const ownerNameExpr = sql<string | null>`${ownerOf}->>'name'`;

export function parseFilter(query: (name: string) => string | undefined): WorkspaceFilter {
  const q: Record<string, string | undefined> = {};
  for (const k of FILTER_KEYS) q[k] = query(k);
  return parseWorkspaceFilter(q).filter;
}

/** The filter as a query string (with its leading `?`, or empty), in a fixed key order. */
export function filterQuery(f: WorkspaceFilter, extra: Record<string, string | undefined> = {}): string {
  const base = filterToQuery(f);
  const p = new URLSearchParams(base.slice(1));
  for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** One condition over `work_items` (live rows only) for the whole filter. */
export function filterCondition(config: Config | null, f: WorkspaceFilter): SQL {
  const unowned = f.owner === NO_OWNER;
  const team = f.team === NO_TEAM ? undefined : f.team;
  return and(
    sql`${workItems.deletedAt} is null`,
    workspaceCondition(config, { ...f, owner: unowned ? undefined : f.owner, team }),
    unowned ? sql`${ownerIdExpr} is null` : undefined,
    f.team === NO_TEAM ? sql`${teamOf} is null` : undefined,
  )!;
}

export const isFiltered = (f: WorkspaceFilter) => FILTER_KEYS.some((k) => Boolean(f[k]));
