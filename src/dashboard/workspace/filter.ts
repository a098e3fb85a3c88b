// The workspace's filter: program, tracker, project, team and owner, read from and written back
// to the URL so every view can be bookmarked and shared, and turned into one SQL condition over
// `work_items` so every panel of every view narrows the same way (issue 25.2).
import { and, type SQL, sql } from 'drizzle-orm';
import { workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { type ScopeFilter, scopeCondition } from '../../http/scope.ts';

export const FILTER_KEYS = ['program', 'tracker', 'project', 'team', 'owner'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** `project` is `<connection>:<project>`; `owner` is the owner's id, `(none)` for unowned work. */
export type WorkspaceFilter = Partial<Record<FilterKey, string>>;

export const NO_OWNER = '(none)';

/**
 * A work item's team: a configured `team` or `areaPath` extra field, else its project. Written
 * once here so the explorer's grouping and the team filter can never disagree.
 */
export const teamExpr = sql<string>`coalesce(nullif(${workItems.fields}->>'team', ''), nullif(${workItems.fields}->>'areaPath', ''), ${workItems.project})`;
export const ownerIdExpr = sql<string | null>`${workItems.owner}->>'id'`;

/** Values longer than this are ignored: no real id is, and they would only bloat SQL and URLs. */
const MAX_VALUE = 300;

export function parseFilter(query: (name: string) => string | undefined): WorkspaceFilter {
  const out: WorkspaceFilter = {};
  for (const k of FILTER_KEYS) {
    const v = query(k)?.trim();
    if (v && v.length <= MAX_VALUE) out[k] = v;
  }
  return out;
}

/** The filter as a query string (with its leading `?`, or empty), in a fixed key order. */
export function filterQuery(f: WorkspaceFilter, extra: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k]) p.set(k, f[k]!);
  for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function toScope(f: WorkspaceFilter): ScopeFilter {
  const out: ScopeFilter = {};
  if (f.program) out.program = f.program;
  if (f.tracker) out.tracker = f.tracker;
  if (f.project) {
    const at = f.project.indexOf(':');
    if (at > 0) {
      out.connection = f.project.slice(0, at);
      out.project = f.project.slice(at + 1);
    } else out.project = f.project;
  }
  return out;
}

/** One condition over `work_items` (live rows only) for the whole filter. */
export function filterCondition(config: Config | null, f: WorkspaceFilter): SQL {
  return and(
    sql`${workItems.deletedAt} is null`,
    scopeCondition(config, toScope(f)),
    f.team ? sql`${teamExpr} = ${f.team}` : undefined,
    f.owner === NO_OWNER ? sql`${ownerIdExpr} is null` : f.owner ? sql`${ownerIdExpr} = ${f.owner}` : undefined,
  )!;
}

export const isFiltered = (f: WorkspaceFilter) => FILTER_KEYS.some((k) => Boolean(f[k]));
