// Connection errors say what happened, in one line naming the host and the cause, for the Jira
// connector and both Azure DevOps transports, over real sockets: a closed port, a name that
// cannot resolve (.invalid), plain HTTP spoken to over https (TLS), a listener that never
// answers (an injected short timeout), and the simulators' 401, 403 and "not a tracker" 404.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { createAdoConnector } from '../azure-devops/index.ts';
import { startAdoSimulator } from '../azure-devops/simulator/index.ts';
import { adoConfig } from '../azure-devops/testing.ts';
import { createJiraConnector } from '../jira/index.ts';
import { startJiraSimulator } from '../jira/simulator/index.ts';
import { jiraConfig, noRefs, silentLog, TEST_TOKEN } from '../jira/testing.ts';
import type { Connector } from '../types.ts';

const PAT = 'pat-SECRET-123456';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Retries back off on a virtual clock: nothing here waits for a backoff. */
const noWait = { sleep: async () => {}, now: () => Date.parse('2026-03-02T10:00:00Z') };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

type Kind = 'jira' | 'ado-sdk' | 'ado-fetch';

function connectorAt(kind: Kind, url: string, timeoutMs = 30_000): Connector {
  const c =
    kind === 'jira'
      ? createJiraConnector(
          { config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: url },
          { ...noWait, maxAttempts: 2, timeoutMs },
        )
      : createAdoConnector(
          { config: adoConfig(), log: silentLogger(), resolveRef: () => null, baseUrl: url },
          {
            client: {
              ...noWait,
              retry: { maxRetries: 1 },
              timeoutMs,
              transport: kind === 'ado-sdk' ? 'sdk' : 'fetch',
            },
          },
        );
  cleanup.push(() => c.close());
  return c;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

/** The first line a person reads: what failed and why, for each connector. */
const prefix = (kind: Kind) =>
  kind === 'jira' ? 'GET myself: ' : 'Azure DevOps (ado): read the PAT identity failed: ';
const setting = (kind: Kind) => (kind === 'jira' ? 'baseUrl' : 'orgUrl');
const path = (kind: Kind) => (kind === 'jira' ? '' : '/acme');

function leaks(e: Error): boolean {
  const text = `${e.message} ${JSON.stringify(e)} ${String(e.cause)}`;
  return text.includes(TEST_TOKEN) || text.includes(PAT);
}

describe.each(['jira', 'ado-sdk', 'ado-fetch'] as const)('%s: below HTTP', (kind) => {
  test('a closed port: refused, naming host and port', async () => {
    // Arrange
    const host = await closedPort();
    // Act
    const e = await failure(connectorAt(kind, `http://${host}${path(kind)}`).whoami());
    // Assert
    expect({ message: e.message, leaks: leaks(e) }).toEqual({
      message: `${prefix(kind)}${host} refused the connection (ECONNREFUSED); check the host and port in ${setting(kind)} and that the service is up`,
      leaks: false,
    });
  });

  test('a name that does not resolve: the DNS lookup failed', async () => {
    // Act
    const e = await failure(connectorAt(kind, `http://pmo-sync-test.invalid${path(kind)}`).whoami());
    // Assert
    expect(e.message).toBe(
      `${prefix(kind)}pmo-sync-test.invalid does not resolve (DNS lookup failed, ENOTFOUND); check the host name in ${setting(kind)}`,
    );
  });

  test('plain HTTP spoken to over https: a TLS handshake error, said once, not retried', async () => {
    // Arrange: an http listener that answers anything.
    let connections = 0;
    const server = createServer((_req, res) => res.end('plain'));
    server.on('connection', () => connections++);
    const host = await listen(server);
    // Act
    const e = await failure(connectorAt(kind, `https://${host}${path(kind)}`).whoami());
    // Assert
    const code = kind === 'ado-sdk' ? 'EPROTO' : 'ERR_SSL_WRONG_VERSION_NUMBER';
    expect({ message: e.message, connections }).toEqual({
      message: `${prefix(kind)}TLS handshake with ${host} failed (${code}); is ${setting(kind)} an https URL of a TLS server (not plain http)?`,
      connections: 1,
    });
  });

  test('a listener that never answers: a timeout naming the host and the limit', async () => {
    // Arrange: accepts connections and reads requests, never answers.
    const server = createServer(() => {});
    const host = await listen(server);
    // Act
    const e = await failure(connectorAt(kind, `http://${host}${path(kind)}`, 200).whoami());
    // Assert
    expect(e.message).toBe(
      `${prefix(kind)}${host} did not answer within 200 ms (timeout); check that ${setting(kind)} is the tracker and that it is up`,
    );
  });
});

describe('HTTP answers that mean the connection is wrong', () => {
  test('Jira 401 names the host and the credential, never the token', async () => {
    // Arrange
    const sim = await startJiraSimulator({ auth: { email: 'bot@acme.test', apiToken: 'the-right-token' } });
    cleanup.push(() => sim.close());
    // Act
    const e = await failure(connectorAt('jira', sim.url).whoami());
    // Assert
    expect({ message: e.message, leaks: leaks(e) }).toEqual({
      message: `Jira at ${new URL(sim.url).host} rejected the API token for bot@acme.test (401 on GET myself); check that it is valid and not expired (set auth.apiToken of connection "jira-main")`,
      leaks: false,
    });
  });

  test('Jira 403 names the credential and the permission the call needs', async () => {
    // Arrange
    const sim = await startJiraSimulator();
    cleanup.push(() => sim.close());
    sim.failNext({ endpoint: 'POST search/jql', kind: 403, body: { errorMessages: ['No permission.'], errors: {} } });
    // Act
    const e = await failure(connectorAt('jira', sim.url).listKeys());
    // Assert
    expect(e.message).toBe(
      `Jira at ${new URL(sim.url).host} refused POST search/jql for the API token for bot@acme.test (403): the account lacks the "Browse projects" permission: No permission.`,
    );
  });

  test('a baseUrl that is not Jira: 404 on a basic endpoint asks whether it is a Jira Cloud site', async () => {
    // Arrange: another server altogether (the Azure DevOps simulator) where Jira should be.
    const other = await startAdoSimulator();
    cleanup.push(() => other.close());
    const host = new URL(other.url).host;
    // Act
    const e = await failure(connectorAt('jira', `http://${host}`).whoami());
    // Assert
    expect(e.message).toBe(`Jira at ${host} answered 404 for GET myself: is \`baseUrl\` a Jira Cloud site?`);
  });

  test.each(['ado-sdk', 'ado-fetch'] as const)(
    '%s: 401 names the host and the PAT, never the PAT itself',
    async (kind) => {
      // Arrange
      const sim = await startAdoSimulator({ pats: ['the-right-pat'] });
      cleanup.push(() => sim.close());
      // Act
      const e = await failure(connectorAt(kind, sim.url).whoami());
      // Assert
      expect({ message: e.message, leaks: leaks(e) }).toEqual({
        message: `Azure DevOps (ado): ${new URL(sim.url).host} rejected the PAT (401 on read the PAT identity); check that it is valid, not expired and issued for this organization (global PATs no longer work)`,
        leaks: false,
      });
    },
  );

  test.each(['ado-sdk', 'ado-fetch'] as const)('%s: 403 names the PAT scope the call needs', async (kind) => {
    // Arrange
    const sim = await startAdoSimulator();
    cleanup.push(() => sim.close());
    const [id] = sim.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, seed: 1 }).keys;
    sim.injectFault({
      endpoint: 'POST wit/workitemsbatch',
      status: 403,
      body: { message: 'TF401027: access denied.' },
    });
    // Act
    const e = await failure(connectorAt(kind, sim.url).fetchItems([id!]));
    // Assert
    expect(e.message).toBe(
      `Azure DevOps (ado): ${new URL(sim.url).host} refused read 1 work items (403): the PAT lacks the "Work Items (Read)" scope or the account lacks the permission: TF401027: access denied.`,
    );
  });

  test.each(['ado-sdk', 'ado-fetch'] as const)(
    '%s: an orgUrl that is no organization asks whether it is one',
    async (kind) => {
      // Arrange: the right server, an organization it does not have.
      const sim = await startAdoSimulator();
      cleanup.push(() => sim.close());
      const host = new URL(sim.url).host;
      // Act
      const e = await failure(connectorAt(kind, `http://${host}/no-such-org`).whoami());
      // Assert
      expect(e.message).toBe(
        kind === 'ado-sdk'
          ? `Azure DevOps (ado): read the PAT identity failed: ${host} lists no "Location" API in location discovery: is \`orgUrl\` an Azure DevOps organization?`
          : `Azure DevOps (ado): read the PAT identity failed: ${host} answered 404 to location discovery: is \`orgUrl\` an Azure DevOps organization?`,
      );
    },
  );
});
