// The epic rows of a filter, in the order every view lists them (red, amber, green, no rollup,
// then natural key order), a page at a time: the keys and colours of all of them come from
// item_rollups (narrow, indexed by kind), so a headline can count every row while only a
// page's columns are read. Natural order is not a SQL collation, so the keys are sorted here.
import { and, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { itemRollups } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import { ITEM_ROLLUP_SCOPE, type ScopeFilter, scopeCondition } from '../http/scope.ts';
import { compareEpicRows, EPIC_KIND } from './metrics.ts';

export type Health = 'green' | 'amber' | 'red' | 'none';

export interface EpicKey {
  ref: string;
  health: Health;
}

/** Rows per page when a caller names no page size. */
export const EPIC_PAGE_SIZE = 100;

const healthOf = (h: string | null | undefined): Health => (h === 'green' || h === 'amber' || h === 'red' ? h : 'none');
const HEALTH_RANK: Record<Health, number> = { red: 0, amber: 1, green: 2, none: 3 };

/** The items of the given kinds (epics by default), not removed, under an item_rollups condition. */
export async function loadEpicKeys(db: Db, where: SQL | undefined, kinds: readonly string[] = [EPIC_KIND]) {
  const rows = await db
    .select({ ref: itemRollups.ref, health: itemRollups.health })
    .from(itemRollups)
    .where(and(inArray(itemRollups.kind, [...kinds]), sql`${itemRollups.statusCategory} <> 'removed'`, where));
  return rows.map((r): EpicKey => ({ ref: r.ref, health: healthOf(r.health) })).sort(compareEpicRows);
}

/** The item_rollups condition of a scope filter (throws the API's 400 for an unknown program). */
export const epicScope = (config: Config | null, f: ScopeFilter) => scopeCondition(config, f, ITEM_ROLLUP_SCOPE);

/**
 * A page's position in the row order: `<health>.<ref>` of the last row shown. Keyset, not
 * offset, so a row that changes colour between pages is neither shown twice nor skipped
 * because of rows before it.
 */
export const epicCursor = (e: EpicKey) => `${e.health}.${e.ref}`;

function parseCursor(after: string | undefined): EpicKey | null {
  if (!after) return null;
  const at = after.indexOf('.');
  if (at <= 0) return null;
  const health = after.slice(0, at);
  return HEALTH_RANK[health as Health] === undefined ? null : { health: health as Health, ref: after.slice(at + 1) };
}

export interface KeyPage {
  keys: EpicKey[];
  /** 1-based positions of the page's first and last rows in the whole list (0 when empty). */
  first: number;
  last: number;
  /** The cursor of the next page, or null on the last one. */
  next: string | null;
}

/**
 * The page of `ordered` after the cursor: a cursor that is no row's (hostile or stale) starts
 * after where that row would sort.
 */
export function pageOf(ordered: readonly EpicKey[], page: { after?: string; limit?: number }): KeyPage {
  const cursor = parseCursor(page.after);
  const from = cursor ? ordered.findIndex((e) => compareEpicRows(e, cursor) > 0) : 0;
  const start = from < 0 ? ordered.length : from;
  const limit = page.limit ?? EPIC_PAGE_SIZE;
  const keys = ordered.slice(start, start + limit);
  const last = keys.at(-1);
  return {
    keys,
    first: keys.length ? start + 1 : 0,
    last: start + keys.length,
    next: last && start + limit < ordered.length ? epicCursor(last) : null,
  };
}
