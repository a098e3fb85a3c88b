// The connector against the simulator over real HTTP: complete pulls above the WIQL cap with the
// minimum number of requests, incremental pulls, reconcile, write-back and service hooks.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { Connector, TrackerEvent } from '../types.ts';
import type { AdoSimulator } from './simulator/index.ts';
import { pullAll, simulatedConnector } from './testing.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const setup = (seed: (sim: AdoSimulator) => void, slowdownBelow?: number, concurrency = 4) =>
  simulatedConnector(seed, { slowdownBelow, concurrency }, (...fns) => cleanup.push(...fns));

describe('pull above the WIQL cap', () => {
  test('25,000 work items are read completely with the minimum number of requests', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({
        process: 'Agile',
        project: 'Payments',
        epics: 200,
        featuresPerEpic: 5,
        storiesPerFeature: 5,
        tasksPerStory: 4,
        limit: 25_000,
        seed: 7,
      }),
    );
    // Act
    const { items, pages } = await pullAll(connector, null);
    // Assert: 3 discovery + 2 WIQL slices + 125 batches + 4 type-state lookups + 1 iteration tree.
    const expected = {
      'OPTIONS location': 1,
      'GET resourceareas': 1,
      'OPTIONS wit': 1,
      'POST wit/wiql': Math.ceil(25_000 / 20_000),
      'POST wit/workitemsbatch': Math.ceil(25_000 / 200),
      'GET wit/workitemtypes/{type}/states': 4,
      'GET wit/classificationnodes/iterations': 1,
    };
    expect({
      distinct: new Set(items.map((i) => i.ref)).size,
      pages: pages.length,
      simulator: sim.requestCounts(),
      connector: connector.stats(),
    }).toEqual({
      distinct: 25_000,
      pages: 125,
      simulator: expected,
      connector: { requests: 135, throttled: 0, retries: 0, byEndpoint: expected, warnings: {} },
    });
  });
});

describe('incremental pull by System.ChangedDate', () => {
  test('reads only the items changed since the cursor, to the millisecond', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'Scrum', project: 'Payments', epics: 3, seed: 2 }),
    );
    const first = await pullAll(connector, null);
    sim.store.update(5, { 'System.Title': 'Renamed by a person' });
    sim.store.update(9, { 'System.State': 'Done' });
    sim.resetCounts();
    // Act
    const second = await pullAll(connector, first.cursor);
    const third = await pullAll(connector, second.cursor);
    // Same day, a few milliseconds later: only time precision tells 7 apart from 5 and 9.
    sim.store.update(7, { 'System.Title': 'Later the same day' });
    const fourth = await pullAll(connector, third.cursor);
    // Assert
    expect({
      firstCount: first.items.length,
      second: second.items.map((i) => [i.key, i.title]),
      third: third.items.length,
      fourth: fourth.items.map((i) => [i.key, i.title]),
      requests: sim.requestCounts(),
    }).toEqual({
      firstCount: 48,
      second: [
        ['5', 'Renamed by a person'],
        ['9', second.items[1]!.title],
      ],
      third: 0,
      fourth: [['7', 'Later the same day']],
      // The iteration tree read by the first pull serves the later ones: no sprint is new.
      requests: { 'POST wit/wiql': 3, 'POST wit/workitemsbatch': 2 },
    });
  });
});

describe('changes during a pull', () => {
  test('an item edited after it was read, while the pull goes on, comes back in the next pull', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'Basic', project: 'Payments', epics: 2, seed: 6 }),
    );
    let edited = false;
    // Act
    const first = await connector.pull({
      cursor: null,
      onPage: async () => {
        if (!edited) sim.store.update(1, { 'System.Title': 'Edited mid-pull' });
        edited = true;
      },
    });
    const second = await pullAll(connector, first.cursor);
    // Assert
    expect(second.items.map((i) => [i.key, i.title])).toEqual([['1', 'Edited mid-pull']]);
  });
});

describe('sprints', () => {
  test('an item in a sprint carries the sprint dates from the iteration tree', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'Scrum', project: 'Payments', epics: 1, seed: 8 }),
    );
    sim.store.update(3, { 'System.IterationPath': 'Payments\\Sprint 2' });
    // Act
    const [item] = await connector.fetchItems(['3']);
    // Assert
    expect(item!.iteration).toEqual({
      name: 'Payments\\Sprint 2',
      start: '2025-11-17T00:00:00.000Z',
      end: '2025-11-28T00:00:00.000Z',
    });
  });
});

describe('reconcile', () => {
  test('listKeys no longer lists deleted items; a removed item reads as removed', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, seed: 4 }),
    );
    const before = await connector.listKeys();
    sim.store.remove(3);
    sim.store.update(4, { 'System.State': 'Removed' });
    // Act
    const after = await connector.listKeys();
    const fetched = await connector.fetchItems(['3', '4']);
    // Assert
    expect({
      gone: before.filter((k) => !after.includes(k)),
      fetched: fetched.map((i) => [i.key, i.statusCategory]),
    }).toEqual({ gone: ['3'], fetched: [['4', 'removed']] });
  });
});

describe('write-back', () => {
  const doc = (text: string) => ({ marker: 'pmo-sync:ado:2', blocks: [{ type: 'heading' as const, text }] });

  test('one bot comment: created, unchanged, updated in place, found by marker, deleted', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'CMMI', project: 'Payments', epics: 1, seed: 1 }),
    );
    sim.store.addComment(2, 'A person’s comment');
    // Act
    const created = await connector.ensureComment({ key: '2', doc: doc('1 problem'), commentId: null });
    const again = await connector.ensureComment({ key: '2', doc: doc('1 problem'), commentId: created.commentId });
    const edited = await connector.ensureComment({ key: '2', doc: doc('Compliant'), commentId: null });
    const deleted = await connector.deleteComment({ key: '2', commentId: null, marker: 'pmo-sync:ado:2' });
    const absent = await connector.deleteComment({ key: '2', commentId: created.commentId, marker: 'pmo-sync:ado:2' });
    // Assert
    expect({
      outcomes: [created.outcome, again.outcome, edited.outcome, deleted, absent],
      sameId: new Set([created.commentId, again.commentId, edited.commentId]).size,
      left: sim.store
        .get(2)
        .comments.filter((c) => !c.isDeleted)
        .map((c) => c.text),
    }).toEqual({
      outcomes: ['created', 'unchanged', 'updated', 'deleted', 'absent'],
      sameId: 1,
      left: ['A person’s comment'],
    });
  });

  test('a person’s comment quoting our footer is never taken over', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, seed: 1 }),
    );
    const ours = await connector.ensureComment({ key: '2', doc: doc('1 problem'), commentId: null });
    const quoted = sim.store.get(2).comments[0]!.text;
    await connector.deleteComment({ key: '2', commentId: ours.commentId, marker: 'pmo-sync:ado:2' });
    sim.store.addComment(2, `Why this? > ${quoted}`);
    // Act
    const again = await connector.ensureComment({ key: '2', doc: doc('1 problem'), commentId: null });
    // Assert
    const live = sim.store.get(2).comments.filter((c) => !c.isDeleted);
    expect({ outcome: again.outcome, authors: live.map((c) => c.createdBy.displayName) }).toEqual({
      outcome: 'created',
      authors: ['Jamal Hartnett', 'pmo-sync'],
    });
  });

  test('tags and fields are patched, leaving a person’s other tags alone', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'Basic', project: 'Payments', epics: 1, seed: 1 }),
    );
    sim.store.update(2, { 'System.Tags': 'team-a; urgent' });
    // Act
    const outcomes = [
      await connector.updateLabels({ key: '2', add: ['pmo-red'], remove: ['urgent'] }),
      await connector.updateLabels({ key: '2', add: ['PMO-RED'], remove: [] }),
      await connector.updateFields({ key: '2', fields: { 'Custom.PMOHealth': 'red' } }),
      await connector.updateFields({ key: '2', fields: { 'Custom.PMOHealth': 'red' } }),
    ];
    // Assert
    const f = sim.store.get(2).fields;
    expect({ outcomes, tags: f['System.Tags'], health: f['Custom.PMOHealth'] }).toEqual({
      outcomes: ['updated', 'unchanged', 'updated', 'unchanged'],
      tags: 'team-a; pmo-red',
      health: 'red',
    });
  });
});

describe('service hooks', () => {
  async function receiver(connector: Connector) {
    const events: TrackerEvent[] = [];
    const refused: number[] = [];
    const server: Server = createServer(async (req, res) => {
      let raw = '';
      for await (const c of req) raw += c;
      const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      try {
        connector.verifyWebhook({ headers, rawBody: raw });
        events.push(connector.parseWebhook({ headers, rawBody: raw }));
        res.writeHead(202).end();
      } catch {
        refused.push(1);
        res.writeHead(401).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events, refused };
  }

  test('deliveries verify, dedupe ids repeat on duplicates, our own writes are echoes', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, seed: 1 }),
    );
    const hook = await receiver(connector);
    sim.subscribe({ url: hook.url, username: 'pmo-sync', password: 'hook-pass', eventTypes: ['workitem.updated'] });
    sim.subscribe({ url: hook.url, username: 'pmo-sync', password: 'wrong', eventTypes: ['workitem.created'] });
    await connector.whoami();
    // Act
    sim.setDeliveryFaults({ duplicateNext: 1 });
    sim.store.update(3, { 'System.Title': 'Edited by a person' });
    await sim.flushDeliveries();
    await connector.updateLabels({ key: '3', add: ['pmo-red'], remove: [] });
    sim.store.create({ project: 'Payments', type: 'Task', title: 'New' });
    await sim.flushDeliveries();
    // Assert
    expect({
      events: hook.events.map((e) => [e.deliveryId.split(':')[1], e.kind, e.keys, e.echo, e.actor?.id]),
      refused: hook.refused.length,
    }).toEqual({
      events: [
        ['1', 'updated', ['3'], false, 'fabrikamfiber4@hotmail.com'],
        ['1', 'updated', ['3'], false, 'fabrikamfiber4@hotmail.com'],
        ['2', 'updated', ['3'], true, 'pmo-sync@example.com'],
      ],
      refused: 1,
    });
  });

  test('a late delivery carries the older revision, so it can never regress the item', async () => {
    // Arrange
    const { sim, connector } = await setup((s) =>
      s.seedPortfolio({ process: 'CMMI', project: 'Payments', epics: 1, seed: 1 }),
    );
    const hook = await receiver(connector);
    sim.subscribe({ url: hook.url, username: 'pmo-sync', password: 'hook-pass', eventTypes: ['workitem.updated'] });
    // Act
    sim.setDeliveryFaults({ delayNext: { count: 1, ms: 150 } });
    sim.store.update(2, { 'System.Title': 'first edit' });
    sim.store.update(2, { 'System.Title': 'second edit' });
    await sim.flushDeliveries();
    // Assert: arrival order is reversed; revisions still order them.
    const [a, b] = hook.events;
    expect({ arrived: hook.events.map((e) => e.revision), lateOneIsOlder: a!.revision! > b!.revision! }).toEqual({
      arrived: ['0000000003', '0000000002'],
      lateOneIsOlder: true,
    });
  });

  test('installWebhooks registers each work item event once', async () => {
    // Arrange
    const { sim, connector } = await setup((s) => s.addProject('Payments', 'Agile'));
    // Act
    const first = await connector.installWebhooks!({ url: 'https://pmo.example.com/webhooks/azure-devops/ado' });
    const second = await connector.installWebhooks!({ url: 'https://pmo.example.com/webhooks/azure-devops/ado' });
    // Assert
    expect({
      first: first.map((r) => r.action),
      second: second.map((r) => r.action),
      subs: sim.store && [...new Set(first.map((r) => r.id))].length,
    }).toEqual({
      first: Array(5).fill('created'),
      second: Array(5).fill('unchanged'),
      subs: 5,
    });
  });
});

describe('the iteration tree across pulls', () => {
  test('is read again for a new sprint, once the cache is old, and on every full pull', async () => {
    // Arrange: a connector on a clock the test moves, after a first full pull.
    let skew = 0;
    const { sim, connector } = await simulatedConnector(
      (s) =>
        s.seedPortfolio({
          process: 'Agile',
          project: 'Payments',
          epics: 2,
          featuresPerEpic: 1,
          storiesPerFeature: 3,
          seed: 3,
        }),
      { now: () => Date.now() + skew },
      (...fns) => cleanup.push(...fns),
    );
    const first = await pullAll(connector, null);
    const [a, b, c] = first.items.filter((i) => i.kind === 'story');
    let cursor = first.cursor;
    const pull = async () => {
      const r = await pullAll(connector, cursor);
      cursor = r.cursor;
      return r.items;
    };
    const treeReads = () => sim.requestCounts()['GET wit/classificationnodes/iterations'] ?? 0;
    const reads: number[] = [];
    const sprint7 = { name: 'Payments\\Sprint 7', start: '2027-01-04T00:00:00.000Z', end: '2027-01-15T00:00:00.000Z' };
    sim.resetCounts();

    // Act
    // 1. An edit in a known sprint.
    sim.store.update(Number(a!.key), { 'System.IterationPath': 'Payments\\Sprint 2' });
    await pull();
    reads.push(treeReads());
    // 2. A sprint added since, named by two items, two minutes after the tree was read.
    sim.store.project('Payments').iterations.push({
      name: 'Sprint 7',
      startDate: sprint7.start,
      finishDate: sprint7.end,
    });
    skew += 2 * 60_000;
    for (const it of [b!, c!]) sim.store.update(Number(it.key), { 'System.IterationPath': sprint7.name });
    const moved = await pull();
    reads.push(treeReads());
    // 3. An hour later, any change.
    skew += 61 * 60_000;
    sim.store.update(Number(a!.key), { 'System.Title': 'Renamed an hour later' });
    await pull();
    reads.push(treeReads());
    // 4. A full pull (the reconcile sweep).
    await pullAll(connector, null);
    reads.push(treeReads());

    // Assert: the tree read 0, 1, 1 and 1 more times; the moved items carry the new sprint's dates.
    expect(reads).toEqual([0, 1, 2, 3]);
    expect(moved.map((i) => [i.key, i.iteration])).toEqual([
      [b!.key, sprint7],
      [c!.key, sprint7],
    ]);
  });
});
