// Both tracker simulators answer the shared vocabulary (connectors/simulator.ts) alike: an edit
// is delivered to a subscriber, a dropped delivery is not, and a scripted fault fails the real
// connector's request once.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { createConnector } from '../../connectors/index.ts';
import { startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { createRefResolver } from '../../connectors/resolve-ref.ts';
import type { TrackerSimulator } from '../../connectors/simulator.ts';
import { Connection } from '../../src/config/schema.ts';
import { silentLogger } from '../../src/core/log.ts';

interface Subject {
  sim: TrackerSimulator;
  key: string;
  /** The label of the request `fetchItems` makes, as in `requestCounts()`. */
  fetchEndpoint: string;
  connection: Connection;
}

const subjects: Record<string, (hookUrl: string) => Promise<Subject>> = {
  async jira(hookUrl) {
    const sim = await startJiraSimulator();
    const [key] = sim.seedPortfolio({
      projects: ['PAY'],
      epics: 1,
      storiesPerEpic: 1,
      bugsPerEpic: 0,
      violationRate: 0,
      seed: 1,
    }).keys;
    sim.registerWebhook({ url: hookUrl });
    const connection = Connection.parse({
      id: 'j',
      kind: 'jira',
      baseUrl: sim.url,
      auth: { email: 'bot@example.com', apiToken: 'token' },
      scope: { projects: ['PAY'] },
    });
    return { sim, key: key!, fetchEndpoint: 'POST issue/bulkfetch', connection };
  },
  async 'azure-devops'(hookUrl) {
    const sim = await startAdoSimulator();
    sim.addProject('Payments', 'Agile');
    const [id] = sim.seedPortfolio({
      process: 'Agile',
      project: 'Payments',
      epics: 1,
      featuresPerEpic: 1,
      storiesPerFeature: 1,
      seed: 1,
    }).ids;
    sim.subscribe({ url: hookUrl, username: 'u', password: 'p' });
    const connection = Connection.parse({
      id: 'a',
      kind: 'azure-devops',
      orgUrl: sim.url,
      auth: { pat: 'pat' },
      scope: { projects: ['Payments'] },
    });
    return { sim, key: String(id), fetchEndpoint: 'POST wit/workitemsbatch', connection };
  },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A webhook receiver that answers 200 and counts what it got. */
async function receiver() {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received: () => received };
}

describe.each(Object.keys(subjects))('%s simulator as a TrackerSimulator', (tracker) => {
  async function start() {
    const hooks = await receiver();
    const s = await subjects[tracker]!(hooks.url);
    cleanups.push(() => s.sim.close());
    expect(s.sim.tracker).toBe(tracker);
    return { ...s, hooks };
  }

  it('delivers an edit, and loses it while deliveries are dropped', async () => {
    const { sim, key, hooks } = await start();
    sim.edit(key, { title: 'edited once' });
    await sim.flushDeliveries();
    const afterEdit = hooks.received();
    expect(afterEdit).toBeGreaterThan(0);

    sim.setDeliveryFaults({ drop: true });
    sim.edit(key, { title: 'edited twice', assignee: null });
    await sim.flushDeliveries();
    expect(hooks.received()).toBe(afterEdit);

    sim.setDeliveryFaults({ drop: false });
    sim.edit(key, { title: 'edited thrice' });
    await sim.flushDeliveries();
    expect(hooks.received()).toBeGreaterThan(afterEdit);
  });

  it('an edit is what the connector reads back', async () => {
    const { sim, key, connection } = await start();
    sim.edit(key, {
      title: 'renamed',
      labels: ['alpha', 'beta'],
      assignee: { id: 'grace@example.com', name: 'Grace' },
    });
    const connector = createConnector(connection, { log: silentLogger(), resolveRef: createRefResolver([connection]) });
    cleanups.push(() => connector.close());
    const [item] = await connector.fetchItems([key]);
    expect(item?.title).toBe('renamed');
    expect([...(item?.labels ?? [])].sort()).toEqual(['alpha', 'beta']);
    expect(item?.assignee?.name).toBe('Grace');
  });

  it('failNext fails the next matching request once', async () => {
    const { sim, key, fetchEndpoint, connection } = await start();
    const connector = createConnector(connection, { log: silentLogger(), resolveRef: createRefResolver([connection]) });
    cleanups.push(() => connector.close());
    sim.failNext({ endpoint: fetchEndpoint, status: 400 });
    await expect(connector.fetchItems([key])).rejects.toThrow();
    expect(await connector.fetchItems([key])).toHaveLength(1);
  });
});
