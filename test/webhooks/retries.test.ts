// Jira's retried webhook deliveries (X-Atlassian-Webhook-Retry) through the real webhook route:
// each accepted retry is counted in /metrics, a retry that fails verification is not, and a late
// retry of a delivery already stored is a duplicate that is never processed again, so it cannot
// take an item back to an older state.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJiraConnector } from '../../connectors/jira/index.ts';
import { jiraConfig, noRefs, silentLog } from '../../connectors/jira/testing.ts';
import type { Database } from '../../db/client.ts';
import { webhookInbox } from '../../db/schema.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { createWebhookReceiver } from '../../src/webhooks/receive.ts';
import { mountWebhookRoutes } from '../../src/webhooks/routes.ts';
import { openPglite } from '../helpers/pglite.ts';

const SECRET = 'hook-secret-for-retries';
const BODY = readFileSync(
  new URL(
    '../../connectors/jira/__fixtures__/webhooks/1628833397385_jira_issue_updated_issue_generic.json',
    import.meta.url,
  ),
  'utf8',
);
const sign = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

describe('retried Jira webhook deliveries', () => {
  let database: Database;
  let app: Hono;
  let metrics: ReturnType<typeof createMetrics>;
  beforeAll(async () => {
    database = await openPglite();
    const jira = createJiraConnector({
      config: jiraConfig({ webhookSecret: SECRET }),
      log: silentLog,
      resolveRef: noRefs,
    });
    metrics = createMetrics({ db: database.db, log: silentLog, now: () => new Date(1628833397385) });
    const receive = createWebhookReceiver({
      db: database.db,
      connectors: new Map([['jira-main', jira]]),
      log: silentLog,
      now: () => new Date(1628833397385 + 60_000),
    });
    app = new Hono();
    mountWebhookRoutes(app, receive, silentLog, (tracker, connection) =>
      metrics.webhookRetries.inc({ tracker, connection }),
    );
  });
  afterAll(async () => {
    await database.close();
  });

  const deliver = async (headers: Record<string, string>) => {
    const res = await app.request('/webhooks/jira/jira-main', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: BODY,
    });
    return { status: res.status, body: (await res.json()) as { status: string } };
  };
  const retriesLine = async () =>
    (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('pmo_sync_webhook_retries_total{'));

  it('counts accepted retries, ignores forged ones, and a late retry is a duplicate never processed again', async () => {
    // Act: the delivery, Jira's late retry of it, and a forged "retry".
    const first = await deliver({ 'x-hub-signature': sign(BODY), 'x-atlassian-webhook-identifier': 'd-1' });
    const retry = await deliver({
      'x-hub-signature': sign(BODY),
      'x-atlassian-webhook-identifier': 'd-1',
      'x-atlassian-webhook-retry': '1',
    });
    const forged = await deliver({ 'x-hub-signature': sign('other'), 'x-atlassian-webhook-retry': '2' });
    const rows = await database.db.select({ status: webhookInbox.status }).from(webhookInbox);

    // Assert
    expect({
      answers: [first, retry, forged].map((r) => `${r.status} ${r.body.status}`),
      stored: rows.length,
      metric: await retriesLine(),
    }).toEqual({
      answers: ['202 accepted', '202 duplicate', '401 unauthorized'],
      stored: 1,
      metric: ['pmo_sync_webhook_retries_total{tracker="jira",connection="jira-main"} 1'],
    });
  });
});
