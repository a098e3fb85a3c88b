// The webhook processor on its own: an event for an item not readable yet is retried, then
// treated as deleted; a poison event is retried with backoff and dead-lettered without holding
// up the events stored beside it; late deliveries never regress an item.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { rollups, webhookInbox, workItems } from '../../db/schema.ts';
import { storeItems } from '../../src/sync/store.ts';
import { item } from '../helpers/items.ts';
import { openPglite } from '../helpers/pglite.ts';
import { type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

describe('webhook processor', () => {
  let database: Database;
  let p: Portfolio;
  beforeAll(async () => {
    database = await openPglite();
    p = await startPortfolio({ database });
  });
  afterAll(async () => {
    await p.close();
    await database.close();
  });

  const inbox = (connection: string, deliveryId: string, keys: string[], event = 'updated') =>
    database.db.insert(webhookInbox).values({
      connection,
      tracker: connection.startsWith('ado') ? 'azure-devops' : 'jira',
      deliveryId,
      event,
      keys,
      body: {},
    });
  const inboxRow = async (deliveryId: string) =>
    (
      await database.db
        .select({
          status: webhookInbox.status,
          attempts: webhookInbox.attempts,
          failures: webhookInbox.failures,
          lastError: webhookInbox.lastError,
        })
        .from(webhookInbox)
        .where(eq(webhookInbox.deliveryId, deliveryId))
    )[0];
  const status = async (deliveryId: string) => {
    const row = await inboxRow(deliveryId);
    return row && { status: row.status, attempts: row.attempts };
  };

  // The retry's backoff runs out without waiting for it: its due time moves to the database's now.
  const backoffExpired = (deliveryId: string) =>
    database.db.execute(
      sql`update webhook_inbox set next_attempt_at = now() where delivery_id = ${deliveryId} and status = 'pending'`,
    );

  it('dead-letters a poison event after its retries while its neighbours go through', async () => {
    const good = String(p.adoIds[0]);
    await inbox('ado-main', 'good-1', [good]);
    await inbox('ado-main', 'poison-1', ['not-a-work-item-id']);
    const processor = p.webhookProcessor({ maxAttempts: 2 });
    const first = await processor.drain();
    expect({ processed: first.processed, retried: first.retried, dead: first.dead }).toEqual({
      processed: 1,
      retried: 1,
      dead: 0,
    });
    expect(await status('good-1')).toEqual({ status: 'done', attempts: 1 });
    const [stored] = await database.db
      .select({ ref: workItems.ref })
      .from(workItems)
      .where(eq(workItems.ref, `ado-main:${good}`));
    expect(stored?.ref).toBe(`ado-main:${good}`);
    await backoffExpired('poison-1');
    const second = await processor.drain();
    expect(second.dead).toBe(1);
    expect(await status('poison-1')).toMatchObject({ status: 'dead', attempts: 2 });
  });

  it('retries an item that is not readable yet, then treats it as gone', async () => {
    await inbox('jira-main', 'lag-1', ['PAY-9999'], 'created');
    const processor = p.webhookProcessor({ unreadableRetries: 1 });
    const first = await processor.drain();
    expect(first.retried).toBe(1);
    expect(await status('lag-1')).toMatchObject({ status: 'pending', attempts: 1 });
    await backoffExpired('lag-1');
    await processor.drain();
    expect(await status('lag-1')).toMatchObject({ status: 'done', attempts: 2 });
  });

  // A processor that dies mid-batch leaves its events claimed under a lease that runs out.
  const diedHolding = (deliveryId: string, times: number) =>
    database.db.execute(sql`
      update webhook_inbox set status = 'processing', attempts = attempts + ${times},
        lease_until = now() - interval '1 second'
      where delivery_id = ${deliveryId}`);

  it('charges an event nothing for processors that died holding it', async () => {
    await inbox('ado-main', 'orphan-1', ['not-a-work-item-either']);
    await diedHolding('orphan-1', 5);
    const processor = p.webhookProcessor({ maxAttempts: 2 });
    const first = await processor.drain();
    // Its one real failure so far: retried with the first backoff step, not dead after six claims.
    expect({ retried: first.retried, dead: first.dead }).toEqual({ retried: 1, dead: 0 });
    expect(await status('orphan-1')).toEqual({ status: 'pending', attempts: 6 });
    expect(await inboxRow('orphan-1')).toMatchObject({ failures: 1 });
    await database.db.execute(sql`update webhook_inbox set next_attempt_at = now() where delivery_id = 'orphan-1'`);
    expect((await processor.drain()).dead).toBe(1);
    expect(await inboxRow('orphan-1')).toMatchObject({ failures: 2 });
  });

  it('dead-letters an event that every processor taking it dies on', async () => {
    await inbox('ado-main', 'killer-1', [String(p.adoIds[1])]);
    await diedHolding('killer-1', 3);
    const r = await p.webhookProcessor({ maxLeaseExpiries: 3 }).drain();
    expect(r.processed).toBe(0);
    expect(await status('killer-1')).toEqual({ status: 'dead', attempts: 3 });
    expect((await inboxRow('killer-1'))?.lastError).toMatch(/lease expired 3 times/);
  });

  it('never lets an older revision overwrite a newer one', async () => {
    // An item of its own: the portfolio's PAY-1 may be stored already, by a sync of another test.
    const newer = item('jira-main:REV-1', {
      title: 'Newer',
      revision: '2026-03-02T10:45:00.000+0100',
      updated: '2026-03-02T09:45:00.000Z',
    });
    const older = item('jira-main:REV-1', {
      title: 'Older',
      revision: '2026-03-02T09:30:00.000+0000',
      updated: '2026-03-02T09:30:00.000Z',
    });
    await storeItems(database.db, [newer]);
    const r = await storeItems(database.db, [older]);
    expect(r).toEqual({ changed: [], written: 0, quarantined: [] });
    const [row] = await database.db
      .select({ title: workItems.title })
      .from(workItems)
      .where(eq(workItems.ref, 'jira-main:REV-1'));
    expect(row?.title).toBe('Newer');
  });

  it('keeps epic rollups current per batch and brings the portfolio up to date when the stream pauses', async () => {
    await p.sync();
    const portfolioPoints = async () => {
      const [row] = await database.db
        .select({ metrics: rollups.metrics })
        .from(rollups)
        .where(eq(rollups.scope, 'portfolio'));
      return (row!.metrics as { points: { total: number } }).points.total;
    };
    const stories = p.adoIds.filter((id) => p.ado.store.get(id).fields['System.WorkItemType'] === 'User Story');
    const points = (id: number) => Number(p.ado.store.get(id).fields['Microsoft.VSTS.Scheduling.StoryPoints'] ?? 0);
    const processor = p.webhookProcessor({ aggregateEveryMs: 60_000 });
    const before = await portfolioPoints();
    // First batch: the aggregates have never been refreshed by this processor, so they are now.
    const first = stories[0]!;
    const firstPoints = points(first);
    p.ado.store.update(first, { 'Microsoft.VSTS.Scheduling.StoryPoints': firstPoints + 5 });
    await inbox('ado-main', 'agg-1', [String(first)]);
    expect((await processor.runOnce()).processed).toBe(1);
    expect(await portfolioPoints()).toBe(before + 5);
    // Second batch within the interval: epics move, the portfolio waits…
    const second = stories[1]!;
    p.ado.store.update(second, { 'Microsoft.VSTS.Scheduling.StoryPoints': points(second) + 7 });
    await inbox('ado-main', 'agg-2', [String(second)]);
    expect((await processor.runOnce()).processed).toBe(1);
    expect(await portfolioPoints()).toBe(before + 5);
    // …until nothing is left to claim.
    expect((await processor.runOnce()).claimed).toBe(0);
    expect(await portfolioPoints()).toBe(before + 12);
  });
});
