// The integration pull against the simulator: 5,000 issues in the fewest requests Jira's page
// size allows, an incremental pull that reads only what changed, and edits made while paging.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkItem } from '../../src/core/work-item.ts';
import type { Connector } from '../types.ts';
import { createJiraConnector } from './index.ts';
import { CHANGELOG_ISSUES_MAX, SEARCH_PAGE } from './read.ts';
import { type JiraSimulator, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

describe('pull from the simulator', () => {
  let sim: JiraSimulator;
  let connector: Connector;

  beforeEach(async () => {
    sim = await startJiraSimulator();
    connector = createJiraConnector({ config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: sim.url });
  });
  afterEach(async () => {
    await connector.close();
    await sim.close();
  });

  async function pullAll(cursor: string | null, onEach?: (page: WorkItem[], n: number) => Promise<void>) {
    const items: WorkItem[] = [];
    let n = 0;
    const result = await connector.pull({
      cursor,
      onPage: async (page) => {
        items.push(...page);
        await onEach?.(page, n++);
      },
    });
    return { items, cursor: result.cursor };
  }

  it('reads 5,000 issues in the fewest requests the page size allows, then only the 50 that changed', async () => {
    // Arrange
    const manifest = sim.seedPortfolio({ epics: 100, storiesPerEpic: 49, seed: 7, violationRate: 0.1 });
    sim.resetCounts();

    // Act
    const first = await pullAll(null);

    // Assert
    expect(manifest.keys.length).toBe(5000);
    expect(new Set(first.items.map((i) => i.key)).size).toBe(5000);
    expect(first.items.length).toBe(5000);
    const searchPages = Math.ceil(5000 / SEARCH_PAGE);
    const changelogBatches = Math.ceil(manifest.done / CHANGELOG_ISSUES_MAX);
    expect(sim.requestCounts()).toEqual({
      'GET field': 1,
      'POST search/jql': searchPages,
      'POST changelog/bulkfetch': changelogBatches,
    });
    expect(connector.stats()).toEqual({
      requests: 1 + searchPages + changelogBatches,
      throttled: 0,
      retries: 0,
      byEndpoint: { 'GET field': 1, 'POST search/jql': searchPages, 'POST changelog/bulkfetch': changelogBatches },
      warnings: {},
      quota: { pauses: 0, pausedUntil: null, reason: null, nearLimitSlowdowns: 0 },
    });

    // Arrange: 50 people change 50 stories
    const changed = manifest.keys.filter((_, i) => i % 100 === 3).slice(0, 50);
    for (const key of changed) sim.store.updateIssue(key, { summary: `Edited ${key}` });
    sim.resetCounts();

    // Act
    const second = await pullAll(first.cursor);

    // Assert
    expect(second.items.map((i) => i.key).sort()).toEqual([...changed].sort());
    expect(second.items.every((i) => i.title === `Edited ${i.key}`)).toBe(true);
    expect(sim.requestCounts()['POST search/jql']).toBe(1);
    expect(sim.requestCounts()['GET field']).toBeUndefined();
  });

  it('neither misses nor double-counts items that change while pages are read', async () => {
    // Arrange
    const manifest = sim.seedPortfolio({ epics: 5, storiesPerEpic: 59, seed: 3 });
    const alreadyRead = manifest.keys[10]!;
    const notYetRead = manifest.keys[250]!;
    let created = '';

    // Act
    const first = await pullAll(null, async (_page, n) => {
      if (n !== 0) return;
      sim.store.updateIssue(alreadyRead, { summary: 'changed after it was read' });
      sim.store.updateIssue(notYetRead, { summary: 'changed before it was read' });
      created = sim.store.createIssue({ project: 'PAY', issuetype: 'Story', summary: 'created mid-pull' }).key;
    });
    const second = await pullAll(first.cursor);

    // Assert
    const keys = first.items.map((i) => i.key);
    expect(keys.length).toBe(new Set(keys).size);
    expect(new Set(keys)).toEqual(new Set([...manifest.keys, created]));
    expect(first.items.find((i) => i.key === notYetRead)?.title).toBe('changed before it was read');
    expect(second.items.map((i) => [i.key, i.title]).sort()).toEqual(
      [
        [alreadyRead, 'changed after it was read'],
        [notYetRead, 'changed before it was read'],
        [created, 'created mid-pull'],
      ].sort(),
    );
  });
  it('tells a progress total in one count for a first pull of several projects, and in none for a pull of one page', async () => {
    // Arrange
    await connector.close();
    connector = createJiraConnector({
      config: jiraConfig({ scope: { projects: ['PAY', 'WEB'] } }),
      log: silentLog,
      resolveRef: noRefs,
      baseUrl: sim.url,
    });
    const pay = sim.seedPortfolio({ projects: ['PAY'], epics: 3, storiesPerEpic: 49, seed: 3 });
    const web = sim.seedPortfolio({ projects: ['WEB'], epics: 3, storiesPerEpic: 49, seed: 4 });
    const pullTelling = async (cursor: string | null) => {
      const totals: number[] = [];
      const r = await connector.pull({ cursor, onPage: async () => {}, onTotal: (n) => void totals.push(n) });
      return { cursor: r.cursor, totals, counts: sim.requestCounts()['POST search/approximate-count'] ?? 0 };
    };
    sim.resetCounts();

    // Act: a first pull (two project searches of several pages), then one after a single edit.
    const first = await pullTelling(null);
    sim.store.updateIssue(pay.keys[0]!, { summary: 'Edited once' });
    sim.resetCounts();
    const next = await pullTelling(first.cursor);

    // Assert: the first pull counts both projects in one request; the second's one page is its total.
    expect({ first: [first.totals, first.counts], next: [next.totals, next.counts] }).toEqual({
      first: [[pay.keys.length + web.keys.length], 1],
      next: [[1], 0],
    });
  });

  it('pulls a scope of several projects (searched side by side): each issue once, pages delivered one at a time', async () => {
    // Arrange
    await connector.close();
    connector = createJiraConnector({
      config: jiraConfig({ scope: { projects: ['PAY', 'WEB'] } }),
      log: silentLog,
      resolveRef: noRefs,
      baseUrl: sim.url,
    });
    const pay = sim.seedPortfolio({ projects: ['PAY'], epics: 6, storiesPerEpic: 49, seed: 3, violationRate: 0.1 });
    const web = sim.seedPortfolio({ projects: ['WEB'], epics: 5, storiesPerEpic: 49, seed: 4, violationRate: 0.1 });
    sim.setFaults({ latencyMs: 5 });
    sim.resetCounts();
    let delivering = 0;
    let overlapped = false;

    // Act
    const { items, cursor } = await pullAll(null, async () => {
      delivering++;
      if (delivering > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 1));
      delivering--;
    });

    // Assert
    const keys = items.map((i) => i.key);
    expect(keys.length).toBe(pay.keys.length + web.keys.length);
    expect(new Set(keys)).toEqual(new Set([...pay.keys, ...web.keys]));
    expect(overlapped).toBe(false);
    expect(sim.requestCounts()['POST search/jql']).toBe(
      Math.ceil(pay.keys.length / SEARCH_PAGE) + Math.ceil(web.keys.length / SEARCH_PAGE),
    );

    // An incremental pull with nothing changed is one search over the whole scope.
    sim.resetCounts();
    const again = await pullAll(cursor);
    expect(again.items).toEqual([]);
    expect(sim.requestCounts()).toEqual({ 'POST search/jql': 1 });
  });
});
