// The enhanced search's result list: the issues a JQL query matches, in its ORDER BY, each with
// the sort tuple a keyset nextPageToken carries. Clients page through 100,000 issues 100 at a
// time, and filtering and sorting the whole store for every page made a full pull quadratic, so
// the list is kept per query for as long as nothing could change it: no store change, no issue
// becoming searchable, no clock in the query (a relative date like `-5m` moves with every call).
import type { JqlQuery } from './jql.ts';
import { sortValue } from './jql.ts';
import type { JiraSimStore, SimIssue } from './store.ts';

export interface SortCell {
  v: string | number;
  desc: boolean;
}

export interface Ranked {
  i: SimIssue;
  t: SortCell[];
}

/** Orders two sort tuples by the first one's directions (both come from the same ORDER BY). */
export function compareTuples(a: readonly SortCell[], b: readonly { v: string | number }[]): number {
  for (let k = 0; k < a.length; k++) {
    const x = a[k]!.v;
    const y = b[k]!.v;
    if (x === y) continue;
    const r = x < y ? -1 : 1;
    return a[k]!.desc ? -r : r;
  }
  return 0;
}

/** The first position in `list` (sorted by compareTuples) that comes strictly after `after`. */
export function firstAfter(list: readonly Ranked[], after: readonly SortCell[]): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareTuples(after, list[mid]!.t) < 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

interface Entry {
  version: number;
  builtAt: number;
  /** The earliest instant after builtAt at which a hidden issue becomes searchable. */
  until: number;
  list: Ranked[];
}

export function createSearchResults(store: JiraSimStore, maxQueries = 8) {
  // Keyed by the JQL text, which also fixes the ORDER BY; least recently used first.
  const cache = new Map<string, Entry>();

  function build(q: JqlQuery, order: JqlQuery['orderBy'], at: number): Entry {
    const tuple = (i: SimIssue): SortCell[] =>
      order.flatMap((o) => sortValue(i, o.field).map((v) => ({ v, desc: o.desc })));
    const version = store.version();
    let until = Number.POSITIVE_INFINITY;
    const list: Ranked[] = [];
    for (const i of store.all()) {
      if (i.searchableAt > at) until = Math.min(until, i.searchableAt);
      else if (q.where(i, at)) list.push({ i, t: tuple(i) });
    }
    list.sort((a, b) => compareTuples(a.t, b.t));
    return { version, builtAt: at, until, list };
  }

  /** The issues `jql` (parsed as `q`) matches at `at`, sorted; callers must not change the list. */
  function results(jql: string, q: JqlQuery, at: number): { order: JqlQuery['orderBy']; list: readonly Ranked[] } {
    const order = q.orderBy.length ? q.orderBy : [{ field: 'key', desc: true }];
    if (q.relative) return { order, list: build(q, order, at).list };
    const hit = cache.get(jql);
    cache.delete(jql);
    // `at >= builtAt`: a clock a test moved backwards may hide issues again.
    const fresh =
      hit && hit.version === store.version() && at >= hit.builtAt && at < hit.until ? hit : build(q, order, at);
    cache.set(jql, fresh);
    if (cache.size > maxQueries) cache.delete(cache.keys().next().value!);
    return { order, list: fresh.list };
  }

  return { results };
}
