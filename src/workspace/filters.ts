// The workspace filter — program, tracker, project, team (area path), owner — read from and
// written to URL query parameters in one place, and turned into one SQL condition over
// `work_items`, so every panel, API route and `report` narrows the same items the same way.
import type { SQL } from 'drizzle-orm';
import type { Config } from '../config/schema.ts';
import { type ScopeColumns, type ScopeFilter, scopeCondition, WORK_ITEM_SCOPE } from '../http/scope.ts';

export { ownerOf, teamOf } from '../http/scope.ts';

export const FILTER_KEYS = ['program', 'tracker', 'project', 'team', 'owner'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface WorkspaceFilter {
  /** A configured program id. */
  program?: string;
  /** `jira` or `azure-devops`. */
  tracker?: string;
  /** `<connection>:<project>`: one value names a project across both trackers. */
  project?: string;
  /** A team or area path; an area path includes the paths under it (`Payments` has `Payments\Checkout`). */
  team?: string;
  /** A person's id or display name (case-insensitive); an item's owner, else its assignee. */
  owner?: string;
}

export const MAX_FILTER_LENGTH = 300;

export interface ParsedFilter {
  filter: WorkspaceFilter;
  /** Values that were dropped, one line each (too long, control characters, malformed). */
  problems: string[];
}

type QueryLike = URLSearchParams | Record<string, string | string[] | undefined | null>;

function firstValue(q: QueryLike, key: string): string | undefined {
  if (q instanceof URLSearchParams) return q.get(key) ?? undefined;
  const v = q[key];
  if (Array.isArray(v)) return v[0];
  return v ?? undefined;
}

/** Reads the filter from query parameters; unknown parameters are left to their route. */
export function parseFilter(q: QueryLike): ParsedFilter {
  const filter: WorkspaceFilter = {};
  const problems: string[] = [];
  for (const key of FILTER_KEYS) {
    const raw = firstValue(q, key);
    if (raw === undefined) continue;
    const value = raw.trim();
    if (value === '') continue;
    if (value.length > MAX_FILTER_LENGTH) {
      problems.push(`${key}: longer than ${MAX_FILTER_LENGTH} characters`);
      continue;
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      problems.push(`${key}: contains control characters`);
      continue;
    }
    if (key === 'project' && value.indexOf(':') <= 0) {
      problems.push(`project: "${value}" is not <connection>:<project>`);
      continue;
    }
    filter[key] = value;
  }
  return { filter, problems };
}

/** Query parameters for a filter, keys in FILTER_KEYS order: the same filter is the same URL. */
export function filterToParams(f: WorkspaceFilter): URLSearchParams {
  const p = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const v = f[key];
    if (v) p.set(key, v);
  }
  return p;
}

/** `?program=payments&tracker=jira`, or '' for no filter. */
export function filterToQuery(f: WorkspaceFilter): string {
  const s = filterToParams(f).toString();
  return s ? `?${s}` : '';
}

/** A path with the filter's query appended (keeping the path's own parameters). */
export function withFilter(path: string, f: WorkspaceFilter): string {
  const s = filterToParams(f).toString();
  if (!s) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${s}`;
}

export function isEmptyFilter(f: WorkspaceFilter): boolean {
  return FILTER_KEYS.every((k) => !f[k]);
}

export function toScopeFilter(f: WorkspaceFilter): ScopeFilter {
  const out: ScopeFilter = {};
  if (f.program) out.program = f.program;
  if (f.tracker) out.tracker = f.tracker;
  if (f.project) {
    const at = f.project.indexOf(':');
    out.connection = f.project.slice(0, at);
    out.project = f.project.slice(at + 1);
  }
  if (f.team) out.team = f.team;
  if (f.owner) out.owner = f.owner;
  return out;
}

/**
 * SQL over `work_items` (or the given columns) for a filter. An unknown program throws the API's 400 (scope.ts); the
 * dashboard drops unknown values before calling.
 */
export function filterCondition(
  config: Config | null,
  f: WorkspaceFilter,
  columns: ScopeColumns = WORK_ITEM_SCOPE,
): SQL | undefined {
  return scopeCondition(config, toScopeFilter(f), columns);
}
