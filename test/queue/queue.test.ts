// The queue protocol the webhook inbox and the write outbox share, on real SQL: due rows are
// claimed once under a lease, a holder that dies costs its row nothing until maxLeaseExpiries,
// recorded failures back off and dead-letter, and rows of one stream never run side by side.
// No test waits: due times and leases are moved in SQL, and the backoff's jitter is injected.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { webhookInbox, writeOutbox } from '../../db/schema.ts';
import { backoffDelay } from '../../src/queue/backoff.ts';
import { createQueue, type QueueSpec } from '../../src/queue/queue.ts';
import { dbTargets } from '../helpers/db.ts';

describe('backoff', () => {
  it('doubles from the first wait up to the cap', () => {
    const policy = { firstMs: 1000, capMs: 60_000, jitter: 0 };
    expect([1, 2, 3, 6, 7, 30].map((f) => backoffDelay(f, policy))).toEqual([1000, 2000, 4000, 32_000, 60_000, 60_000]);
  });

  it('spreads each wait by the jitter either side, and asks for no randomness without one', () => {
    const at = (r: number) => backoffDelay(3, { firstMs: 1000, capMs: 300_000, jitter: 0.25, random: () => r });
    expect([at(0), at(0.5), at(0.999_999)]).toEqual([3000, 4000, 5000]);
    const never = () => {
      throw new Error('random asked for');
    };
    expect(backoffDelay(2, { firstMs: 1000, capMs: 60_000, jitter: 0, random: never })).toBe(2000);
  });
});

for (const target of dbTargets()) {
  describe(`queue on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    const inboxSpec = (over: Partial<QueueSpec> = {}): QueueSpec => ({
      table: 'webhook_inbox',
      leasedStatus: 'processing',
      columns: ['id', 'connection', 'failures', 'attempts'],
      labels: ['connection'],
      orderBy: ['id'],
      expiredText: ' times: every processor that took this event stopped',
      doneAtColumn: 'processed_at',
      maxAttempts: 3,
      maxLeaseExpiries: 3,
      backoff: { firstMs: 1000, capMs: 60_000, jitter: 0 },
      ...over,
    });
    const outboxSpec = (over: Partial<QueueSpec> = {}): QueueSpec => ({
      table: 'write_outbox',
      leasedStatus: 'in_flight',
      columns: ['id', 'ref', 'target', 'failures', 'attempts'],
      labels: ['ref', 'target'],
      orderBy: ['priority', 'id'],
      expiredText: ' times: every worker that took this write stopped before finishing it',
      holderColumn: true,
      updatedAtColumn: true,
      streamBy: ['ref', 'target'],
      maxAttempts: 3,
      maxLeaseExpiries: 3,
      backoff: { firstMs: 1000, capMs: 300_000, jitter: 0.25, random: () => 0.5 },
      ...over,
    });

    /** Inbox rows of a connection of their own, so tests never see each other's rows. */
    const events = async (connection: string, n: number) =>
      (
        await database.db
          .insert(webhookInbox)
          .values(
            Array.from({ length: n }, (_, i) => ({
              connection,
              tracker: 'jira',
              deliveryId: `${connection}-${i}`,
              event: 'updated',
              keys: [`K-${i}`],
              body: {},
            })),
          )
          .returning({ id: webhookInbox.id })
      ).map((r) => r.id);
    const only = (connection: string) => sql`c.connection = ${connection}`;
    const write = async (ref: string, status = 'pending', priority = 100) =>
      (
        await database.db
          .insert(writeOutbox)
          .values({ connection: 'c', ref, target: 'comment', payload: {}, desiredHash: 'h', status, priority })
          .returning({ id: writeOutbox.id })
      )[0]!.id;
    const row = async (table: 'webhook_inbox' | 'write_outbox', id: number) =>
      (
        await queryRows<Record<string, unknown>>(
          database.db,
          sql`select status, attempts, failures, last_error,
                ${table === 'write_outbox' ? sql`leased_by` : sql`null`} as leased_by,
                (lease_until is not null) as leased,
                round(extract(epoch from next_attempt_at - now()) * 1000) as "dueInMs",
                ${table === 'webhook_inbox' ? sql`(processed_at is not null)` : sql`false`} as "stamped"
              from ${sql.identifier(table)} where id = ${id}`,
        )
      ).map((r) => ({
        status: r.status,
        attempts: Number(r.attempts),
        failures: Number(r.failures),
        lastError: r.last_error,
        leasedBy: r.leased_by ?? null,
        leased: r.leased === true || r.leased === 't',
        dueInMs: Number(r.dueInMs),
        stamped: r.stamped === true || r.stamped === 't',
      }))[0]!;
    // A holder that died: its lease ran out a second ago.
    const leaseLapsed = (table: string, id: number) =>
      database.db.execute(
        sql`update ${sql.identifier(table)} set lease_until = now() - interval '1 second' where id = ${id}`,
      );
    const due = (table: string, id: number) =>
      database.db.execute(sql`update ${sql.identifier(table)} set next_attempt_at = now() where id = ${id}`);

    it('claims due rows once each, in order, up to the limit, under a lease', async () => {
      const ids = await events('claim', 4);
      await database.db.execute(
        sql`update webhook_inbox set next_attempt_at = now() + interval '1 hour' where id = ${ids[3]!}`,
      );
      const q = createQueue(database.db, inboxSpec());
      const first = await q.claim({ limit: 2, leaseMs: 60_000, where: only('claim') });
      expect(first.map((r) => Number(r.id))).toEqual(ids.slice(0, 2));
      expect(first.map((r) => Number(r.attempts))).toEqual([1, 1]);
      const second = await q.claim({ limit: 10, leaseMs: 60_000, where: only('claim') });
      expect(second.map((r) => Number(r.id))).toEqual([ids[2]]);
      expect(await q.claim({ limit: 10, leaseMs: 60_000, where: only('claim') })).toEqual([]);
      expect(await row('webhook_inbox', ids[0]!)).toMatchObject({ status: 'processing', leased: true });
      expect(await row('webhook_inbox', ids[3]!)).toMatchObject({ status: 'pending', attempts: 0 });
    });

    it('never hands one row to two claims running at once', async () => {
      const ids = await events('race', 20);
      const q = createQueue(database.db, inboxSpec());
      const claims = await Promise.all(
        Array.from({ length: 4 }, () => q.claim({ limit: 8, leaseMs: 60_000, where: only('race') })),
      );
      const got = claims.flat().map((r) => Number(r.id));
      expect(new Set(got).size).toBe(got.length);
      // Skipped rows wait for the next claim rather than being lost.
      const rest = await q.claim({ limit: 50, leaseMs: 60_000, where: only('race') });
      expect([...got, ...rest.map((r) => Number(r.id))].sort((a, b) => a - b)).toEqual(ids);
    });

    it('hands an expired lease back without charging the row, and dead-letters after maxLeaseExpiries', async () => {
      const [id] = await events('expiry', 1);
      const q = createQueue(database.db, inboxSpec({ maxLeaseExpiries: 3 }));
      for (let i = 1; i <= 2; i++) {
        await q.claim({ limit: 1, leaseMs: 60_000, where: only('expiry') });
        await leaseLapsed('webhook_inbox', id!);
        const released = await q.releaseExpired();
        expect(released.filter((r) => r.id === id)).toEqual([
          { id, status: 'pending', expiries: i, labels: { connection: 'expiry' } },
        ]);
        expect(await row('webhook_inbox', id!)).toMatchObject({
          status: 'pending',
          attempts: i,
          failures: 0,
          leased: false,
        });
      }
      await q.claim({ limit: 1, leaseMs: 60_000, where: only('expiry') });
      await leaseLapsed('webhook_inbox', id!);
      expect((await q.releaseExpired()).filter((r) => r.id === id)).toMatchObject([{ status: 'dead', expiries: 3 }]);
      expect(await row('webhook_inbox', id!)).toMatchObject({
        status: 'dead',
        attempts: 3,
        failures: 0,
        lastError: 'the lease expired 3 times: every processor that took this event stopped',
      });
    });

    it('leaves a lease that has not expired alone', async () => {
      const [id] = await events('live', 1);
      const q = createQueue(database.db, inboxSpec());
      await q.claim({ limit: 1, leaseMs: 60_000, where: only('live') });
      expect((await q.releaseExpired()).some((r) => r.id === id)).toBe(false);
      expect(await row('webhook_inbox', id!)).toMatchObject({ status: 'processing', leased: true });
    });

    it('counts only expired leases, not recorded failures, towards maxLeaseExpiries', async () => {
      const [id] = await events('mixed', 1);
      const q = createQueue(database.db, inboxSpec({ maxAttempts: 10, maxLeaseExpiries: 2 }));
      // Two failed tries, then one holder dies: one expiry, not three.
      for (let i = 0; i < 2; i++) {
        const [claimed] = await q.claim({ limit: 1, leaseMs: 60_000, where: only('mixed') });
        await q.fail({ id: id!, failures: Number(claimed!.failures) }, 'refused');
        await due('webhook_inbox', id!);
      }
      await q.claim({ limit: 1, leaseMs: 60_000, where: only('mixed') });
      await leaseLapsed('webhook_inbox', id!);
      expect((await q.releaseExpired()).filter((r) => r.id === id)).toMatchObject([{ status: 'pending', expiries: 1 }]);
      expect(await row('webhook_inbox', id!)).toMatchObject({ attempts: 3, failures: 2, lastError: 'refused' });
    });

    it('backs a failure off by the policy, then dead-letters it after maxAttempts', async () => {
      const [id] = await events('fail', 1);
      const q = createQueue(database.db, inboxSpec({ maxAttempts: 3 }));
      const expected = [1000, 2000];
      for (const delay of expected) {
        const [claimed] = await q.claim({ limit: 1, leaseMs: 60_000, where: only('fail') });
        const failed = await q.fail({ id: id!, failures: Number(claimed!.failures) }, 'tracker said 500');
        expect(failed).toMatchObject({ outcome: 'retried', delayMs: delay });
        const after = await row('webhook_inbox', id!);
        expect(after).toMatchObject({ status: 'pending', leased: false, lastError: 'tracker said 500' });
        // Not due again before its backoff: the database's clock is moved, not waited on.
        expect(Math.abs(after.dueInMs - delay)).toBeLessThan(500);
        expect(await q.claim({ limit: 1, leaseMs: 60_000, where: only('fail') })).toEqual([]);
        await due('webhook_inbox', id!);
      }
      const [claimed] = await q.claim({ limit: 1, leaseMs: 60_000, where: only('fail') });
      expect(await q.fail({ id: id!, failures: Number(claimed!.failures) }, 'still 500')).toMatchObject({
        outcome: 'dead',
        failures: 3,
      });
      expect(await row('webhook_inbox', id!)).toMatchObject({
        status: 'dead',
        attempts: 3,
        failures: 3,
        leased: false,
      });
    });

    it('waits as long as the other side asked, and stores error text Postgres would refuse', async () => {
      const [id] = await events('asked', 1);
      const q = createQueue(database.db, inboxSpec());
      await q.claim({ limit: 1, leaseMs: 60_000, where: only('asked') });
      expect(await q.fail({ id: id!, failures: 0 }, 'bad\u0000byte\uD800', { delayMs: 30_000 })).toMatchObject({
        delayMs: 30_000,
      });
      const after = await row('webhook_inbox', id!);
      expect(after.lastError).toBe('bad\uFFFDbyte\uFFFD');
      expect(Math.abs(after.dueInMs - 30_000)).toBeLessThan(500);
    });

    it('marks rows done, inside the caller transaction', async () => {
      const ids = await events('done', 2);
      const q = createQueue(database.db, inboxSpec());
      await q.claim({ limit: 2, leaseMs: 60_000, where: only('done') });
      await database.db
        .transaction(async (tx) => {
          await createQueue(tx as unknown as typeof database.db, inboxSpec()).done([ids[0]!]);
          throw new Error('rolled back');
        })
        .catch(() => {});
      expect(await row('webhook_inbox', ids[0]!)).toMatchObject({ status: 'processing' });
      await q.done(ids);
      for (const id of ids) {
        expect(await row('webhook_inbox', id)).toMatchObject({ status: 'done', leased: false, stamped: true });
      }
    });

    it('records the holder, renews only its own leases, and clears it when the row goes back', async () => {
      const mine = await write('renew:1');
      const theirs = await write('renew:2');
      const q = createQueue(database.db, outboxSpec());
      const where = sql`c.ref like 'renew:%'`;
      await q.claim({ limit: 1, leaseMs: 60_000, holder: 'w1', where });
      await q.claim({ limit: 1, leaseMs: 60_000, holder: 'w2', where });
      await leaseLapsed('write_outbox', mine);
      await leaseLapsed('write_outbox', theirs);
      await q.renew([mine, theirs], 60_000, 'w1');
      expect(await row('write_outbox', mine)).toMatchObject({ status: 'in_flight', leasedBy: 'w1' });
      const released = await q.releaseExpired();
      expect(released.map((r) => r.id)).toContain(theirs);
      expect(released.map((r) => r.id)).not.toContain(mine);
      expect(await row('write_outbox', theirs)).toMatchObject({ status: 'pending', leasedBy: null, leased: false });
    });

    it('keeps one row of a stream in flight, and supersedes a returning row when a newer one waits', async () => {
      const q = createQueue(database.db, outboxSpec({ maxAttempts: 5 }));
      const where = sql`c.ref like 'stream:%'`;
      const older = await write('stream:1', 'pending', 200);
      const [claimed] = await q.claim({ limit: 5, leaseMs: 60_000, holder: 'w', where });
      expect(Number(claimed!.id)).toBe(older);
      // A newer plan for the same item and target waits while the older is in flight.
      const newer = await write('stream:1', 'pending', 1);
      expect(await q.claim({ limit: 5, leaseMs: 60_000, holder: 'w', where })).toEqual([]);
      expect(await q.fail({ id: older, failures: 0 }, 'timeout')).toMatchObject({ outcome: 'retried' });
      expect(await row('write_outbox', older)).toMatchObject({ status: 'superseded', failures: 1 });

      // The same when its holder dies: the newer plan carries the latest state.
      const [again] = await q.claim({ limit: 5, leaseMs: 60_000, holder: 'w', where });
      expect(Number(again!.id)).toBe(newer);
      const newest = await write('stream:1');
      await leaseLapsed('write_outbox', newer);
      expect((await q.releaseExpired()).filter((r) => r.id === newer)).toEqual([
        { id: newer, status: 'superseded', expiries: 1, labels: { ref: 'stream:1', target: 'comment' } },
      ]);
      await q.drop(newest, 'the item no longer exists');
      expect(await row('write_outbox', newest)).toMatchObject({
        status: 'superseded',
        failures: 0,
        lastError: 'the item no longer exists',
      });
    });

    it('spreads a retried write by the injected jitter', async () => {
      const id = await write('jitter:1');
      const q = createQueue(
        database.db,
        outboxSpec({ maxAttempts: 8, backoff: { firstMs: 1000, capMs: 300_000, jitter: 0.25, random: () => 0 } }),
      );
      await q.claim({ limit: 1, leaseMs: 60_000, holder: 'w', where: sql`c.ref = 'jitter:1'` });
      expect(await q.fail({ id, failures: 2 }, 'refused')).toMatchObject({
        outcome: 'retried',
        failures: 3,
        delayMs: 3000,
      });
      const after = await row('write_outbox', id);
      expect(after).toMatchObject({ status: 'pending', leasedBy: null });
      expect(Math.abs(after.dueInMs - 3000)).toBeLessThan(500);
    });
  });
}
