// PullOptions.onTotal: a pull tells how many items it will bring when the tracker can say so up
// front (Jira's approximate count, the ids of the Azure DevOps WIQL query), and spends no
// request on it when nobody asks.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/core/log.ts';
import { simulatedConnector } from './azure-devops/testing.ts';
import { createJiraConnector } from './jira/index.ts';
import { type JiraSimulator, startJiraSimulator } from './jira/simulator/index.ts';
import { jiraConfig, noRefs } from './jira/testing.ts';
import type { Connector } from './types.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function pull(connector: Connector, cursor: string | null, withTotal: boolean) {
  const totals: number[] = [];
  let items = 0;
  let itemsAtFirstTotal: number | null = null;
  const r = await connector.pull({
    cursor,
    onPage: async (page) => {
      items += page.length;
    },
    onTotal: withTotal
      ? (n) => {
          itemsAtFirstTotal ??= items;
          totals.push(n);
        }
      : undefined,
  });
  return { totals, items, itemsAtFirstTotal, cursor: r.cursor };
}

describe('a pull’s total', () => {
  let sim: JiraSimulator;
  const jira = async () => {
    sim = await startJiraSimulator();
    // More than one page of issues: a search whose first page is its last needs no count.
    sim.seedPortfolio({ projects: ['PAY', 'OPS'], epics: 3, storiesPerEpic: 80, bugsPerEpic: 2, seed: 11 });
    const connector = createJiraConnector({
      config: jiraConfig({ scope: { projects: ['PAY', 'OPS'] } }),
      log: silentLogger(),
      resolveRef: noRefs,
      baseUrl: sim.url,
    });
    cleanups.push(
      () => sim.close(),
      () => connector.close(),
    );
    return connector;
  };

  it('Jira: the approximate count of the whole pull in one request, none when one page holds it', async () => {
    const connector = await jira();
    const r = await pull(connector, null, true);
    expect({ totals: r.totals, items: r.items, counts: sim.requestCounts()['POST search/approximate-count'] }).toEqual({
      totals: [sim.store.all().length],
      items: sim.store.all().length,
      counts: 1,
    });
    // An incremental pull's one page is its exact size: no count request.
    sim.store.updateIssue(sim.store.all()[0]!.key, { summary: 'renamed' });
    const next = await pull(connector, r.cursor, true);
    expect({
      totals: next.totals,
      items: next.items,
      counts: sim.requestCounts()['POST search/approximate-count'],
    }).toEqual({
      totals: [1],
      items: 1,
      counts: 1,
    });
  });

  it('Jira: no count request when nobody listens, and a failed count costs only the total', async () => {
    const connector = await jira();
    const quiet = await pull(connector, null, false);
    expect({ items: quiet.items, counts: sim.requestCounts()['POST search/approximate-count'] ?? 0 }).toEqual({
      items: sim.store.all().length,
      counts: 0,
    });
    sim.failNext({ endpoint: 'POST search/approximate-count', kind: 400, times: 2 });
    const failed = await pull(connector, null, true);
    expect({ totals: failed.totals, items: failed.items }).toEqual({ totals: [], items: sim.store.all().length });
  });

  it('Azure DevOps: the number of ids the WIQL query returned, before the first page', async () => {
    const { connector } = await simulatedConnector(
      (s) => {
        s.addProject('Payments', 'Scrum');
        s.seedPortfolio({
          process: 'Scrum',
          project: 'Payments',
          epics: 2,
          featuresPerEpic: 3,
          storiesPerFeature: 40,
          seed: 12,
        });
      },
      {},
      (...fns) => cleanups.push(...fns),
    );
    const r = await pull(connector, null, true);
    expect({ totals: r.totals, itemsAtFirstTotal: r.itemsAtFirstTotal }).toEqual({
      totals: [r.items],
      itemsAtFirstTotal: 0,
    });
    expect(r.items).toBe(2 + 2 * 3 + 2 * 3 * 40);
  });
});
