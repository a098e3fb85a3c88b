// Narrowing by portfolio scope — program, tracker, connection, project — shared by the API and
// the dashboard, so both count the same items for the same filter.
import { and, eq, or, type SQL, sql } from 'drizzle-orm';
import { workItems } from '../../db/schema.ts';
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
 * An item's team: a configured `team` field when the connection maps one, else the Azure
 * DevOps area path. Null when neither is set (such items match no team filter).
 */
export const teamOf = sql<
  string | null
>`coalesce(nullif(${workItems.fields}->>'team', ''), nullif(${workItems.raw} #>> '{fields,System.AreaPath}', ''))`;

/** An item's owner: its owner when set, else its assignee. */
export const ownerOf = sql`coalesce(${workItems.owner}, ${workItems.assignee})`;

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

/** SQL over `work_items` for a scope filter; throws 400 for a program the config does not name. */
export function scopeCondition(config: Config | null, f: ScopeFilter): SQL | undefined {
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
              and(eq(workItems.connection, inc.connection), eq(workItems.project, inc.project)),
            ),
          ),
    );
  }
  if (f.tracker !== undefined) parts.push(eq(workItems.tracker, f.tracker));
  if (f.connection !== undefined) parts.push(eq(workItems.connection, f.connection));
  if (f.project !== undefined) parts.push(eq(workItems.project, f.project));
  if (f.team !== undefined) {
    // starts_with, not LIKE: a path's backslashes and underscores are no patterns.
    parts.push(sql`(${teamOf} = ${f.team} or starts_with(${teamOf}, ${`${f.team}\\`}))`);
  }
  if (f.owner !== undefined) {
    parts.push(sql`(${ownerOf}->>'id' = ${f.owner} or lower(${ownerOf}->>'name') = ${f.owner.toLowerCase()})`);
  }
  const defined = parts.filter((p): p is SQL => p !== undefined);
  return defined.length === 0 ? undefined : and(...defined);
}
