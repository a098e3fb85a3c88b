// Jira redirects are followed by the transport, never by fetch: within the site they are followed;
// to another origin — a second local listener standing in for a foreign host — nothing is sent,
// neither the request body nor the Authorization header, and the error names the host.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

describe('the gateway and the token server keep their credentials too', () => {
  test('a scoped token sent to the gateway is never carried to the site, even by a redirect there', async () => {
    // Arrange: the gateway (localhost) redirects to the site (127.0.0.1): another origin.
    const sim = await startJiraSimulator({ scopedTokens: [{ email: 'bot@acme.test', apiToken: 'scoped-123' }] });
    cleanup.push(() => sim.close());
    const gateway = sim.url.replace('127.0.0.1', 'localhost');
    sim.failNext({ endpoint: 'GET myself', kind: 307, headers: { Location: `${sim.url}/rest/api/3/myself` } });
    const jira = createJiraConnector(
      {
        config: jiraConfig({
          baseUrl: sim.url,
          apiUrl: gateway,
          auth: { email: 'bot@acme.test', apiToken: 'scoped-123', scoped: true },
        }),
        log: silentLog,
        resolveRef: noRefs,
      },
      { sleep: async () => {} },
    );
    cleanup.push(() => jira.close());
    // Act
    const message = await failure(jira.whoami());
    // Assert
    expect({ message, requests: sim.requestLog().map((r) => `${r.label} ${r.status} ${r.via}`) }).toEqual({
      message: `GET myself: Jira at ${new URL(gateway).host} redirected to ${new URL(sim.url).origin}, another origin; pmo-sync sends the request and the scoped API token for bot@acme.test to ${new URL(gateway).origin} only (if the gateway moved, set apiUrl to its new URL)`,
      requests: ['GET myself 307 gateway'],
    });
  });

  test('a token server that redirects elsewhere gets the client secret, and the other host nothing', async () => {
    // Arrange
    const foreign = await startForeignHost();
    cleanup.push(() => foreign.close());
    const auth = createServer((_req, res) => res.writeHead(307, { Location: `${foreign.url}/oauth/token` }).end());
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => auth.close(() => r())));
    const authUrl = `http://127.0.0.1:${(auth.address() as AddressInfo).port}`;
    const jira = createJiraConnector(
      {
        config: jiraConfig({
          apiUrl: foreign.url,
          authUrl,
          auth: { oauth: { clientId: 'app', clientSecret: 'client-secret', refreshToken: 'rt', cloudId: 'c1' } },
        }),
        log: silentLog,
        resolveRef: noRefs,
      },
      { sleep: async () => {} },
    );
    cleanup.push(() => jira.close());
    // Act
    const message = await failure(jira.whoami());
    // Assert
    expect({ message, foreign: foreign.received() }).toEqual({
      message: `POST oauth/token: ${new URL(authUrl).host} redirected to ${new URL(foreign.url).host}, another origin; the client secret goes to ${authUrl} only`,
      foreign: [],
    });
  });
});
