// Turns stored webhook events into fresh items, findings and planned writes. Bursts are
// coalesced (events younger than the debounce wait for their siblings), items are re-read
// authoritatively in batches, late deliveries never regress an item (the store compares
// revisions), an item not yet readable is retried later, and a poison event is retried with
// backoff, then dead-lettered — it never holds up the others. A processor that dies mid-batch
// costs its events nothing: only recorded failures count towards dead-lettering.
import { sql } from 'drizzle-orm';
import type { Connector, UnreadableItem } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { makeRef, type WorkItem } from '../core/work-item.ts';
import type { BackoffPolicy } from '../queue/backoff.ts';
import { createQueue } from '../queue/queue.ts';
import type { SyncPipeline } from '../sync/pipeline.ts';
import { recordQuarantine, unreadableItems } from '../sync/quarantine.ts';
import { commitChanges } from '../sync/run.ts';
import { admitInScope, leaveScope, rereadDangling } from '../sync/scope.ts';
import { refreshAggregates as refreshAggregateRollups } from '../sync/steps.ts';
import { markDeleted, storeItems } from '../sync/store.ts';
import { PRIORITY_WEBHOOK } from '../writeback/plan.ts';

/** A failed event waits 1 s, then 2 s, 4 s … up to a minute: trackers' search lag is short. */
export const WEBHOOK_BACKOFF: BackoffPolicy = { firstMs: 1000, capMs: 60_000, jitter: 0 };

export interface WebhookProcessorDeps {
  database: Database;
  connectors: ReadonlyMap<string, Connector>;
  config: Config;
  log: Logger;
  pipeline: SyncPipeline;
  /**
   * Send the writes a batch plans through `pipeline.send` once the batch is done (enforce mode).
   * False where something else drains the outbox: a runtime's own write loop (woken through
   * `onPlanned`, so a slow tracker write never holds up the next events), a Worker's queue.
   */
  send: boolean;
  /** Events younger than this wait, so a burst on one item becomes one re-read. */
  debounceMs?: number;
  leaseMs?: number;
  /** Failed tries after which an event is dead-lettered (6). */
  maxAttempts?: number;
  /** Expired leases after which an event is dead-lettered (20): it stops every processor. */
  maxLeaseExpiries?: number;
  /** Times an event may find its item unreadable (search lag) before it counts as deleted. */
  unreadableRetries?: number;
  /**
   * Called as soon as a batch's writes are committed to the outbox: a runtime's write loop
   * wakes here.
   */
  onPlanned?(): void;
  /**
   * Project, program and portfolio rollups read every stored item, so under a stream of
   * events they are recomputed at most this often (and once the stream pauses) instead of
   * once per batch; epic rollups, which the write-back shows, are always current.
   */
  aggregateEveryMs?: number;
}

export interface ProcessResult {
  claimed: number;
  processed: number;
  retried: number;
  dead: number;
  itemsChanged: number;
  writesPlanned: number;
  writesSent: number;
}

/** A batch re-read: the items, and the keys that came back unreadable. */
interface Fetched {
  items: WorkItem[];
  refused: UnreadableItem[];
}

interface InboxRow {
  id: number;
  connection: string;
  event: string;
  keys: string[];
  /** Tries of it that ended in a recorded failure before this claim. */
  failures: number;
}

export function createWebhookProcessor(deps: WebhookProcessorDeps) {
  const { db } = deps.database;
  const debounceMs = deps.debounceMs ?? 250;
  const leaseMs = deps.leaseMs ?? 60_000;
  const maxAttempts = deps.maxAttempts ?? 6;
  const maxLeaseExpiries = deps.maxLeaseExpiries ?? 20;
  const unreadableRetries = deps.unreadableRetries ?? 4;
  const log = deps.log.child({ component: 'webhooks' });
  const aggregateEveryMs = deps.aggregateEveryMs ?? 2000;
  let aggregatesDirty = false;
  let aggregatesAt = Number.NEGATIVE_INFINITY;

  async function refreshAggregates(force: boolean): Promise<void> {
    if (!aggregatesDirty) return;
    if (!force && performance.now() - aggregatesAt < aggregateEveryMs) return;
    aggregatesDirty = false;
    aggregatesAt = performance.now();
    try {
      await db.transaction((tx) => refreshAggregateRollups(tx as unknown as typeof db, deps.pipeline, new Date()));
    } catch (err) {
      aggregatesDirty = true;
      throw err;
    }
  }

  const inbox = createQueue(db, {
    table: 'webhook_inbox',
    leasedStatus: 'processing',
    columns: ['id', 'connection', 'event', 'keys', 'failures'],
    labels: ['connection'],
    orderBy: ['id'],
    expiredText: ' times: every processor that took this event stopped',
    doneAtColumn: 'processed_at',
    maxAttempts,
    maxLeaseExpiries,
    backoff: WEBHOOK_BACKOFF,
  });

  async function claim(): Promise<InboxRow[]> {
    for (const r of await inbox.releaseExpired()) {
      if (r.status === 'dead') log.error({ id: r.id, connection: r.labels.connection }, 'webhook event dead-lettered');
    }
    const rows = await inbox.claim({
      limit: 500,
      leaseMs,
      where: sql`c.received_at <= now() - (${debounceMs} * interval '1 millisecond')`,
    });
    return rows.map((r) => ({
      id: Number(r.id),
      connection: String(r.connection),
      event: String(r.event),
      keys: (typeof r.keys === 'string' ? JSON.parse(r.keys) : r.keys) as string[],
      failures: Number(r.failures),
    }));
  }

  async function retryLater(row: InboxRow, error: string): Promise<'retried' | 'dead'> {
    const { outcome } = await inbox.fail(row, error);
    if (outcome === 'dead') {
      log.error({ id: row.id, connection: row.connection, keys: row.keys, error }, 'webhook event dead-lettered');
    }
    return outcome;
  }

  /**
   * Re-reads the items of some events of one connection. An item the tracker returns in a shape
   * pmo-sync cannot read is named in `refused`, not returned: it is quarantined and its batch
   * goes on without it.
   */
  async function fetchBatch(connector: Connector, rows: InboxRow[]): Promise<Fetched> {
    const refused: UnreadableItem[] = [];
    const items = await connector.fetchItems([...new Set(rows.flatMap((r) => r.keys))], {
      onUnreadable: (u) => void refused.push(...u),
    });
    return { items, refused };
  }

  /** Stores what was read; says which events are done and which wait for their item. */
  async function storeBatch(
    connector: Connector,
    rows: InboxRow[],
    { items, refused }: Fetched,
  ): Promise<{ changed: string[]; done: InboxRow[]; unreadable: InboxRow[] }> {
    // Unreadable, the item still exists: quarantined at `read`, and every pass reads it again by
    // key until it can be stored (src/sync/run.ts); its event is done, not retried or deleted.
    await recordQuarantine(db, unreadableItems(connector.id, refused));
    const found = new Set([...items.map((i) => i.key), ...refused.map((u) => u.key)]);
    // Service hooks may be org-wide and a re-read by key returns any project's item: only those
    // in the connection's scope are stored; one that left it leaves pmo-sync's view (scope.ts).
    const { inScope, outOfScope } = await admitInScope(connector, items, { log });
    const stored = await storeItems(db, inScope);
    const changed = [...stored.changed, ...(await leaveScope(db, outOfScope))];
    const done: InboxRow[] = [];
    const unreadable: InboxRow[] = [];
    const gone: string[] = [];
    for (const row of rows) {
      const missing = row.keys.filter((k) => !found.has(k));
      if (missing.length === 0 || row.event === 'deleted' || row.failures >= unreadableRetries) {
        gone.push(...missing.map((k) => makeRef(connector.id, k)));
        done.push(row);
      } else {
        unreadable.push(row);
      }
    }
    const deleted = [...new Set(gone)];
    changed.push(...(await markDeleted(db, deleted)));
    // The tracker took the deleted items' links off the items linked to them without a change of
    // theirs that a later pull would see (Jira): those items are read again now, whether the
    // deleted one was ever stored or not (scope.ts rereadDangling).
    if (deleted.length > 0) {
      const again = await rereadDangling(db, connector, new Date(), { targets: deleted });
      changed.push(...again.stored, ...again.leftScope);
    }
    return { changed, done, unreadable };
  }

  async function finish(changed: string[], done: InboxRow[]): Promise<number> {
    const { planned } = await commitChanges(db, deps.pipeline, {
      refs: changed,
      now: new Date(),
      dryRun: deps.config.mode === 'dry-run',
      priority: PRIORITY_WEBHOOK,
      deferAggregates: true,
    });
    if (changed.length > 0) aggregatesDirty = true;
    await inbox.done(done.map((r) => r.id));
    return planned;
  }

  async function runOnce(): Promise<ProcessResult> {
    const rows = await claim();
    const result: ProcessResult = {
      claimed: rows.length,
      processed: 0,
      retried: 0,
      dead: 0,
      itemsChanged: 0,
      writesPlanned: 0,
      writesSent: 0,
    };
    if (rows.length === 0) {
      // The stream paused: bring the portfolio figures up to date now.
      await refreshAggregates(true);
      return result;
    }
    const byConnection = new Map<string, InboxRow[]>();
    for (const r of rows) byConnection.set(r.connection, [...(byConnection.get(r.connection) ?? []), r]);
    const touched: string[] = [];
    // Each connection's burst is fetched from its tracker at once, side by side; storing and
    // committing then go one connection at a time.
    const firstFetches = new Map<string, Promise<Fetched>>();
    for (const [connection, group] of byConnection) {
      const connector = deps.connectors.get(connection);
      if (!connector) continue;
      const fetched = fetchBatch(connector, group);
      fetched.catch(() => {});
      firstFetches.set(connection, fetched);
    }
    for (const [connection, group] of byConnection) {
      const connector = deps.connectors.get(connection);
      if (!connector) {
        for (const r of group) result[await retryLater(r, `no connector for ${connection}`)]++;
        continue;
      }
      // The whole burst in one read; if that fails, each event alone, so one poison event
      // cannot hold the rest back.
      const batches = [group];
      let first = true;
      while (batches.length > 0) {
        const batch = batches.shift()!;
        try {
          const fetched = first ? firstFetches.get(connection)! : fetchBatch(connector, batch);
          first = false;
          const { changed, done, unreadable } = await storeBatch(connector, batch, await fetched);
          const planned = await finish(changed, done);
          if (planned > 0) deps.onPlanned?.();
          result.processed += done.length;
          result.itemsChanged += changed.length;
          result.writesPlanned += planned;
          for (const r of unreadable) result[await retryLater(r, 'item not readable yet')]++;
          touched.push(connection);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          if (batch.length > 1) {
            log.warn({ connection, events: batch.length, err: message }, 'batch failed; retrying events one by one');
            batches.push(...batch.map((r) => [r]));
          } else {
            result[await retryLater(batch[0]!, message)]++;
          }
        }
      }
    }
    await refreshAggregates(false);
    if (touched.length > 0 && deps.send && deps.config.mode !== 'dry-run') {
      const sent = await deps.pipeline.send({ connections: [...new Set(touched)] });
      result.writesSent += sent.sent;
    }
    return result;
  }

  return {
    runOnce,
    /** Processes until nothing is claimable now. */
    async drain(): Promise<ProcessResult> {
      const total: ProcessResult = {
        claimed: 0,
        processed: 0,
        retried: 0,
        dead: 0,
        itemsChanged: 0,
        writesPlanned: 0,
        writesSent: 0,
      };
      for (;;) {
        const r = await runOnce();
        for (const k of Object.keys(total) as (keyof ProcessResult)[]) total[k] += r[k];
        if (r.claimed === 0) return total;
      }
    },
  };
}
