// Webhook registrations carry the scope (issue 23, item 4): Jira admin webhooks filter issue
// events with the scope's JQL, Azure DevOps service hooks are made per scoped project
// (publisherInputs.projectId, as the service hooks API takes it) instead of org-wide. Registered
// through the connectors against the simulators, which deliver as the trackers do: only what the
// filter lets through reaches the receiver.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdoConnector } from '../../connectors/azure-devops/index.ts';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { adoConfig } from '../../connectors/azure-devops/testing.ts';
import { createJiraConnector } from '../../connectors/jira/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from '../../connectors/jira/testing.ts';
import type { Connector } from '../../connectors/types.ts';

let receiver: Server;
let hookUrl: string;
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => receiver.close(r));
});

describe('Jira admin webhooks', () => {
  let sim: JiraSimulator;
  let keys: string[];
  const connectors: Connector[] = [];
  beforeAll(async () => {
    sim = await startJiraSimulator();
    keys = sim.seedPortfolio({ projects: ['PAY', 'OPS'], epics: 2, storiesPerEpic: 2, seed: 3, violationRate: 0 }).keys;
  });
  afterAll(async () => {
    for (const c of connectors) await c.close();
    await sim.close();
  });
  const connector = (scope: unknown) => {
    const c = createJiraConnector({
      config: jiraConfig({ scope, webhookSecret: 'hook-secret-0001' }),
      log: silentLog,
      resolveRef: noRefs,
      baseUrl: sim.url,
    });
    connectors.push(c);
    return c;
  };

  it('carry the scope JQL as their filter, refreshed when the scope changes, and only matching issues are sent', async () => {
    const url = `${hookUrl}/webhooks/jira/jira-main`;
    const first = await connector({ projects: ['PAY'] }).installWebhooks!({ url });
    expect(sim.store.webhooks().map((h) => h.filters)).toEqual([
      { 'issue-related-events-section': 'project in ("PAY")' },
    ]);
    // Same scope: nothing to do. A JQL scope (its ORDER BY dropped): the filter is brought up to date.
    const again = await connector({ projects: ['PAY'] }).installWebhooks!({ url });
    const narrowed = await connector({ jql: 'project = PAY AND statusCategory != Done ORDER BY rank' })
      .installWebhooks!({
      url,
    });
    expect([first, again, narrowed].map((r) => r.map((x) => x.action))).toEqual([
      ['created'],
      ['unchanged'],
      ['refreshed'],
    ]);
    expect(sim.store.webhooks().map((h) => h.filters)).toEqual([
      { 'issue-related-events-section': '(project = PAY AND statusCategory != Done)' },
    ]);

    received.length = 0;
    const ops = keys.find((k) => k.startsWith('OPS-'))!;
    const category = (k: string) =>
      (sim.store.getIssue(k)?.fields.status as { statusCategory?: { key?: string } } | undefined)?.statusCategory?.key;
    const pay = keys.find((k) => k.startsWith('PAY-') && category(k) !== 'done')!;
    sim.edit(ops, { title: 'another project' });
    sim.edit(pay, { title: 'in scope' });
    await sim.flushDeliveries();
    const sent = received.map((r) => (JSON.parse(r.body) as { issue: { key: string } }).issue.key);
    expect(sent).toEqual([pay]);
  });
});

describe('Azure DevOps service hooks', () => {
  let sim: AdoSimulator;
  const connectors: Connector[] = [];
  // A fresh organisation per test: subscriptions one test makes must not be counted, nor deliver,
  // in another.
  beforeEach(async () => {
    received.length = 0;
    sim = await startAdoSimulator();
    sim.addProject('Payments', 'Agile');
    sim.addProject('Other', 'Agile');
    sim.addProject('Mobile', 'Agile');
    for (const [project, seed] of [
      ['Payments', 1],
      ['Other', 2],
      ['Mobile', 3],
    ] as const) {
      sim.seedPortfolio({ process: 'Agile', project, epics: 1, featuresPerEpic: 1, storiesPerFeature: 1, seed });
    }
  });
  afterEach(async () => {
    for (const c of connectors.splice(0)) await c.close();
    await sim.close();
  });
  const connector = (scope: unknown) => {
    const c = createAdoConnector(
      { config: adoConfig({ scope }), log: silentLog, resolveRef: noRefs, baseUrl: sim.url },
      { client: { retry: { baseDelayMs: 5 } } },
    );
    connectors.push(c);
    return c;
  };
  const subscriptions = () =>
    sim.subscriptions().map((s) => ({ eventType: s.eventType, projectId: s.projectId ?? null }));
  const projectId = (name: string) => [...sim.store.projects.values()].find((p) => p.name === name)!.id;
  const EVENTS = [
    'workitem.created',
    'workitem.updated',
    'workitem.deleted',
    'workitem.restored',
    'workitem.commented',
  ];

  it('are made per scoped project, replace an org-wide one, and only those projects’ items are sent', async () => {
    const url = `${hookUrl}/webhooks/azure-devops/ado`;
    // An org-wide subscription, as earlier versions made it.
    sim.subscribe({ url, eventTypes: ['workitem.updated'], username: 'pmo-sync', password: 'hook-pass' });
    const installed = await connector({ projects: ['Payments', 'Mobile'] }).installWebhooks!({ url });
    expect(installed.map((r) => r.action).sort()).toEqual([...Array(10).fill('created'), 'deleted']);
    const byProject = (id: string) =>
      subscriptions()
        .filter((s) => s.projectId === id)
        .map((s) => s.eventType);
    expect(byProject(projectId('Payments'))).toEqual(EVENTS);
    expect(byProject(projectId('Mobile'))).toEqual(EVENTS);
    expect(subscriptions()).toHaveLength(10);

    // Idempotent; a project that leaves the scope loses its subscriptions.
    const again = await connector({ projects: ['Payments', 'Mobile'] }).installWebhooks!({ url });
    expect(again.map((r) => r.action)).toEqual(Array(10).fill('unchanged'));
    const narrowed = await connector({ projects: ['Payments'] }).installWebhooks!({ url });
    expect(narrowed.filter((r) => r.action === 'deleted')).toHaveLength(5);
    expect(subscriptions().map((s) => s.projectId)).toEqual(Array(5).fill(projectId('Payments')));

    received.length = 0;
    const ofProject = (name: string) =>
      [...sim.store.items.values()].find((i) => i.fields['System.TeamProject'] === name)!.id;
    sim.edit(String(ofProject('Other')), { title: 'another project' });
    sim.edit(String(ofProject('Payments')), { title: 'in scope' });
    await sim.flushDeliveries();
    const ids = received.map((r) => (JSON.parse(r.body) as { resource: { workItemId?: number; id: number } }).resource);
    expect(ids.map((r) => r.workItemId ?? r.id)).toEqual([ofProject('Payments')]);
  });

  it('stay org-wide for a WIQL scope that names no project (the processor checks each item)', async () => {
    const url = `${hookUrl}/webhooks/azure-devops/wiql`;
    const installed = await connector({ wiql: "SELECT [System.Id] FROM WorkItems WHERE [System.State] <> 'Closed'" })
      .installWebhooks!({ url });
    expect(installed.map((r) => r.action)).toEqual(Array(5).fill('created'));
    const mine = sim.subscriptions().filter((s) => s.url === url);
    expect(mine.map((s) => s.projectId ?? null)).toEqual(Array(5).fill(null));
  });
});
