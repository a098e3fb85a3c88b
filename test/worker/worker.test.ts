// The Cloudflare Worker end to end on this machine: `wrangler dev --local` runs src/worker on
// workerd, Postgres comes through Hyperdrive's local connection string, the trackers are the
// simulators. A Cron Trigger syncs both trackers; a person's change in Jira arrives as a signed
// webhook (and one in Azure DevOps as a service hook) and travels fetch → inbox → queue →
// evaluation → outbox → `writes` message → write-back to one bot comment.
import { and, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Database } from '../../db/client.ts';
import { findings, syncRuns, webhookInbox, workItems, writeAudit } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { openIsolatedPostgres } from '../helpers/db.ts';
import { ADO_HOOK, ADO_PAT, JIRA_HOOK_SECRET, JIRA_TOKEN } from '../helpers/portfolio.ts';
import { startWranglerDev, type WranglerDev } from './wrangler-dev.ts';

const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `${NAME}` in the config: resolved by the Worker from its vars and secrets. */
const secretRef = (name: string) => `\${${name}}`;

describe('Cloudflare Worker under wrangler dev', () => {
  let database: Database;
  let jira: JiraSimulator;
  let ado: AdoSimulator;
  let worker: WranglerDev;

  /** Polls until the probe holds; on timeout, shows what wrangler and the Worker printed. */
  const until = async <T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; wrangler said:\n${worker.output().slice(-8000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const botComments = (key: string) =>
    (jira.store.getIssue(key)?.comments ?? []).filter((c) => c.author.accountId === jira.me.accountId);

  beforeAll(async () => {
    // Migrated from Node: the Worker has no migration files.
    database = await openIsolatedPostgres(BASE_URL);
    jira = await startJiraSimulator();
    ado = await startAdoSimulator();
    jira.seedPortfolio({ projects: ['PAY'], epics: 3, storiesPerEpic: 4, bugsPerEpic: 1, violationRate: 0.3, seed: 7 });
    ado.addProject('Payments', 'Agile');
    ado.seedPortfolio({
      process: 'Agile',
      project: 'Payments',
      epics: 2,
      featuresPerEpic: 2,
      storiesPerFeature: 3,
      seed: 11,
    });
    // YAML is a superset of JSON: one line fits an .env file and `wrangler secret put` alike.
    const config = {
      mode: 'enforce',
      connections: [
        {
          id: 'jira-main',
          kind: 'jira',
          baseUrl: jira.url,
          auth: { email: 'pmo-bot@example.com', apiToken: secretRef('JIRA_API_TOKEN') },
          scope: { projects: ['PAY'] },
          webhookSecret: secretRef('JIRA_WEBHOOK_SECRET'),
          writeback: { comment: true, labels: true },
          limits: { concurrency: 8, requestsPerSecond: 100 },
        },
        {
          id: 'ado-main',
          kind: 'azure-devops',
          orgUrl: ado.url,
          auth: { pat: secretRef('ADO_PAT') },
          scope: { projects: ['Payments'] },
          webhookAuth: { username: ADO_HOOK.username, password: secretRef('ADO_HOOK_PASSWORD') },
          writeback: { comment: true, tags: true },
          limits: { concurrency: 8, requestsPerSecond: 100 },
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
    expect(await ready.json()).toMatchObject({ checks: { database: { ok: true }, migrations: { ok: true } } });
    const metrics = await fetch(`${worker.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('pmo_sync_');
    // Bundled dashboard assets: a Worker has no files to read them from.
    const chart = await fetch(`${worker.url}/assets/chart.umd.min.js`);
    expect([chart.status, (await chart.text()).length > 100_000]).toEqual([200, true]);
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
    const candidates = await database.db
      .select({ key: workItems.key, ref: workItems.ref, assignee: workItems.assignee })
      .from(workItems)
      .where(
        and(
          eq(workItems.connection, 'jira-main'),
          eq(workItems.kind, 'story'),
          eq(workItems.statusCategory, 'todo'),
          isNull(workItems.deletedAt),
        ),
      );
    const story = candidates.find((c) => c.assignee && !flagged.has(c.ref) && botComments(c.key).length === 0);
    expect(story).toBeDefined();
    const key = story!.key;
    jira.registerWebhook({ url: `${worker.url}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });

    jira.store.updateIssue(key, { assignee: null });
    await jira.flushDeliveries();

    const stored = await database.db.select().from(webhookInbox).where(eq(webhookInbox.connection, 'jira-main'));
    expect(stored.some((e) => e.keys.includes(key))).toBe(true);
    await until('the bot comment', async () => botComments(key).length > 0);
    await until('the finding', async () => {
      const rows = await database.db
        .select()
        .from(findings)
        .where(eq(findings.ref, `jira-main:${key}`));
      return rows.some((f) => f.rule === 'owner-required' && f.status === 'open');
    });
    // Our own comment comes back as a webhook: an echo, never another write.
    await jira.flushDeliveries();
    await new Promise((r) => setTimeout(r, 3000));
    expect(botComments(key)).toHaveLength(1);
    expect(JSON.stringify(botComments(key)[0]!.body)).toContain('owner');
    // It went through the queue consumer, not a scheduled sweep.
    expect(worker.output()).toMatch(/QUEUE pmo-sync-events \d+\/\d+/);
    // Evaluated in a `webhook` batch, written in a `writes` batch of its own.
    expect(worker.output()).toMatch(/"kinds":\["webhook"\],"events":[1-9]/);
    expect(worker.output()).toMatch(/"kinds":\["writes"\][^\n]*"sent":[1-9]/);
  });

  it('carries an Azure DevOps service hook the same way, with azure-devops-node-api on workerd', async () => {
    const flagged = new Set(
      (await database.db.select({ ref: findings.ref }).from(findings).where(eq(findings.status, 'open'))).map(
        (f) => f.ref,
      ),
    );
    const items = await database.db
      .select({ key: workItems.key, ref: workItems.ref, assignee: workItems.assignee })
      .from(workItems)
      .where(
        and(eq(workItems.connection, 'ado-main'), eq(workItems.statusCategory, 'todo'), isNull(workItems.deletedAt)),
      );
    const item = items.find((i) => i.assignee && !flagged.has(i.ref));
    expect(item).toBeDefined();
    const id = Number(item!.key);
    const mine = () => ado.store.get(id).comments.filter((c) => !c.isDeleted && c.createdBy.id === ado.identity.id);
    const before = mine().length;
    ado.subscribe({ url: `${worker.url}/webhooks/azure-devops/ado-main`, ...ADO_HOOK });

    ado.store.update(id, { 'System.AssignedTo': null });
    await ado.flushDeliveries();

    await until('the owner finding', async () => {
      const rows = await database.db
        .select()
        .from(findings)
        .where(eq(findings.ref, `ado-main:${id}`));
      return rows.some((f) => f.rule === 'owner-required' && f.status === 'open');
    });
    await until('the bot comment', async () => mine().length === 1 && mine()[0]!.text.includes('owner'));
    expect(before).toBe(0);
  });

  it('POST /api/v1/sync queues a sync that the queue consumer runs', async () => {
    const { token } = await createToken(database.db, { scope: 'admin' });
    const runs = async () => (await database.db.select({ id: syncRuns.id }).from(syncRuns)).length;
    const before = await runs();

    const r = await fetch(`${worker.url}/api/v1/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });

    expect(r.status).toBe(202);
    await until('the queued sync', async () => (await runs()) > before);
    await until('its log line', async () => /"kinds":\[[^\]]*"sync"/.test(worker.output()));
  });

  it('rejects a webhook with a bad signature', async () => {
    const r = await fetch(`${worker.url}/webhooks/jira/jira-main`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature': 'sha256=00' },
      body: '{}',
    });
    expect(r.status).toBe(401);
  });

  it('never prints a secret', () => {
    const out = worker.output();
    for (const secret of [JIRA_TOKEN, JIRA_HOOK_SECRET, ADO_PAT, ADO_HOOK.password]) expect(out).not.toContain(secret);
  });
});
