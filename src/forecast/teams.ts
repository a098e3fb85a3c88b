// The team an item's throughput counts towards (issue 26, item 2): a configured grouping when one
// claims the item (by connection, project, area path, label, field or Jira board), else the team
// the workspace filters by (src/http/scope.ts `teamOf`: a mapped `team` field or the Azure DevOps
// area path), else its `<connection>:<project>` (a Jira project).
import type { ForecastTeam } from '../config/schema.ts';

/** What an item's team is decided from, as loadFlowItems reads it. */
export interface TeamFacts {
  connection: string;
  project: string;
  /** The Azure DevOps area path, when the item has one. */
  areaPath: string | null;
  labels: readonly string[];
  /** Normalized fields (only read when a team matches on a field). */
  fields: Readonly<Record<string, unknown>>;
  /** `teamOf` from src/http/scope.ts, evaluated in SQL. */
  teamOf: string | null;
  /** Jira boards the item is on, as last read (src/forecast/boards.ts); only read when a team matches on one. */
  boards?: readonly number[];
}

// Area paths are case-insensitive in Azure DevOps ("Fabrikam\Web" and "fabrikam\web" are one node).
function underPath(path: string | null, root: string): boolean {
  if (path === null) return false;
  const p = path.toLowerCase();
  const r = root.toLowerCase().replace(/\\+$/, '');
  return p === r || p.startsWith(`${r}\\`);
}

function fieldText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export function matchesTeam(facts: TeamFacts, m: ForecastTeam['match']): boolean {
  if (m.connection !== undefined && facts.connection !== m.connection) return false;
  if (m.project !== undefined && facts.project !== m.project) return false;
  if (m.areaPath !== undefined && !underPath(facts.areaPath, m.areaPath)) return false;
  if (m.label !== undefined && !facts.labels.includes(m.label)) return false;
  if (m.field !== undefined && fieldText(facts.fields[m.field.name]) !== m.field.value) return false;
  if (m.board !== undefined && !facts.boards?.includes(m.board)) return false;
  return true;
}

/** The team key an item's flow is grouped by: a configured team's id, a team/area path, or `<connection>:<project>`. */
export function teamFor(facts: TeamFacts, teams: readonly ForecastTeam[] = []): string {
  for (const t of teams) if (matchesTeam(facts, t.match)) return t.id;
  return facts.teamOf ?? `${facts.connection}:${facts.project}`;
}
