// A Retry-After over the cap reaches the sync summary: the real Jira connector against the
// simulator (one virtual clock for both, so the capped 10-minute wait takes no time), through
// runSync. Only the run in which it happened reports it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJiraConnector } from '../../connectors/jira/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import type { JiraConnection } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/log.ts';
import { runSync } from '../../src/sync/run.ts';
import { oneJiraConnection } from '../helpers/config.ts';

const config = oneJiraConnection();
const log = createLogger({ level: 'silent', pretty: false });

describe('connector warnings in the sync summary', () => {
  let database: Database;
  let sim: JiraSimulator;
  const clock = { t: Date.parse('2026-03-02T10:00:00Z'), sleeps: [] as number[] };

  beforeEach(async () => {
    database = await openDatabase('memory://');
    await database.migrate();
    sim = await startJiraSimulator({ now: () => clock.t });
    sim.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 4 });
  });
  afterEach(async () => {
    await sim.close();
    await database.close();
  });

  it('a Retry-After over limits.maxRetryAfterSeconds is waited for the cap and reported once', async () => {
    // Arrange
    const connector = createJiraConnector(
      {
        config: config.connections[0] as JiraConnection,
        log,
        resolveRef: () => null,
        baseUrl: sim.url,
      },
      {
        now: () => clock.t,
        sleep: async (ms) => {
          clock.sleeps.push(ms);
          clock.t += ms;
        },
        random: () => 0,
      },
    );
    const deps = { database, config, connectors: new Map([['jira-main', connector]]), log };
    sim.failNext({ endpoint: 'POST search/jql', kind: 429, retryAfterSec: 1_900_000 });

    // Act
    const first = await runSync(deps);
    const second = await runSync(deps);
    await connector.close();

    // Assert
    expect({
      status: first.connections[0]?.status,
      pulled: first.connections[0]?.itemsPulled,
      waits: clock.sleeps,
      warnings: first.warnings,
      later: second.warnings,
    }).toEqual({
      status: 'ok',
      pulled: 5,
      waits: [600_000],
      warnings: [
        'jira-main: POST search/jql: Jira asked to wait longer than limits.maxRetryAfterSeconds (600 s); waited 600 s',
      ],
      later: [],
    });
  });
});
