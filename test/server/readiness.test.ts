// /readyz's per-connection checks: a webhook gap (the tracker changed items within the window
// but no webhook arrived) makes the service unready, and a recent delivery clears it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { webhookInbox } from '../../db/schema.ts';
import { createReadiness } from '../../src/server/readiness.ts';
import { storeItems } from '../../src/sync/store.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { item } from '../helpers/items.ts';
import { openPglite } from '../helpers/pglite.ts';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const config = oneJiraConnection(['webhookSecret: hook-secret-for-tests']);

describe('readiness', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openPglite();
  });
  afterAll(async () => {
    await database.close();
  });
  const check = () => createReadiness({ db: database.db, config, now: () => NOW, gapMinutes: 60 })();

  it('reports a webhook gap while the tracker changed items and no webhook arrived, and clears it on delivery', async () => {
    // An item the tracker changed ten minutes ago, seen by a sync; no webhook since.
    await storeItems(database.db, [item('jira-main:PAY-1', { updated: '2026-11-22T11:50:00.000Z' })], NOW);
    const quiet = await check();
    expect(quiet.ok).toBe(false);
    expect(quiet.checks.connections).toMatchObject({ 'jira-main': { webhookGap: true, lastWebhook: null } });

    await database.db.insert(webhookInbox).values({
      connection: 'jira-main',
      tracker: 'jira',
      deliveryId: 'd-1',
      event: 'updated',
      keys: ['PAY-1'],
      body: {},
      receivedAt: '2026-11-22T11:55:00.000Z',
    });
    const heard = await check();
    expect(heard.ok).toBe(true);
    expect(heard.checks.connections).toMatchObject({ 'jira-main': { webhookGap: false } });
  });
});
