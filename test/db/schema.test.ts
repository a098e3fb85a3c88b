// The shared database suite: the same assertions on PGlite and, when TEST_DATABASE_URL is set,
// on a real Postgres. Known differences between the two would be listed here; there are none yet.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings, syncCursors, webhookInbox, workItems, writeOutbox } from '../../db/schema.ts';
import { dbTargets } from '../helpers/db.ts';

const item = {
  ref: 'jira-main:PAY-1',
  connection: 'jira-main',
  tracker: 'jira',
  key: 'PAY-1',
  project: 'PAY',
  kind: 'epic',
  type: 'Epic',
  title: 'Card vault',
  status: 'In Progress',
  statusCategory: 'in_progress',
  assignee: { id: 'u1', name: 'Ada' },
  owner: null,
  priority: 'High',
  labels: ['pmo'],
  created: '2026-01-02T03:04:05.000Z',
  updated: '2026-02-02T03:04:05.000Z',
  url: 'https://acme.atlassian.net/browse/PAY-1',
  revision: '2026-02-02T03:04:05.000Z',
  raw: { key: 'PAY-1', fields: { summary: 'Card vault' } },
  contentHash: 'h1',
};

for (const target of dbTargets()) {
  describe(`database schema on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    it('round-trips a work item with its jsonb columns', async () => {
      await database.db.insert(workItems).values(item);
      const [row] = await database.db.select().from(workItems).where(eq(workItems.ref, item.ref));
      expect({
        ref: row?.ref,
        assignee: row?.assignee,
        labels: row?.labels,
        links: row?.links,
        fields: row?.fields,
        raw: row?.raw,
        created: new Date(row!.created).toISOString(),
      }).toEqual({
        ref: item.ref,
        assignee: item.assignee,
        labels: ['pmo'],
        links: [],
        fields: {},
        raw: item.raw,
        created: item.created,
      });
    });

    it('keeps one finding per item and rule', async () => {
      const f = {
        ref: item.ref,
        rule: 'epic-target-date',
        severity: 'error',
        status: 'open',
        message: 'Set a target date',
        firstSeen: '2026-02-01T00:00:00Z',
        lastSeen: '2026-02-01T00:00:00Z',
        ruleHash: 'r',
        itemHash: 'i',
      };
      await database.db.insert(findings).values(f);
      await expect(database.db.insert(findings).values(f)).rejects.toThrow();
      const rows = await database.db.select({ n: sql<number>`count(*)::int` }).from(findings);
      expect(rows).toEqual([{ n: 1 }]);
    });

    it('stores a webhook delivery once per connection and delivery id', async () => {
      const row = {
        connection: 'jira-main',
        tracker: 'jira',
        deliveryId: 'd-1',
        event: 'updated',
        keys: ['PAY-1'],
        body: {},
      };
      await database.db.insert(webhookInbox).values(row).onConflictDoNothing();
      await database.db.insert(webhookInbox).values(row).onConflictDoNothing();
      const rows = await database.db.select({ n: sql<number>`count(*)::int` }).from(webhookInbox);
      expect(rows).toEqual([{ n: 1 }]);
    });

    it('claims outbox rows with FOR UPDATE SKIP LOCKED', async () => {
      await database.db.insert(writeOutbox).values([
        { connection: 'jira-main', ref: item.ref, target: 'comment', payload: {}, desiredHash: 'a' },
        { connection: 'jira-main', ref: item.ref, target: 'labels', payload: {}, desiredHash: 'b' },
      ]);
      const claimed = await database.db.transaction(async (tx) => {
        const rows = await tx
          .select({ id: writeOutbox.id, target: writeOutbox.target })
          .from(writeOutbox)
          .where(eq(writeOutbox.status, 'pending'))
          .orderBy(writeOutbox.id)
          .limit(1)
          .for('update', { skipLocked: true });
        return rows.map((r) => r.target);
      });
      expect(claimed).toEqual(['comment']);
    });

    it('upserts a cursor', async () => {
      await database.db.insert(syncCursors).values({ connection: 'c', cursor: '1' });
      await database.db
        .insert(syncCursors)
        .values({ connection: 'c', cursor: '2' })
        .onConflictDoUpdate({ target: syncCursors.connection, set: { cursor: '2' } });
      const rows = await database.db.select({ cursor: syncCursors.cursor }).from(syncCursors);
      expect(rows).toEqual([{ cursor: '2' }]);
    });

    it('migrates idempotently', async () => {
      await database.migrate();
      const rows = await database.db.select({ n: sql<number>`count(*)::int` }).from(workItems);
      expect(rows).toEqual([{ n: 1 }]);
    });
  });
}
