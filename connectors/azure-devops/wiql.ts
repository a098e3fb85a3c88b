// Builds the WIQL the connector sends. WIQL returns at most 20,000 ids, so a scope is read in
// id-ordered slices (`[System.Id] > last`, `$top` = the cap): every slice is a stable page, and a
// scope of any size is read completely instead of failing or being silently truncated.
import type { AdoConnection } from '../../src/config/schema.ts';

export const WIQL_CAP = 20_000;
export const BATCH_MAX = 200;

export function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export interface SliceOptions {
  /** Only ids above this one (the last id of the previous slice). */
  afterId: number;
  /** Only items changed at or after this instant (sent with timePrecision=true). */
  changedSince: string | null;
}

function conditions(o: SliceOptions): string[] {
  const c = [`[System.Id] > ${o.afterId}`];
  if (o.changedSince) c.push(`[System.ChangedDate] >= ${quote(o.changedSince)}`);
  return c;
}

export function sliceQuery(scope: AdoConnection['scope'], o: SliceOptions): string {
  if ('projects' in scope) {
    const projects = scope.projects.map(quote).join(', ');
    return [
      'SELECT [System.Id] FROM WorkItems',
      `WHERE [System.TeamProject] IN (${projects}) AND ${conditions(o).join(' AND ')}`,
      'ORDER BY [System.Id] ASC',
    ].join(' ');
  }
  // The user's own WIQL: keep its FROM/WHERE, add our slice conditions, and impose the id order
  // slicing depends on (its ORDER BY is dropped: ordering does not change the set).
  const noOrder = scope.wiql.split(/\border\s+by\b/i)[0]!.trim();
  const where = /\bwhere\b/i.exec(noOrder);
  const extra = conditions(o).join(' AND ');
  const body = where
    ? `${noOrder.slice(0, where.index)}WHERE (${noOrder.slice(where.index + 5).trim()}) AND ${extra}`
    : `${noOrder} WHERE ${extra}`;
  return `${body} ORDER BY [System.Id] ASC`;
}
