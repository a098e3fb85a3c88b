// Narrowing by portfolio scope — program, tracker, connection, project — shared by the API and
// the dashboard, so both count the same items for the same filter.
import { and, or, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { itemRollups, openFindingCounts, workItems } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import { badRequest } from './problem.ts';

export interface ScopeFilter {
  program?: string;
  tracker?: string;
  connection?: string;
  project?: string;
  /** A team or area path, with the paths under it (src/workspace/filters.ts). */
  team?: string;
  /** A person's id or display name: an item's owner, else its assignee. */
  owner?: string;
}

/**
 * What the workspace and the forecasts read from an item's tracker JSON (`raw`) instead of its
 * normalized fields, as paths into it: the Azure DevOps area path. The content hash covers each
 * (src/sync/store.ts rawReadText), so an item moved by one alone is counted as changed: a read
 * of `raw` goes through here or the rollups it feeds go stale.
 */
export const RAW_READS = { areaPath: ['fields', 'System.AreaPath'] } as const;

/** The values of RAW_READS in `raw`, as text for the content hash ('' when it holds none). */
export function rawReadText(raw: unknown): string {
  let out = '';
  for (const path of Object.values(RAW_READS)) {
    let v: unknown = raw;
    for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (typeof v === 'string') out += `\u0000${JSON.stringify(v)}`;
  }
  return out;
}

/** An item's Azure DevOps area path; null when it has none. */
export const areaPathOf = sql<
  string | null
>`nullif(${workItems.raw} #>> ${sql.raw(`'{${RAW_READS.areaPath.join(',')}}'`)}, '')`;

/**
 * An item's team: a configured `team` field when the connection maps one, else the Azure
 * DevOps area path. Null when neither is set (such items match no team filter).
 */
export const teamOf = sql<string | null>`coalesce(nullif(${workItems.fields}->>'team', ''), ${areaPathOf})`;

/** An item's owner: its owner when set, else its assignee. */
export const ownerOf = sql`coalesce(${workItems.owner}, ${workItems.assignee})`;

/** The columns a scope filter reads, from whichever table holds them. */
export interface ScopeColumns {
  connection: SQLWrapper;
  project: SQLWrapper;
  tracker: SQLWrapper;
  team: SQLWrapper;
  ownerId: SQLWrapper;
  ownerName: SQLWrapper;
}

/** A filter over `work_items`: team and owner worked out from the row (the definitions above). */
export const WORK_ITEM_SCOPE: ScopeColumns = {
  connection: workItems.connection,
  project: workItems.project,
  tracker: workItems.tracker,
  team: teamOf,
  ownerId: sql`${ownerOf}->>'id'`,
  ownerName: sql`${ownerOf}->>'name'`,
};

/** A filter over `item_rollups` (or an alias of it), which stores team and owner by the same definitions. */
export const itemRollupScope = (t: ScopeColumns): ScopeColumns => ({
  connection: t.connection,
  project: t.project,
  tracker: t.tracker,
  team: t.team,
  ownerId: t.ownerId,
  ownerName: t.ownerName,
});

/** A filter over `item_rollups`: live items only. */
export const ITEM_ROLLUP_SCOPE: ScopeColumns = itemRollupScope(itemRollups);

/** A filter over `open_finding_counts`, whose rows carry item_rollups' columns. */
export const OPEN_FINDING_COUNT_SCOPE: ScopeColumns = itemRollupScope(openFindingCounts);

export interface ProgramInfo {
  id: string;
  name: string;
  include: { connection: string; project: string }[];
}

/** Programs from the config; without one (a bare database), the programs rollups name. */
export function programsOf(config: Config | null, rollupScopes: readonly string[] = []): ProgramInfo[] {
  if (config) return config.portfolio.programs.map((p) => ({ id: p.id, name: p.name, include: p.include }));
  return rollupScopes
    .filter((s) => s.startsWith('program:'))
    .map((s) => ({ id: s.slice(8), name: s.slice(8), include: [] }));
}

export function findProgram(config: Config | null, id: string): ProgramInfo | undefined {
  return programsOf(config).find((p) => p.id === id);
}

/**
 * SQL for a scope filter, over `work_items` unless other columns are given; throws 400 for a
 * program the config does not name.
 */
export function scopeCondition(
  config: Config | null,
  f: ScopeFilter,
  c: ScopeColumns = WORK_ITEM_SCOPE,
): SQL | undefined {
  const parts: (SQL | undefined)[] = [];
  if (f.program !== undefined) {
    const program = findProgram(config, f.program);
    if (!program) {
      const known = programsOf(config).map((p) => p.id);
      throw badRequest(`program "${f.program}" is not configured (known: ${known.join(', ') || 'none'})`, [
        { path: 'program', message: 'unknown program' },
      ]);
    }
    parts.push(
      program.include.length === 0
        ? sql`false`
        : or(
            ...program.include.map((inc) =>
              and(sql`${c.connection} = ${inc.connection}`, sql`${c.project} = ${inc.project}`),
            ),
          ),
    );
  }
  if (f.tracker !== undefined) parts.push(sql`${c.tracker} = ${f.tracker}`);
  if (f.connection !== undefined) parts.push(sql`${c.connection} = ${f.connection}`);
  if (f.project !== undefined) parts.push(sql`${c.project} = ${f.project}`);
  if (f.team !== undefined) {
    // starts_with, not LIKE: a path's backslashes and underscores are no patterns.
    parts.push(sql`(${c.team} = ${f.team} or starts_with(${c.team}, ${`${f.team}\\`}))`);
  }
  if (f.owner !== undefined) {
    parts.push(sql`(${c.ownerId} = ${f.owner} or lower(${c.ownerName}) = ${f.owner.toLowerCase()})`);
  }
  const defined = parts.filter((p): p is SQL => p !== undefined);
  return defined.length === 0 ? undefined : and(...defined);
}
