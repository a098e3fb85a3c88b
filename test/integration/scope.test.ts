// Scope on every path (issue 23, item 4). Each simulator holds an in-scope and an out-of-scope
// project, and its webhooks are registered the way that once leaked (Jira without a filter, Azure
// DevOps org-wide): a change to another project's item is delivered, signed, through the real
// routes and processor, and must never be stored, evaluated or written. An item that leaves a
// scope (moved to Done under a JQL scope, closed under a WIQL scope, moved to another project)
// leaves the API and the dashboard's data, its findings resolve, and nothing more is written to
// it, whether a webhook or the reconcile sweep notices. Connections of all four scope kinds.
import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { createConnectors } from '../../connectors/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { findings, webhookInbox, workItems, writeOutbox } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import type { SyncPipeline } from '../../src/sync/pipeline.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { runSync } from '../../src/sync/run.ts';
import { createWebhookProcessor } from '../../src/webhooks/process.ts';
import { dbTargets } from '../helpers/db.ts';
import { type HookServer, startHookServer } from '../helpers/hook-server.ts';

const SECRET = 'jira-hook-secret-scope-01';
const HOOK = { username: 'pmo-sync', password: 'ado-hook-password-scope-01' };
const WIQL = "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = 'Payments' AND [System.State] <> 'Closed'";

for (const target of dbTargets()) {
  describe(`scope on every path, on ${target.name}`, () => {
    let database: Database;
    let jira: JiraSimulator;
    let ado: AdoSimulator;
    let config: Config;
    let connectors: Map<string, Connector>;
    let pipeline: SyncPipeline;
    let hooks: HookServer;
    const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
    let payKeys: string[];
    let opsKeys: string[];
    let paymentsIds: number[];
    let otherIds: number[];

    const sync = (reconcile = false) =>
      runSync({ database, config, connectors, log, pipeline }, reconcile ? { reconcile: true } : {});
    const settle = async () => {
      for (const sim of [jira, ado]) await sim.flushDeliveries();
      await createWebhookProcessor({ database, connectors, config, log, pipeline, send: true, debounceMs: 0 }).drain();
    };
    const stored = async (refs: string[]) =>
      (await database.db.select({ ref: workItems.ref }).from(workItems).where(inArray(workItems.ref, refs))).map(
        (r) => r.ref,
      );
    const findingsOf = async (refs: string[]) =>
      database.db
        .select({ ref: findings.ref, rule: findings.rule, status: findings.status })
        .from(findings)
        .where(inArray(findings.ref, refs));
    const writesFor = async (refs: string[]) =>
      database.db
        .select({ ref: writeOutbox.ref, status: writeOutbox.status })
        .from(writeOutbox)
        .where(inArray(writeOutbox.ref, refs));
    const jiraBotComments = (key: string) =>
      (jira.store.getIssue(key)?.comments ?? []).filter((c) => c.author.accountId === jira.me.accountId).length;
    const adoBotComments = (id: number) =>
      ado.store.get(id).comments.filter((c) => !c.isDeleted && c.createdBy.id === ado.identity.id).length;
    const api = async (path: string) => {
      const { token } = await createToken(database.db, { scope: 'read', name: 'scope-test' });
      const app = createApp({ database, config, log });
      return app.request(path, { headers: { authorization: `Bearer ${token}` } });
    };

    beforeAll(async () => {
      database = await target.open();
      jira = await startJiraSimulator();
      ado = await startAdoSimulator();
      const manifest = jira.seedPortfolio({
        projects: ['PAY', 'OPS'],
        epics: 2,
        storiesPerEpic: 3,
        bugsPerEpic: 0,
        violationRate: 0.5,
        seed: 5,
      });
      payKeys = manifest.keys.filter((k) => k.startsWith('PAY-'));
      opsKeys = manifest.keys.filter((k) => k.startsWith('OPS-'));
      ado.addProject('Payments', 'Agile');
      ado.addProject('Other', 'Agile');
      const seedOf = (project: string, seed: number) =>
        ado.seedPortfolio({ process: 'Agile', project, epics: 1, featuresPerEpic: 1, storiesPerFeature: 3, seed }).ids;
      paymentsIds = seedOf('Payments', 11);
      otherIds = seedOf('Other', 12);
      const jiraConn = (id: string, scope: string) => `  - id: ${id}
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: jira-scope-token-01 }
    scope: ${scope}
    webhookSecret: ${SECRET}
    limits: { concurrency: 4, requestsPerSecond: 500 }`;
      const adoConn = (id: string, scope: string) => `  - id: ${id}
    kind: azure-devops
    orgUrl: ${ado.url}
    auth: { pat: ado-scope-pat-01 }
    scope: ${scope}
    webhookAuth: { username: ${HOOK.username}, password: ${HOOK.password} }
    limits: { concurrency: 4, requestsPerSecond: 500 }`;
      config = parseConfig(
        `connections:
${jiraConn('jp', '{ projects: [PAY] }')}
${jiraConn('jq', '{ jql: "project = PAY AND statusCategory != Done ORDER BY rank" }')}
${adoConn('ap', '{ projects: [Payments] }')}
${adoConn('aw', `{ wiql: "${WIQL}" }`)}
`,
        { env: {} },
      ).config;
      connectors = createConnectors(config.connections, { log });
      pipeline = await buildSyncPipeline({ config, cwd: process.cwd(), log, database, connectors });
      await sync();
      hooks = await startHookServer({ db: database.db, connectors, log });
      // Registered the way that leaked: every issue event, every project.
      for (const id of ['jp', 'jq']) jira.registerWebhook({ url: `${hooks.url}/webhooks/jira/${id}`, secret: SECRET });
      for (const id of ['ap', 'aw']) ado.subscribe({ url: `${hooks.url}/webhooks/azure-devops/${id}`, ...HOOK });
    });
    afterAll(async () => {
      await hooks?.close();
      for (const c of connectors?.values() ?? []) await c.close();
      await jira?.close();
      await ado?.close();
      await database?.close();
    });

    it('syncs only the scope', async () => {
      const rows = await database.db
        .select({ connection: workItems.connection, n: sql<number>`count(*)::int` })
        .from(workItems)
        .groupBy(workItems.connection);
      const n = Object.fromEntries(rows.map((r) => [r.connection, Number(r.n)]));
      expect(n.jp).toBe(payKeys.length);
      expect(n.ap).toBe(paymentsIds.length);
      expect(await stored([...opsKeys.map((k) => `jp:${k}`), ...otherIds.map((i) => `ap:${i}`)])).toEqual([]);
    });

    it('never stores, evaluates or writes an out-of-scope item a webhook delivers, from either tracker', async () => {
      const opsKey = opsKeys.find((k) => jira.store.getIssue(k)?.fields.issuetype)!;
      const otherId = otherIds[0]!;
      // Changes that would open findings (and so writes) were the items in scope.
      jira.store.updateIssue(opsKey, { assignee: null, duedate: null });
      ado.store.update(otherId, { 'System.AssignedTo': null, 'System.Title': 'Out of scope, edited' });
      await settle();
      const refs = [...['jp', 'jq'].map((c) => `${c}:${opsKey}`), ...['ap', 'aw'].map((c) => `${c}:${otherId}`)];
      // Delivered and processed (not retried or dead-lettered) …
      const events = await database.db
        .select({ connection: webhookInbox.connection, status: webhookInbox.status, keys: webhookInbox.keys })
        .from(webhookInbox);
      const theirs = events.filter((e) => (e.keys as string[]).some((k) => k === opsKey || k === String(otherId)));
      expect(new Set(theirs.map((e) => e.connection))).toEqual(new Set(['jp', 'jq', 'ap', 'aw']));
      expect(theirs.every((e) => e.status === 'done')).toBe(true);
      // … and never stored, evaluated or written.
      expect(await stored(refs)).toEqual([]);
      expect(await findingsOf(refs)).toEqual([]);
      expect(await writesFor(refs)).toEqual([]);
      expect([jiraBotComments(opsKey), adoBotComments(otherId)]).toEqual([0, 0]);
      expect((await api(`/api/v1/items/${encodeURIComponent(`ap:${otherId}`)}`)).status).toBe(404);
    });

    it('takes an item that leaves a JQL or WIQL scope, or moves to another project, out of the API, resolving its findings and writing nothing more', async () => {
      // An item of each scope kind with an open finding and our comment on it.
      const openIn = async (conn: string) => {
        const rows = await database.db
          .select({ ref: findings.ref })
          .from(findings)
          .where(sql`${findings.status} = 'open' and ${findings.ref} like ${`${conn}:%`}`);
        return [...new Set(rows.map((r) => r.ref))].sort();
      };
      const jqRef = (await openIn('jq')).find((r) => jira.store.getIssue(r.slice(3))?.fields.status)!;
      const awRef = (await openIn('aw'))[0]!;
      const apRef = (await openIn('ap')).find((r) => r !== `ap:${awRef.slice(3)}`) ?? (await openIn('ap'))[0]!;
      expect([jqRef, awRef, apRef].every(Boolean)).toBe(true);
      const jqKey = jqRef.slice(3);
      const awId = Number(awRef.slice(3));
      const apId = Number(apRef.slice(3));
      const before = { jira: jiraBotComments(jqKey), aw: adoBotComments(awId), ap: adoBotComments(apId) };
      expect((await api(`/api/v1/items/${encodeURIComponent(jqRef)}`)).status).toBe(200);

      jira.edit(jqKey, { status: 'Done' });
      ado.edit(String(awId), { status: 'Closed' });
      ado.store.update(apId, { 'System.TeamProject': 'Other' });
      await settle();

      for (const ref of [jqRef, awRef, apRef]) {
        expect((await api(`/api/v1/items/${encodeURIComponent(ref)}`)).status).toBe(404);
        const list = (await (await api('/api/v1/items?limit=500')).json()) as { items: { ref: string }[] };
        expect(list.items.map((i) => i.ref)).not.toContain(ref);
        expect((await findingsOf([ref])).filter((f) => f.status === 'open')).toEqual([]);
        expect((await writesFor([ref])).filter((w) => w.status === 'pending' || w.status === 'planned')).toEqual([]);
      }
      // Still in each tracker, not deleted there, and nothing more written to it.
      expect(jira.store.getIssue(jqKey)).toBeDefined();
      expect({ jira: jiraBotComments(jqKey), aw: adoBotComments(awId), ap: adoBotComments(apId) }).toEqual(before);
      // The same item is still in the scope of the projects connection (Done is still in PAY).
      expect(await stored([`jp:${jqKey}`])).toEqual([`jp:${jqKey}`]);
    });

    it('the reconcile sweep finds an item that left its scope without a webhook', async () => {
      const rows = await database.db
        .select({ ref: workItems.ref })
        .from(workItems)
        .where(sql`${workItems.connection} = 'jq' and ${workItems.statusCategory} <> 'done'`);
      const ref = rows[0]!.ref;
      const key = ref.slice(3);
      // Changed in the tracker with nobody told: its deliveries are lost.
      jira.setDeliveryFaults({ drop: true });
      jira.edit(key, { status: 'Done' });
      await jira.flushDeliveries();
      jira.setDeliveryFaults({ drop: false });
      expect(await stored([ref])).toEqual([ref]);
      const summary = await sync(true);
      expect(summary.connections.find((c) => c.id === 'jq')?.itemsDeleted).toBe(0);
      expect(await stored([ref])).toEqual([]);
      expect((await findingsOf([ref])).filter((f) => f.status === 'open')).toEqual([]);
    });
  });
}
