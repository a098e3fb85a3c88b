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
}

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
  const defined = parts.filter((p): p is SQL => p !== undefined);
  return defined.length === 0 ? undefined : and(...defined);
}
