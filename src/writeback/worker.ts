// Sends planned writes from the outbox. Workers on any number of processes claim rows with
// FOR UPDATE SKIP LOCKED and a lease; a row whose item already has a write in flight waits,
// so two versions of one comment are never sent at once. A crash leaves the lease to expire
// and the row is sent again: ensureComment finds the bot comment by its marker, so a resend
// edits rather than duplicates. A lease that expires is not a failure of the write: only sends
// that end in an error count towards dead-lettering, so restarting workers never loses a write.
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Connector } from '../../connectors/types.ts';
import type { Database, Db } from '../../db/client.ts';
import { appliedState, writeAudit } from '../../db/schema.ts';
import { ConnectorError, NotFoundError, RateLimitError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { splitRef } from '../core/work-item.ts';
import type { BackoffPolicy } from '../queue/backoff.ts';
import { createQueue } from '../queue/queue.ts';
import { markerFor } from './desired.ts';
import type { OutboxPayload, WriteTarget } from './plan.ts';

/** A failed write waits 1 s, 2 s, 4 s … up to five minutes, each ±25 % so a burst spreads out. */
export const WRITE_BACKOFF: BackoffPolicy = { firstMs: 1000, capMs: 300_000, jitter: 0.25 };

export interface WriteWorkerDeps {
  database: Database;
  connectors: ReadonlyMap<string, Connector>;
  log: Logger;
  workerId?: string;
  leaseMs?: number;
  /** Failed sends after which a write is dead-lettered (8). */
  maxAttempts?: number;
  /**
   * Expired leases after which a write is dead-lettered (20): one that stops every worker that
   * takes it (a crash on its payload, say) must not stop them for ever.
   */
  maxLeaseExpiries?: number;
  /** How long a failed write waits before its next send (WRITE_BACKOFF). */
  backoff?: BackoffPolicy;
  /** Called after each write lands (the freshness histogram hooks in here). */
  onApplied?(row: ClaimedWrite): void;
}

export interface ClaimedWrite {
  id: number;
  connection: string;
  ref: string;
  target: WriteTarget;
  payload: OutboxPayload;
  desiredHash: string;
  /** This claim's number, counting claims whose worker died. */
  attempts: number;
  /** Sends of it that ended in an error before this claim. */
  failures: number;
  priority: number;
  createdAt: string;
}

export interface WorkerRunResult {
  claimed: number;
  sent: number;
  unchanged: number;
  failed: number;
  dead: number;
}

export interface WriteWorker {
  readonly id: string;
  runOnce(limit?: number): Promise<WorkerRunResult>;
  /** Runs until nothing is claimable now (rows waiting for a retry time are left for later). */
  drain(opts?: { signal?: AbortSignal }): Promise<WorkerRunResult>;
}

export function createWriteWorker(deps: WriteWorkerDeps): WriteWorker {
  const id = deps.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
  const leaseMs = deps.leaseMs ?? 120_000;
  const maxAttempts = deps.maxAttempts ?? 8;
  const maxLeaseExpiries = deps.maxLeaseExpiries ?? 20;
  const { db } = deps.database;
  const connections = [...deps.connectors.keys()];
  const log = deps.log.child({ worker: id });

  const outbox = createQueue(db, {
    table: 'write_outbox',
    leasedStatus: 'in_flight',
    columns: [
      'id',
      'connection',
      'ref',
      'target',
      'payload',
      'desired_hash',
      'attempts',
      'failures',
      'priority',
      'created_at',
    ],
    labels: ['ref', 'target'],
    orderBy: ['priority', 'id'],
    expiredText: ' times: every worker that took this write stopped before finishing it',
    holderColumn: true,
    updatedAtColumn: true,
    // An expired lease hands the row back unless a newer plan for the same item and target is
    // already waiting: that one carries the latest state.
    streamBy: ['ref', 'target'],
    maxAttempts,
    maxLeaseExpiries,
    backoff: deps.backoff ?? WRITE_BACKOFF,
  });

  async function releaseExpiredLeases(): Promise<void> {
    // An expired lease means its worker died mid-write.
    for (const r of await outbox.releaseExpired()) {
      if (r.status === 'dead')
        log.error({ ref: r.labels.ref, target: r.labels.target, expiries: r.expiries }, 'write dead-lettered');
    }
  }

  async function claim(limit: number): Promise<ClaimedWrite[]> {
    if (connections.length === 0) return [];
    const rows = await outbox.claim({
      limit,
      leaseMs,
      holder: id,
      where: sql`c.connection in (${sql.join(
        connections.map((c) => sql`${c}`),
        sql`, `,
      )})`,
    });
    return rows.map((r) => ({
      id: Number(r.id),
      connection: String(r.connection),
      ref: String(r.ref),
      target: r.target as WriteTarget,
      payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as OutboxPayload,
      desiredHash: String(r.desired_hash),
      attempts: Number(r.attempts),
      failures: Number(r.failures),
      priority: Number(r.priority),
      createdAt: new Date(r.created_at as string).toISOString(),
    }));
  }

  async function execute(row: ClaimedWrite): Promise<{ action: string; externalId: string | null }> {
    const connector = deps.connectors.get(row.connection);
    if (!connector) throw new Error(`no connector for connection ${row.connection}`);
    const { key } = splitRef(row.ref);
    if (row.target === 'comment') {
      const plan = row.payload.comment!;
      const [applied] = await db
        .select({ externalId: appliedState.externalId })
        .from(appliedState)
        .where(and(eq(appliedState.ref, row.ref), eq(appliedState.target, 'comment')));
      const commentId = applied?.externalId ?? null;
      if (plan.action === 'delete') {
        const r = await connector.deleteComment({ key, commentId, marker: markerFor(row.ref) });
        return { action: r, externalId: null };
      }
      const r = await connector.ensureComment({ key, doc: plan.doc, commentId });
      return { action: r.outcome, externalId: r.commentId };
    }
    if (row.target === 'labels') {
      const r = await connector.updateLabels({ key, ...row.payload.labels! });
      return { action: r, externalId: null };
    }
    const r = await connector.updateFields({ key, fields: row.payload.fields! });
    return { action: r, externalId: null };
  }

  async function complete(row: ClaimedWrite, action: string, externalId: string | null): Promise<void> {
    await db.transaction(async (tx) => {
      await tx
        .insert(appliedState)
        .values({ ref: row.ref, target: row.target, hash: row.desiredHash, externalId, value: row.payload })
        .onConflictDoUpdate({
          target: [appliedState.ref, appliedState.target],
          set: { hash: row.desiredHash, externalId, value: row.payload, appliedAt: sql`now()` },
        });
      await outbox.done([row.id], tx as unknown as Db);
      await tx.insert(writeAudit).values({
        connection: row.connection,
        ref: row.ref,
        target: row.target,
        action,
        httpStatus: action === 'unchanged' || action === 'absent' ? null : 200,
        outboxId: row.id,
        detail: { attempt: row.attempts, worker: id },
      });
    });
  }

  async function fail(row: ClaimedWrite, err: unknown): Promise<'failed' | 'dead'> {
    const message = err instanceof Error ? err.message : String(err);
    const httpStatus = err instanceof ConnectorError ? (err.httpStatus ?? null) : null;
    if (err instanceof NotFoundError) {
      // The item is gone from the tracker: nothing to retry, nothing for a person to look at.
      await outbox.drop(row.id, message);
      log.info({ ref: row.ref, target: row.target }, 'write dropped: the item no longer exists');
      return 'failed';
    }
    await db.insert(writeAudit).values({
      connection: row.connection,
      ref: row.ref,
      target: row.target,
      action: 'error',
      httpStatus,
      outboxId: row.id,
      detail: { attempt: row.attempts, worker: id, error: message },
    });
    // A rate limit says when to come back; sooner would only be refused again.
    const asked = err instanceof RateLimitError ? Math.max(1000, err.retryAfterMs) : undefined;
    const { outcome, failures, delayMs } = await outbox.fail(row, message, { delayMs: asked });
    if (outcome === 'dead') {
      log.error({ ref: row.ref, target: row.target, failures, err: message }, 'write dead-lettered');
      return 'dead';
    }
    log.warn(
      { ref: row.ref, target: row.target, failures, retryInMs: delayMs, err: message },
      'write failed, will retry',
    );
    return 'failed';
  }

  /**
   * Keeps the leases of writes in progress alive: a slow tracker (retries, Retry-After waits)
   * must never let a lease lapse mid-write, or another worker would send the same write.
   */
  function heartbeat(ids: number[]): () => void {
    if (ids.length === 0) return () => {};
    const timer = setInterval(
      () => {
        outbox.renew(ids, leaseMs, id).catch((err: unknown) => log.warn({ err }, 'could not renew write leases'));
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    timer.unref?.();
    return () => clearInterval(timer);
  }

  async function runOnce(limit = 50): Promise<WorkerRunResult> {
    await releaseExpiredLeases();
    const rows = await claim(limit);
    const out: WorkerRunResult = { claimed: rows.length, sent: 0, unchanged: 0, failed: 0, dead: 0 };
    const stopHeartbeat = heartbeat(rows.map((r) => r.id));
    try {
      await runRows(rows, out);
    } finally {
      stopHeartbeat();
    }
    return out;
  }

  async function runRows(rows: ClaimedWrite[], out: WorkerRunResult): Promise<void> {
    await Promise.all(
      rows.map(async (row) => {
        try {
          const { action, externalId } = await execute(row);
          await complete(row, action, externalId);
          if (action === 'unchanged' || action === 'absent') out.unchanged++;
          else out.sent++;
          deps.onApplied?.(row);
        } catch (err) {
          const r = await fail(row, err);
          out[r]++;
        }
      }),
    );
  }

  return {
    id,
    runOnce,
    async drain(opts = {}) {
      const total: WorkerRunResult = { claimed: 0, sent: 0, unchanged: 0, failed: 0, dead: 0 };
      for (;;) {
        if (opts.signal?.aborted) break;
        const r = await runOnce();
        for (const k of Object.keys(total) as (keyof WorkerRunResult)[]) total[k] += r[k];
        if (r.claimed === 0) break;
      }
      return total;
    },
  };
}
