// Keeps item_history in step with the trackers: on a connection's first pass every in-scope
// item's history (status, target date, parent) since the horizon (Jira: changelogs of every issue, 1,000 a request;
// Azure DevOps: the revision stream from the horizon), after that only what changed (Jira: the
// changelogs of the items this sync changed; Azure DevOps: the stream past its watermark).
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Connector, ItemHistory } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import { inList, queryRows } from '../../db/query.ts';
import { historyCursors, itemHistory, workItems } from '../../db/schema.ts';
import { makeRef, splitRef } from '../core/work-item.ts';
import { compactTransitions, compactValues } from './throughput.ts';

export const DEFAULT_HORIZON_DAYS = 180;

export interface HistorySummary {
  connection: string;
  mode: 'backfill' | 'incremental';
  items: number;
  requests: number;
}

export interface HistoryPassOptions {
  now: Date;
  horizonDays?: number;
  /** Refs this sync stored changes of; undefined on a full pass (every item is read again). */
  changedRefs?: readonly string[];
}

export async function syncHistory(
  db: Db,
  connectors: ReadonlyMap<string, Connector>,
  opts: HistoryPassOptions,
): Promise<HistorySummary[]> {
  const out: HistorySummary[] = [];
  for (const connector of connectors.values()) {
    if (!connector.history) continue;
    const id = connector.id;
    const [prior] = await db.select().from(historyCursors).where(eq(historyCursors.connection, id));
    const since =
      prior?.since ??
      new Date(opts.now.getTime() - (opts.horizonDays ?? DEFAULT_HORIZON_DAYS) * 86_400_000).toISOString();
    const backfill = !prior || opts.changedRefs === undefined;
    const keys = backfill
      ? await storedKeys(db, id, null)
      : await storedKeys(
          db,
          id,
          opts.changedRefs!.filter((r) => splitRef(r).connection === id),
        );
    const before = connector.stats().requests;
    let items = 0;
    const touched = new Set<string>();
    const { cursor } = await connector.history({
      items: keys,
      since: new Date(since).toISOString(),
      cursor: backfill ? null : prior.cursor,
      keysOf: (ids) => keysOfIds(db, id, ids),
      onHistories: async (hs) => {
        items += hs.length;
        await storeHistories(db, id, hs, backfill ? touched : null);
      },
    });
    await db
      .insert(historyCursors)
      .values({ connection: id, cursor, since: new Date(since).toISOString(), updatedAt: opts.now.toISOString() })
      .onConflictDoUpdate({
        target: historyCursors.connection,
        set: { cursor, updatedAt: opts.now.toISOString() },
      });
    out.push({
      connection: id,
      mode: backfill ? 'backfill' : 'incremental',
      items,
      requests: connector.stats().requests - before,
    });
  }
  return out;
}

/** Keys and tracker ids of stored items (all of a connection's, or these refs'). */
async function storedKeys(db: Db, connection: string, refs: string[] | null) {
  if (refs !== null && refs.length === 0) return [];
  const rows = await queryRows<{ key: string; id: string | null }>(
    db,
    sql`select ${workItems.key} as key, ${workItems.raw}->>'id' as id from ${workItems}
        where ${and(eq(workItems.connection, connection), isNull(workItems.deletedAt), refs === null ? undefined : inList(workItems.ref, refs))}`,
  );
  return rows.map((r) => ({ key: r.key, id: r.id }));
}

/** Keys of a connection's stored items by their tracker ids. */
async function keysOfIds(db: Db, connection: string, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await queryRows<{ key: string; id: string }>(
      db,
      sql`select ${workItems.key} as key, ${workItems.raw}->>'id' as id from ${workItems}
          where ${and(eq(workItems.connection, connection), inList(sql`${workItems.raw}->>'id'`, ids.slice(i, i + 1000)))}`,
    );
    for (const r of rows) out.set(r.id, r.key);
  }
  return out;
}

/**
 * Stores histories: `replace` sets an item's history, `append` adds to what is stored (on a
 * backfill the stored history is from an earlier horizon and is replaced on first sight).
 */
async function storeHistories(
  db: Db,
  connection: string,
  hs: ItemHistory[],
  /** On a backfill, the items it has stored so far; null on an incremental pass. */
  backfilled: Set<string> | null,
): Promise<void> {
  if (hs.length === 0) return;
  const refs = hs.map((h) => makeRef(connection, h.key));
  type Stored = Pick<typeof itemHistory.$inferSelect, 'transitions' | 'dueChanges' | 'parentChanges'>;
  const appendTo = new Map<string, Stored>();
  if (hs.some((h) => h.mode === 'append')) {
    const rows = await db
      .select({
        ref: itemHistory.ref,
        transitions: itemHistory.transitions,
        dueChanges: itemHistory.dueChanges,
        parentChanges: itemHistory.parentChanges,
      })
      .from(itemHistory)
      .where(inList(itemHistory.ref, refs));
    for (const r of rows) appendTo.set(r.ref, r);
  }
  const orNull = <T>(list: T[]) => (list.length === 0 ? null : list);
  const values = hs.map((h) => {
    const ref = makeRef(connection, h.key);
    // A backfill's first batch for an item starts it afresh; its later batches append.
    const base = h.mode === 'append' && (!backfilled || backfilled.has(ref)) ? appendTo.get(ref) : undefined;
    backfilled?.add(ref);
    return {
      ref,
      connection,
      transitions: compactTransitions(h.transitions, base?.transitions ?? []),
      dueChanges: orNull(compactValues(h.due ?? [], base?.dueChanges ?? [])),
      parentChanges: orNull(compactValues(h.parent ?? [], base?.parentChanges ?? [])),
    };
  });
  await db
    .insert(itemHistory)
    .values(values)
    .onConflictDoUpdate({
      target: itemHistory.ref,
      set: {
        transitions: sql`excluded.transitions`,
        dueChanges: sql`excluded.due_changes`,
        parentChanges: sql`excluded.parent_changes`,
        updatedAt: sql`now()`,
      },
    });
}
