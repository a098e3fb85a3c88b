// The workspace filter — program, tracker, project, team (area path), owner — read from and
// written to URL query parameters in one place, and turned into one SQL condition over
// `work_items`, so every panel, API route and `report` narrows the same items the same way.
import { and, type SQL, sql } from 'drizzle-orm';
import { workItems } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import { type ScopeFilter, scopeCondition } from '../http/scope.ts';

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
  return out;
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

/**
 * SQL over `work_items` for a filter. An unknown program throws the API's 400 (scope.ts); the
 * dashboard drops unknown values before calling.
 */
export function filterCondition(config: Config | null, f: WorkspaceFilter): SQL | undefined {
  const parts: (SQL | undefined)[] = [scopeCondition(config, toScopeFilter(f))];
  if (f.team) {
    // starts_with, not LIKE: a path's backslashes and underscores are no patterns.
    parts.push(sql`(${teamOf} = ${f.team} or starts_with(${teamOf}, ${`${f.team}\\`}))`);
  }
  if (f.owner) {
    parts.push(sql`(${ownerOf}->>'id' = ${f.owner} or lower(${ownerOf}->>'name') = ${f.owner.toLowerCase()})`);
  }
  const defined = parts.filter((p): p is SQL => p !== undefined);
  return defined.length === 0 ? undefined : and(...defined);
}

/** The connections a filter can include: for freshness, which is per connection. */
export function connectionsOf(
  config: Config | null,
  f: WorkspaceFilter,
  known: readonly { id: string; tracker: string }[],
): string[] {
  let ids = known.map((k) => k.id);
  if (f.tracker) ids = known.filter((k) => k.tracker === f.tracker).map((k) => k.id);
  if (f.project) {
    const c = f.project.slice(0, f.project.indexOf(':'));
    ids = ids.filter((id) => id === c);
  }
  if (f.program) {
    const p = config?.portfolio.programs.find((x) => x.id === f.program);
    const inc = new Set(p?.include.map((i) => i.connection) ?? []);
    ids = ids.filter((id) => inc.has(id));
  }
  return ids;
}
