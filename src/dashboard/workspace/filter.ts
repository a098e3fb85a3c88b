// The workspace views' filter: the one workspace filter (src/workspace/filters.ts: program,
// tracker, project, team, owner, read from and written back to the URL) plus one value of the
// views' own, `owner=(none)` for unowned work, which the explorer's "who must act" links to.
// Team and owner are the definitions in src/http/scope.ts (teamOf, ownerOf), stored by
// item_rollups, so a grouping here and a filter anywhere can never disagree.
import { and, type SQL, sql } from 'drizzle-orm';
import { workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { ITEM_ROLLUP_SCOPE, type ScopeColumns, WORK_ITEM_SCOPE } from '../../http/scope.ts';
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
  return and(sql`${workItems.deletedAt} is null`, conditionOn(config, f, WORK_ITEM_SCOPE))!;
}

/**
 * The same filter over `item_rollups` (src/rollups/items.ts: live items only, team and owner
 * stored by the same definitions), or over an alias of it; undefined when it narrows nothing.
 */
export function rollupCondition(
  config: Config | null,
  f: WorkspaceFilter,
  c: ScopeColumns = ITEM_ROLLUP_SCOPE,
): SQL | undefined {
  return conditionOn(config, f, c);
}

function conditionOn(config: Config | null, f: WorkspaceFilter, c: ScopeColumns): SQL | undefined {
  const unowned = f.owner === NO_OWNER;
  const team = f.team === NO_TEAM ? undefined : f.team;
  return and(
    workspaceCondition(config, { ...f, owner: unowned ? undefined : f.owner, team }, c),
    unowned ? sql`${c.ownerId} is null` : undefined,
    f.team === NO_TEAM ? sql`${c.team} is null` : undefined,
  );
}

export const isFiltered = (f: WorkspaceFilter) => FILTER_KEYS.some((k) => Boolean(f[k]));
