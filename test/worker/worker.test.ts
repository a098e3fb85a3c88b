// The Cloudflare Worker end to end on this machine: `wrangler dev --local` runs src/worker on
// workerd, Postgres comes through Hyperdrive's local connection string, the trackers are the
// simulators. A Cron Trigger syncs; a person's change in Jira arrives as a signed webhook and
// travels fetch → inbox → queue → evaluation → outbox → write-back to one bot comment.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Database } from '../../db/client.ts';
import { findings, syncRuns, webhookInbox, writeAudit } from '../../db/schema.ts';
import { openIsolatedPostgres } from '../helpers/db.ts';
import { ADO_HOOK, ADO_PAT, JIRA_HOOK_SECRET, JIRA_TOKEN } from '../helpers/portfolio.ts';
import { startWranglerDev, type WranglerDev } from './wrangler-dev.ts';

const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Cloudflare Worker under wrangler dev', () => {
  let database: Database;
  let jira: JiraSimulator;
  let ado: AdoSimulator;
  let worker: WranglerDev;

  const botComments = (key: string) =>
    (jira.store.getIssue(key)?.comments ?? []).filter((c) => c.author.accountId === jira.me.accountId);

  beforeAll(async () => {
    // Migrated from Node: the Worker has no migration files.
    database = await openIsolatedPostgres(BASE_URL);
    jira = await startJiraSimulator();
    ado = await startAdoSimulator();
    jira.seedPortfolio({ projects: ['PAY'], epics: 2, storiesPerEpic: 3, bugsPerEpic: 1, violationRate: 0.3, seed: 7 });
    ado.addProject('Payments', 'Agile');
    ado.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, featuresPerEpic: 1, storiesPerFeature: 2, seed: 11 });
    // YAML is a superset of JSON: one line fits an .env file and `wrangler secret put` alike.
    const config = {
      mode: 'enforce',
      connections: [
        {
          id: 'jira-main',
          kind: 'jira',
          baseUrl: jira.url,
          auth: { email: 'pmo-bot@example.com', apiToken: '${JIRA_API_TOKEN}' },
          scope: { projects: ['PAY'] },
          webhookSecret: '${JIRA_WEBHOOK_SECRET}',
          writeback: { comment: true, labels: true },
        },
        {
          id: 'ado-main',
          kind: 'azure-devops',
          orgUrl: ado.url,
          auth: { pat: '${ADO_PAT}' },
          scope: { projects: ['Payments'] },
          webhookAuth: { username: ADO_HOOK.username, password: '${ADO_HOOK_PASSWORD}' },
          writeback: { comment: true, tags: true },
        },
      ],
      portfolio: {
        programs: [
          {
            id: 'payments',
            name: 'Payments modernisation',
            include: [
              { connection: 'jira-main', project: 'PAY' },
              { connection: 'ado-main', project: 'Payments' },
            ],
          },
        ],
      },
    };
    worker = await startWranglerDev({
      databaseUrl: (database as Database & { url: string }).url,
      vars: {
        PMO_SYNC_CONFIG_YAML: JSON.stringify(config),
        JIRA_API_TOKEN: JIRA_TOKEN,
        JIRA_WEBHOOK_SECRET: JIRA_HOOK_SECRET,
        ADO_PAT,
        ADO_HOOK_PASSWORD: ADO_HOOK.password,
        PMO_SYNC_LEASE_MS: '30000',
      },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await jira?.close();
    await ado?.close();
    await database?.close();
  });

  it('serves the Hono app: liveness, readiness against Postgres through Hyperdrive, metrics', async () => {
    const health = await fetch(`${worker.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${worker.url}/readyz`);
    expect(await ready.json()).toMatchObject({ checks: { database: expect.anything() } });
    const metrics = await fetch(`${worker.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('pmo_sync_');
  });

  it('a Cron Trigger syncs both trackers and writes back', async () => {
    const r = await fetch(`${worker.url}/__scheduled?cron=${encodeURIComponent('*/5 * * * *')}`);
    expect(r.status).toBe(200);
    const runs = await database.db.select().from(syncRuns);
    expect(runs.length).toBeGreaterThan(0);
    const sent = await database.db.select({ n: sql<number>`count(*)::int` }).from(writeAudit);
    expect(sent[0]!.n).toBeGreaterThan(0);
  });

  it('carries a signed Jira webhook through the queue, evaluation and write-back to one comment', async () => {
    // A compliant open story with an assignee and no bot comment yet.
    const flagged = new Set(
      (await database.db.select({ ref: findings.ref }).from(findings).where(eq(findings.status, 'open'))).map(
        (f) => f.ref,
      ),
    );
    const story = jira.store
      .all()
      .find(
        (i) =>
          i.fields.issuetype.name === 'Story' &&
          i.fields.status.statusCategory.key === 'new' &&
          i.fields.assignee &&
          !flagged.has(`jira-main:${i.key}`) &&
          botComments(i.key).length === 0,
      );
    expect(story).toBeDefined();
    const key = story!.key;
    jira.registerWebhook({ url: `${worker.url}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });

    jira.store.updateIssue(key, { assignee: null });
    await jira.flushWebhooks();

    const stored = await database.db.select().from(webhookInbox).where(eq(webhookInbox.connection, 'jira-main'));
    expect(stored.some((e) => e.keys.includes(key))).toBe(true);
    await until('the bot comment', async () => botComments(key).length > 0);
    await until('the finding', async () => {
      const rows = await database.db.select().from(findings).where(eq(findings.ref, `jira-main:${key}`));
      return rows.some((f) => f.rule === 'owner-required' && f.status === 'open');
    });
    // Our own comment comes back as a webhook: an echo, never another write.
    await jira.flushWebhooks();
    await new Promise((r) => setTimeout(r, 3000));
    expect(botComments(key)).toHaveLength(1);
    expect(JSON.stringify(botComments(key)[0]!.body)).toContain('owner');
  });

  it('rejects a webhook with a bad signature', async () => {
    const r = await fetch(`${worker.url}/webhooks/jira/jira-main`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature': 'sha256=00' },
      body: '{}',
    });
    expect(r.status).toBe(401);
  });
});
