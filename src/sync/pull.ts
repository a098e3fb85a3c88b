// Steps 1 and 2 of a sync pass, per connection: pull the tracker's changes from the
// connection's cursor and store them behind the pull; sweep for deletions and missed items when
// asked (the reconcile pass); read again by key what an earlier pass quarantined.
import { eq, sql } from 'drizzle-orm';
import type { Connector, ConnectorStats, UnreadableItem } from '../../connectors/types.ts';
import type { Database, Db } from '../../db/client.ts';
import { failureReason } from '../../db/errors.ts';
import { kv, syncCursors } from '../../db/schema.ts';
import { storableText } from '../../db/storable.ts';
import type { Logger } from '../core/log.ts';
import { makeRef, type WorkItem } from '../core/work-item.ts';
import type { SyncProgress } from './phases.ts';
import {
  clearQuarantine,
  type QuarantinedItem,
  quarantinedKeys,
  REREAD_STAGES,
  recordQuarantine,
  unreadableItems,
} from './quarantine.ts';
import { admitInScope, leaveScope, sweepGone } from './scope.ts';
import { markDeleted, storedRefs, storeItems } from './store.ts';
import type { ConnectionSummary } from './summary.ts';

/** Items stored per statement: pages are smaller, and fewer, larger upserts are cheaper. */
const STORE_BATCH = 1000;
/** Batches of one connection stored at once, each on its own database connection. */
const STORE_LANES = 2;

export interface PullDeps {
  database: Database;
  log: Logger;
}

export interface PullOptions {
  /** Ignore the cursor and re-read everything; also sweeps for deletions. */
  full?: boolean;
  /** Sweep for deleted and missed items (the reconcile pass). */
  reconcile?: boolean;
  onProgress?(event: SyncProgress): void;
  /** Told of the failure; when absent it is logged here as an error. */
  onConnectionError?(connection: string, err: unknown): void;
  signal?: AbortSignal;
}

/** What a connection's sync reports to its pass besides its summary. */
export interface PassSink {
  /** Refs whose content changed: what the pass evaluates. */
  changed: Set<string>;
  quarantine(items: readonly QuarantinedItem[]): void;
}

export async function pullConnection(
  deps: PullDeps,
  connector: Connector,
  opts: PullOptions,
  now: () => Date,
  pass: PassSink,
): Promise<ConnectionSummary> {
  const { changed } = pass;
  const { db } = deps.database;
  const log = deps.log.child({ connection: connector.id });
  const out: ConnectionSummary = {
    id: connector.id,
    tracker: connector.tracker,
    status: 'ok',
    itemsPulled: 0,
    itemsChanged: 0,
    itemsDeleted: 0,
    itemsRepaired: 0,
    itemsQuarantined: 0,
    requests: 0,
    throttled: 0,
    retries: 0,
  };
  let total: number | null = null;
  const progress = (phase: SyncProgress['phase']) =>
    opts.onProgress?.({ connection: connector.id, phase, done: out.itemsPulled, total });
  const release = await deps.database.tryLock(`sync:${connector.id}`);
  if (!release) {
    out.status = 'skipped';
    out.error = 'another sync of this connection is running; skipped';
    progress('skipped');
    return out;
  }
  const before = snapshot(connector.stats());
  try {
    const [row] = await db.select().from(syncCursors).where(eq(syncCursors.connection, connector.id));
    const cursor = opts.full ? null : (row?.cursor ?? null);
    // Items the database refused in an earlier pass: those this pull does not read again (an
    // incremental pull sees an item only when it changed) are read by key once it is done.
    const retry = new Set(await quarantinedKeys(db, connector.id));
    log.info({ incremental: cursor !== null }, 'pull started');
    let buffer: WorkItem[] = [];
    // Stores run behind the pull, in STORE_LANES lanes: the next pages are read while the
    // database writes earlier batches, on as many connections. A batch waits for the one
    // before it in its lane (bounded memory), and for every lane when it holds an item still
    // being stored in another, so a newer revision is never overtaken by an older one.
    const lanes = Array.from({ length: STORE_LANES }, () => ({
      done: Promise.resolve() as Promise<void>,
      /** Refs of this lane's batches, queued or running. */
      batches: new Set<Set<string>>(),
    }));
    let next = 0;
    const allStored = () => Promise.all(lanes.map((l) => l.done)).then(() => {});
    const flush = (): Promise<void> => {
      const batch = buffer;
      buffer = [];
      if (batch.length === 0) return allStored();
      const lane = lanes[next++ % lanes.length]!;
      const clash = lanes.some(
        (l) => l !== lane && [...l.batches].some((refs) => batch.some((it) => refs.has(it.ref))),
      );
      const previous = clash ? allStored() : lane.done;
      const refs = new Set(batch.map((it) => it.ref));
      lane.batches.add(refs);
      lane.done = previous.then(async () => {
        try {
          const stored = await storeItems(db, batch, now());
          for (const ref of stored.changed) changed.add(ref);
          out.itemsChanged += stored.changed.length;
          pass.quarantine(stored.quarantined);
        } finally {
          lane.batches.delete(refs);
        }
      });
      // Awaited after the pull; marked handled so a failure the pull outruns is not reported
      // as unhandled before then.
      lane.done.catch(() => {});
      return previous;
    };
    let result: Awaited<ReturnType<Connector['pull']>>;
    try {
      progress('pull');
      result = await connector.pull({
        cursor,
        signal: opts.signal,
        onTotal: opts.onProgress
          ? (n) => {
              total = n;
              progress('pull');
            }
          : undefined,
        // An item the tracker returned in a shape we cannot read waits in the quarantine, and
        // the next pass reads it again by key; its page goes on without it.
        onUnreadable: async (list) => {
          out.itemsPulled += list.length;
          const refused = unreadableItems(connector.id, list);
          await recordQuarantine(db, refused);
          pass.quarantine(refused);
          for (const u of list) retry.delete(storableText(u.key));
        },
        onPage: async (items) => {
          out.itemsPulled += items.length;
          if (retry.size > 0) for (const it of items) retry.delete(storableText(it.key));
          // A pull reads through the scope query; the project of each item is still checked.
          const { inScope, outOfScope } = await admitInScope(connector, items, { viaScopeQuery: true, log });
          for (const ref of await leaveScope(db, outOfScope)) changed.add(ref);
          buffer.push(...inScope);
          // Pages are small (Jira: 100); storing ~1,000 at a time halves the database's share.
          if (buffer.length >= STORE_BATCH) await flush();
          progress('pull');
        },
      });
    } finally {
      // Never leave a store running past the lock, whatever the pull did.
      await allStored().catch(() => {});
    }
    progress('store');
    await allStored(); // a failed store fails the pull before its tail is stored
    await flush();
    await allStored();
    if (opts.full || opts.reconcile) {
      const sweep = await reconcileConnection(db, connector, now());
      out.itemsDeleted += sweep.deleted.length;
      out.itemsRepaired += sweep.repaired.length;
      for (const ref of [...sweep.deleted, ...sweep.repaired, ...sweep.leftScope]) changed.add(ref);
      pass.quarantine(sweep.quarantined);
      for (const key of sweep.fetched) retry.delete(storableText(key));
    }
    if (retry.size > 0) {
      const again = await retryQuarantined(db, connector, [...retry], now());
      out.itemsPulled += again.pulled;
      out.itemsChanged += again.changed.length;
      out.itemsDeleted += again.deleted.length;
      for (const ref of [...again.changed, ...again.deleted, ...again.leftScope]) changed.add(ref);
      pass.quarantine(again.quarantined);
    }
    if (connector.checkMapping) {
      // A mapping that no longer fits must be loud: say it in the summary and keep it for /readyz.
      const drift = await connector.checkMapping();
      out.drift = drift.map((d) => `${d.what} "${d.name}": ${d.message}`);
      await db
        .insert(kv)
        .values({ key: `drift:${connector.id}`, value: drift })
        .onConflictDoUpdate({ target: kv.key, set: { value: drift, updatedAt: sql`now()` } });
      if (drift.length > 0) log.warn({ drift }, 'tracker mapping drift');
    }
    await db
      .insert(syncCursors)
      .values({ connection: connector.id, cursor: result.cursor })
      .onConflictDoUpdate({ target: syncCursors.connection, set: { cursor: result.cursor, updatedAt: sql`now()` } });
    log.info({ pulled: out.itemsPulled, changed: out.itemsChanged }, 'pull finished');
  } catch (err) {
    out.status = 'failed';
    // One line: a database error's own message, never the statement and its values.
    out.error = failureReason(err);
    if (opts.onConnectionError) opts.onConnectionError(connector.id, err);
    else log.error({ err }, 'sync of connection failed');
  } finally {
    await release();
  }
  progress(out.status === 'ok' ? 'done' : 'failed');
  const after = connector.stats();
  out.requests = after.requests - before.requests;
  out.throttled = after.throttled - before.throttled;
  out.retries = after.retries - before.retries;
  const pauses = (after.quota?.pauses ?? 0) - (before.quota?.pauses ?? 0);
  if (pauses > 0) {
    out.quotaPauses = pauses;
    if (after.quota?.pausedUntil) out.quotaPausedUntil = after.quota.pausedUntil;
  }
  return out;
}

/**
 * Compares the tracker's keys with the stored ones: items gone from the tracker are marked
 * deleted, items the tracker has but we lack (a missed webhook beyond the cursor) are read.
 */
export async function reconcileConnection(
  db: Db,
  connector: Connector,
  now: Date,
): Promise<{
  deleted: string[];
  repaired: string[];
  leftScope: string[];
  quarantined: QuarantinedItem[];
  fetched: string[];
}> {
  const keys = await connector.listKeys();
  const live = new Set(keys.map((k) => makeRef(connector.id, k)));
  const stored = new Set(await storedRefs(db, connector.id));
  const gone = [...stored].filter((r) => !live.has(r));
  const missing = keys.filter((k) => !stored.has(makeRef(connector.id, k)));
  // Gone from the scope query: deleted in the tracker, or moved out of the scope (scope.ts).
  const swept = await sweepGone(db, connector, gone, now);
  const repaired: string[] = [...swept.stored];
  const leftScope = [...swept.leftScope];
  const quarantined: QuarantinedItem[] = [...swept.unreadable];
  if (missing.length > 0) {
    const unreadable: UnreadableItem[] = [];
    const found = await connector.fetchItems(missing, { onUnreadable: (u) => void unreadable.push(...u) });
    const refused = unreadableItems(connector.id, unreadable);
    await recordQuarantine(db, refused);
    quarantined.push(...refused);
    const { inScope, outOfScope } = await admitInScope(connector, found);
    const stored = await storeItems(db, inScope, now);
    repaired.push(...stored.changed);
    leftScope.push(...(await leaveScope(db, outOfScope)));
    quarantined.push(...stored.quarantined);
  }
  return { deleted: swept.deleted, repaired, leftScope, quarantined, fetched: missing };
}

/**
 * Reads again by key, and stores, items of a connection the database refused in an earlier pass
 * (quarantined at `store`). Keys the tracker no longer has leave the quarantine, and a version
 * stored before is marked deleted, as the reconcile sweep would; an item now outside the scope
 * leaves pmo-sync's view (scope.ts).
 */
export async function retryQuarantined(
  db: Db,
  connector: Connector,
  keys: string[],
  now: Date,
): Promise<{
  pulled: number;
  changed: string[];
  deleted: string[];
  leftScope: string[];
  quarantined: QuarantinedItem[];
}> {
  const unreadable: UnreadableItem[] = [];
  const items = await connector.fetchItems(keys, { onUnreadable: (u) => void unreadable.push(...u) });
  const refused = unreadableItems(connector.id, unreadable);
  await recordQuarantine(db, refused);
  const { inScope, outOfScope } = await admitInScope(connector, items);
  const stored = await storeItems(db, inScope, now);
  // Neither returned nor unreadable: the tracker no longer has it.
  const found = new Set([...items, ...unreadable].map((i) => storableText(i.key)));
  const gone = keys.filter((k) => !found.has(k)).map((k) => makeRef(connector.id, k));
  await clearQuarantine(db, [...gone, ...outOfScope], REREAD_STAGES);
  const deleted = await markDeleted(db, gone, now);
  const leftScope = await leaveScope(db, outOfScope);
  return {
    pulled: items.length + unreadable.length,
    changed: stored.changed,
    deleted,
    leftScope,
    quarantined: [...refused, ...stored.quarantined],
  };
}

function snapshot(s: ConnectorStats): ConnectorStats {
  return { ...s, byEndpoint: { ...s.byEndpoint } };
}
