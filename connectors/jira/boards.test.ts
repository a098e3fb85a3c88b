// A board's issues from the simulator: its configuration names a filter, the filter gives the
// JQL, and search reads the keys it selects (its ORDER BY replaced by key order), in three
// requests; a board that does not exist is a clear error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/core/errors.ts';
import type { Connector } from '../types.ts';
import { whereOf } from './boards.ts';
import { createJiraConnector } from './index.ts';
import { type JiraSimulator, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

describe('Jira board issues', () => {
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

  it("reads the keys its filter's JQL selects, in three requests", async () => {
    // Arrange: the customer-labelled issues of PAY, ordered by rank as a board's filter is.
    sim.seedPortfolio({ epics: 4, storiesPerEpic: 6, seed: 2 });
    const jql = 'project = PAY AND labels = customer ORDER BY Rank ASC';
    const board = sim.store.addBoard({ name: 'Customer squad', jql });
    const expected = sim.store
      .all()
      .filter((i) => (i.fields.labels as string[]).includes('customer'))
      .map((i) => i.key)
      .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]));
    sim.resetCounts();

    // Act
    const r = await connector.boardIssues!({ board: board.id });

    // Assert
    expect(expected.length).toBeGreaterThan(0);
    expect(r).toEqual({ jql, keys: expected });
    expect(sim.requestCounts()).toEqual({
      'GET board/{id}/configuration': 1,
      'GET filter/{id}': 1,
      'POST search/jql': 1,
    });
  });

  it('names a board that does not exist', async () => {
    const err = await connector.boardIssues!({ board: 99 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toMatch(/Board does not exist/);
  });

  it("takes the filter's condition without its ORDER BY, not one inside quotes", () => {
    expect(whereOf('project = PAY ORDER BY Rank ASC')).toBe('project = PAY');
    expect(whereOf('summary ~ "order by" order by created DESC')).toBe('summary ~ "order by"');
    expect(whereOf("labels = 'x' AND (status = Done)ORDER BY key")).toBe("labels = 'x' AND (status = Done)");
    expect(whereOf('ORDER BY Rank')).toBe('');
    expect(whereOf('project = PAY')).toBe('project = PAY');
  });
});
