// The lease protocol shared by the webhook inbox and the write outbox. Any number of processes
// claim due rows with FOR UPDATE SKIP LOCKED under a lease; a row's `attempts` counts claims
// and its `failures` counts claims that ended in a recorded error, so attempts − failures is how
// many of its leases expired. A lease that expires means its holder died: the row goes back to
// waiting without being charged, and is dead-lettered only once maxLeaseExpiries holders died on
// it (it stops every one that takes it). A recorded failure backs off (backoff.ts) and
// dead-letters after maxAttempts failures. Times are the database's now(), so every process
// agrees on them and a test moves a row's due time in SQL instead of waiting.
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { storableText } from '../../db/storable.ts';
import { type BackoffPolicy, backoffDelay } from './backoff.ts';

export interface QueueSpec {
  table: 'webhook_inbox' | 'write_outbox';
  /** The status of a row under a lease (`processing`, `in_flight`). */
  leasedStatus: string;
  /** Columns returned for a claimed row. */
  columns: readonly string[];
  /** Columns returned for a row whose lease was released (to log it by). */
  labels: readonly string[];
  /** Claim order, lowest first. */
  orderBy: readonly string[];
  /** How a dead-lettered row's last_error goes on after "the lease expired N times". */
  expiredText: string;
  /** The table records who holds a lease (`leased_by`). */
  holderColumn?: boolean;
  /** The table stamps every change of state in `updated_at`. */
  updatedAtColumn?: boolean;
  /** A column stamped when a row is done (`processed_at`). */
  doneAtColumn?: string;
  /**
   * Columns naming what a row is about (an item's `ref` and `target`). Rows sharing them are
   * one stream of versions: one of them is under a lease at a time, and a row that would go back
   * to waiting while a newer one waits is superseded instead, the newer carrying the latest state.
   */
  streamBy?: readonly string[];
  /** Failed tries after which a row is dead-lettered. */
  maxAttempts: number;
  /** Expired leases after which a row is dead-lettered. */
  maxLeaseExpiries: number;
  backoff: BackoffPolicy;
}

export interface ReleasedRow {
  id: number;
  status: 'pending' | 'dead' | 'superseded';
  /** How many of its leases have expired. */
  expiries: number;
  labels: Record<string, unknown>;
}

export interface FailureOutcome {
  outcome: 'retried' | 'dead';
  failures: number;
  /** The wait before the next try; 0 when dead. */
  delayMs: number;
}

export interface Queue {
  /** Hands the rows of every expired lease back (or dead-letters or supersedes them). */
  releaseExpired(): Promise<ReleasedRow[]>;
  /** Takes up to `limit` due rows under a lease of `leaseMs`; `where` narrows the candidates `c`. */
  claim(opts: { limit: number; leaseMs: number; holder?: string; where?: SQL }): Promise<Record<string, unknown>[]>;
  /** Extends the leases `holder` still has on these rows. */
  renew(ids: readonly number[], leaseMs: number, holder?: string): Promise<void>;
  /** Marks rows done; `db` is the transaction the rest of their work commits in. */
  done(ids: readonly number[], db?: Db): Promise<void>;
  /**
   * Records a failed try of a claimed row (its `failures` as claimed): retried after the backoff
   * (or `delayMs`, a wait the other side asked for), dead-lettered after maxAttempts.
   */
  fail(row: { id: number; failures: number }, error: string, opts?: { delayMs?: number }): Promise<FailureOutcome>;
  /** Leaves a row for good without counting it as a failure: there is nothing left to do. */
  drop(id: number, error: string): Promise<void>;
}

export function createQueue(db: Db, spec: QueueSpec): Queue {
  const table = sql.identifier(spec.table);
  const col = (alias: string, name: string) => sql.raw(`${alias}.${quote(name)}`);
  const list = (alias: string, names: readonly string[]) =>
    sql.join(
      names.map((n) => col(alias, n)),
      sql`, `,
    );
  const ids = (values: readonly number[]) =>
    sql.join(
      values.map((i) => sql`${i}`),
      sql`, `,
    );
  const touched = spec.updatedAtColumn ? sql`, updated_at = now()` : sql``;
  const unheld = spec.holderColumn ? sql`, leased_by = null` : sql``;
  /** Another row of the stream of the row aliased `of`, in the given status. */
  const sibling = (of: string, status: string, extra: SQL = sql``) =>
    sql`exists (select 1 from ${table} s where ${sql.join(
      (spec.streamBy ?? []).map((c) => sql`${col('s', c)} = ${col(of, c)}`),
      sql` and `,
    )} and s.status = ${status}${extra})`;
  const expiries = sql`o.attempts - o.failures`;

  return {
    async releaseExpired() {
      const dead = sql`${expiries} >= ${spec.maxLeaseExpiries}`;
      const superseded = spec.streamBy ? sql`when ${sibling('o', 'pending')} then 'superseded' ` : sql``;
      const rows = await queryRows<Record<string, unknown>>(
        db,
        sql`
        update ${table} o set
          status = case ${superseded}when ${dead} then 'dead' else 'pending' end,
          last_error = case when ${dead}
            then 'the lease expired ' || (${expiries}) || ${spec.expiredText}::text
            else o.last_error end,
          lease_until = null${unheld}${touched}
        where o.status = ${spec.leasedStatus} and o.lease_until < now()
        returning o.id, o.status, ${expiries} as expiries${spec.labels.length > 0 ? sql`, ${list('o', spec.labels)}` : sql``}`,
      );
      return rows.map((r) => ({
        id: Number(r.id),
        status: r.status as ReleasedRow['status'],
        expiries: Number(r.expiries),
        labels: Object.fromEntries(spec.labels.map((l) => [l, r[l]])),
      }));
    },

    async claim({ limit, leaseMs, holder, where }) {
      const held = spec.holderColumn ? sql`, leased_by = ${holder ?? null}` : sql``;
      const oneAtATime = spec.streamBy ? sql` and not ${sibling('c', spec.leasedStatus)}` : sql``;
      return queryRows<Record<string, unknown>>(
        db,
        sql`
        update ${table} o set status = ${spec.leasedStatus}${held}, attempts = o.attempts + 1,
          lease_until = now() + (${leaseMs} * interval '1 millisecond')${touched}
        where o.id in (
          select c.id from ${table} c
          where c.status = 'pending' and c.next_attempt_at <= now()${where ? sql` and ${where}` : sql``}${oneAtATime}
          order by ${list('c', spec.orderBy)}
          limit ${limit}
          for update skip locked
        )
        returning ${list('o', spec.columns)}`,
      );
    },

    async renew(rows, leaseMs, holder) {
      if (rows.length === 0) return;
      const held = spec.holderColumn ? sql` and leased_by = ${holder ?? null}` : sql``;
      await db.execute(sql`
        update ${table} set lease_until = now() + (${leaseMs} * interval '1 millisecond')
        where status = ${spec.leasedStatus}${held} and id in (${ids(rows)})`);
    },

    async done(rows, tx = db) {
      if (rows.length === 0) return;
      const doneAt = spec.doneAtColumn ? sql`, ${sql.identifier(spec.doneAtColumn)} = now()` : sql``;
      await tx.execute(sql`
        update ${table} set status = 'done'${doneAt}, lease_until = null, last_error = null${touched}
        where id in (${ids(rows)})`);
    },

    async fail(row, error, opts = {}) {
      const failures = row.failures + 1;
      // Raw SQL bypasses the column's storable type: a tracker's error text may hold U+0000.
      const lastError = storableText(error);
      if (failures >= spec.maxAttempts) {
        await db.execute(sql`
          update ${table} set status = 'dead', failures = ${failures}, lease_until = null, last_error = ${lastError}${touched}
          where id = ${row.id}`);
        return { outcome: 'dead', failures, delayMs: 0 };
      }
      const delayMs = Math.round(opts.delayMs ?? backoffDelay(failures, spec.backoff));
      const status = spec.streamBy
        ? sql`case when ${sibling('o', 'pending', sql` and s.id <> o.id`)} then 'superseded' else 'pending' end`
        : sql`'pending'`;
      await db.execute(sql`
        update ${table} o set status = ${status}, failures = ${failures}, lease_until = null${unheld},
          last_error = ${lastError}, next_attempt_at = now() + (${delayMs} * interval '1 millisecond')${touched}
        where o.id = ${row.id}`);
      return { outcome: 'retried', failures, delayMs };
    },

    async drop(id, error) {
      await db.execute(sql`
        update ${table} set status = 'superseded', lease_until = null, last_error = ${storableText(error)}${touched}
        where id = ${id}`);
    },
  };
}

/** A column name as a quoted identifier; names come from this module's callers, never from input. */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
