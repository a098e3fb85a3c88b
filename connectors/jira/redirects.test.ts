// Jira redirects are followed by the transport, never by fetch: within the site they are followed;
// to another origin — a second local listener standing in for a foreign host — nothing is sent,
// neither the request body nor the Authorization header, and the error names the host.
import { afterEach, describe, expect, test } from 'vitest';
import { type ForeignHost, startForeignHost } from '../http/foreign-host.ts';
import { createJiraConnector } from './index.ts';
import { type JiraSimulator, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(): Promise<{ sim: JiraSimulator; foreign: ForeignHost }> {
  const sim = await startJiraSimulator();
  cleanup.push(() => sim.close());
  const foreign = await startForeignHost();
  cleanup.push(() => foreign.close());
  sim.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 2 });
  return { sim, foreign };
}

function connect(sim: JiraSimulator) {
  const jira = createJiraConnector(
    { config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: sim.url },
    { sleep: async () => {} },
  );
  cleanup.push(() => jira.close());
  return jira;
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return 'no failure';
}

const refusal = (sim: JiraSimulator, foreign: ForeignHost, label: string) =>
  `${label}: Jira at ${new URL(sim.url).host} redirected to ${foreign.url}, another origin; pmo-sync sends the request and the API token for bot@acme.test to ${new URL(sim.url).origin} only (if the site moved, set baseUrl to its new URL)`;

describe('redirects to another origin', () => {
  test.each([301, 302, 307, 308])('a %i on a GET sends nothing to the other host', async (status) => {
    // Arrange
    const { sim, foreign } = await setup();
    sim.failNext({ endpoint: 'GET myself', kind: status, headers: { Location: `${foreign.url}/rest/api/3/myself` } });
    // Act
    const message = await failure(connect(sim).whoami());
    // Assert
    expect({ message, foreign: foreign.received() }).toEqual({
      message: refusal(sim, foreign, 'GET myself'),
      foreign: [],
    });
  });

  test.each([301, 302, 307, 308])('a %i on a POST re-sends neither the body nor the credential', async (status) => {
    // Arrange
    const { sim, foreign } = await setup();
    sim.failNext({
      endpoint: 'POST search/jql',
      kind: status,
      headers: { Location: `${foreign.url}/rest/api/3/search/jql` },
    });
    // Act
    const message = await failure(connect(sim).listKeys());
    // Assert
    expect({ message, foreign: foreign.received() }).toEqual({
      message: refusal(sim, foreign, 'POST search/jql'),
      foreign: [],
    });
  });
});

describe('redirects within the site', () => {
  test('a 307 on a POST is followed with its body and credential, and the call succeeds', async () => {
    // Arrange: the same search, one hop away on the same origin.
    const { sim, foreign } = await setup();
    sim.failNext({ endpoint: 'POST search/jql', kind: 307, headers: { Location: `${sim.url}/rest/api/3/search/jql` } });
    // Act
    const keys = await connect(sim).listKeys();
    // Assert
    expect({
      keys,
      searches: sim
        .requestLog()
        .filter((r) => r.label === 'POST search/jql')
        .map((r) => ({ status: r.status, hasJql: typeof r.jql === 'string' })),
      foreign: foreign.received(),
    }).toEqual({
      keys: ['PAY-1', 'PAY-2', 'PAY-3'],
      searches: [
        { status: 307, hasJql: true },
        { status: 200, hasJql: true },
      ],
      foreign: [],
    });
  });
});
