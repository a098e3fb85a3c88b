// Builds the WIQL the connector sends. WIQL returns at most 20,000 ids, so a scope is read in
// id-ordered slices (`[System.Id] > last`, `$top` = the cap): every slice is a stable page, and a
// scope of any size is read completely instead of failing or being silently truncated.

import { findTopLevel, withoutOrderBy } from '../query-text.ts';
import type { AdoConnection } from './config.ts';

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
  // slicing depends on (its ORDER BY is dropped: ordering does not change the set). Only the
  // top-level keywords count, not words inside literals or bracketed field names.
  const noOrder = withoutOrderBy(scope.wiql, 'wiql');
  const where = findTopLevel(noOrder, 'wiql', /where/i);
  const extra = conditions(o).join(' AND ');
  const body =
    where >= 0
      ? `${noOrder.slice(0, where)}WHERE (${noOrder.slice(where + 5).trim()}) AND ${extra}`
      : `${noOrder} WHERE ${extra}`;
  return `${body} ORDER BY [System.Id] ASC`;
}

/**
 * The WIQL that answers which of `ids` are in a WIQL scope: the user's own FROM/WHERE (its
 * ORDER BY dropped) and `[System.Id] IN (…)`.
 */
export function membershipQuery(wiql: string, ids: readonly number[]): string {
  const noOrder = withoutOrderBy(wiql, 'wiql');
  const where = findTopLevel(noOrder, 'wiql', /where/i);
  const extra = `[System.Id] IN (${ids.join(', ')})`;
  return where >= 0
    ? `${noOrder.slice(0, where)}WHERE (${noOrder.slice(where + 5).trim()}) AND ${extra}`
    : `${noOrder} WHERE ${extra}`;
}
