// Operator views of the outbox: what is waiting, what failed for good, and putting
// dead-lettered writes back in the queue.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { writeOutbox } from '../../db/schema.ts';

export interface OutboxRow {
  id: number;
  connection: string;
  ref: string;
  target: string;
  status: string;
  attempts: number;
  /** Sends that ended in an error; attempts − failures is how many times its worker stopped. */
  failures: number;
  lastError: string | null;
  nextAttemptAt: string;
  updatedAt: string;
}

export async function listWrites(db: Db, opts: { statuses?: string[]; limit?: number } = {}): Promise<OutboxRow[]> {
  const statuses = opts.statuses ?? ['pending', 'in_flight', 'dead', 'planned'];
  const rows = await db
    .select()
    .from(writeOutbox)
    .where(inArray(writeOutbox.status, statuses))
    .orderBy(desc(writeOutbox.updatedAt))
    .limit(opts.limit ?? 500);
  return rows.map((r) => ({
    id: r.id,
    connection: r.connection,
    ref: r.ref,
    target: r.target,
    status: r.status,
    attempts: r.attempts,
    failures: r.failures,
    lastError: r.lastError,
    nextAttemptAt: r.nextAttemptAt,
    updatedAt: r.updatedAt,
  }));
}

/**
 * Puts dead-lettered writes back in the queue (all, or the given ids). A dead write whose item
 * and target already have a newer waiting write is superseded instead: the newer one wins.
 */
export async function retryDeadWrites(db: Db, ids?: number[]): Promise<{ retried: number; superseded: number }> {
  const dead = await db
    .select({ id: writeOutbox.id, ref: writeOutbox.ref, target: writeOutbox.target })
    .from(writeOutbox)
    .where(ids ? and(eq(writeOutbox.status, 'dead'), inArray(writeOutbox.id, ids)) : eq(writeOutbox.status, 'dead'));
  let retried = 0;
  let superseded = 0;
  for (const row of dead) {
    const [waiting] = await db
      .select({ id: writeOutbox.id })
      .from(writeOutbox)
      .where(and(eq(writeOutbox.ref, row.ref), eq(writeOutbox.target, row.target), eq(writeOutbox.status, 'pending')));
    if (waiting) {
      await db
        .update(writeOutbox)
        .set({ status: 'superseded', updatedAt: sql`now()` })
        .where(eq(writeOutbox.id, row.id));
      superseded++;
      continue;
    }
    await db
      .update(writeOutbox)
      .set({
        status: 'pending',
        attempts: 0,
        failures: 0,
        nextAttemptAt: sql`now()`,
        lastError: null,
        updatedAt: sql`now()`,
      })
      .where(eq(writeOutbox.id, row.id));
    retried++;
  }
  return { retried, superseded };
}
