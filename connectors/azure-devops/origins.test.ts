// The PAT goes only to the configured organization. The policy by itself (Microsoft's hosts of
// the same organization, nothing else), then the connector over real sockets on both transports:
// the simulator names a second local listener — standing in for a foreign host — as the resource
// area's location, or redirects discovery, a GET or a POST there with 301/302/307/308; the
// listener records whether anything, an Authorization header above all, ever reached it.
import { afterEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { type ForeignHost, startForeignHost } from '../http/foreign-host.ts';
import { createAdoConnector } from './index.ts';
import { resourceAreasBody } from './locations.ts';
import { createOrgPolicy, organizationOf } from './origins.ts';
import { type AdoSimulator, startAdoSimulator } from './simulator/index.ts';
import { adoConfig } from './testing.ts';

describe('which hosts may receive the PAT', () => {
  test.each([
    'https://dev.azure.com/acme/_apis/wit',
    'https://dev.azure.com/ACME/Payments/_apis/wit/workitems/1',
    'https://vssps.dev.azure.com/acme/_apis/connectionData',
    'https://vsrm.dev.azure.com/acme/',
    'https://feeds.dev.azure.com/acme/_apis/packaging',
    'https://acme.visualstudio.com/_apis/wit',
    'https://acme.vssps.visualstudio.com/',
    'https://acme.vsrm.visualstudio.com/',
    'https://acme.pkgs.visualstudio.com/',
    'https://dev.azure.com:443/acme/',
  ])('dev.azure.com/acme may send it to %s', (url) => {
    expect(createOrgPolicy('https://dev.azure.com/acme').refuse(new URL(url))).toBe(null);
  });

  test.each([
    ['another organization on the same host', 'https://dev.azure.com/other/_apis/wit'],
    ['a prefix of the name', 'https://dev.azure.com/acme2/_apis/wit'],
    ['another organization’s legacy host', 'https://other.visualstudio.com/'],
    ['the shared sign-in host', 'https://app.vssps.visualstudio.com/'],
    ['plain http', 'http://dev.azure.com/acme/'],
    ['another port', 'https://dev.azure.com:8443/acme/'],
    ['a look-alike suffix', 'https://dev.azure.com.evil.example/acme/'],
    ['a look-alike legacy host', 'https://acme.visualstudio.com.evil.example/'],
    ['two service labels', 'https://x.y.dev.azure.com/acme/'],
    ['anywhere else', 'https://evil.example/acme/'],
  ])('dev.azure.com/acme refuses %s', (_why, url) => {
    expect(createOrgPolicy('https://dev.azure.com/acme').refuse(new URL(url))).toBe(
      'outside organization "acme" on Azure DevOps Services (dev.azure.com/acme, acme.visualstudio.com and their service hosts)',
    );
  });

  test('the legacy URL form names the same organization', () => {
    const policy = createOrgPolicy('https://acme.visualstudio.com');
    expect({
      org: policy.org,
      newForm: policy.refuse(new URL('https://dev.azure.com/acme/_apis')),
      other: policy.refuse(new URL('https://dev.azure.com/other/_apis')) !== null,
    }).toEqual({ org: 'acme', newForm: null, other: true });
  });

  test('a server of its own (Azure DevOps Server) allows its own origin only', () => {
    const policy = createOrgPolicy('https://tfs.corp.example/DefaultCollection');
    expect({
      org: organizationOf(new URL('https://tfs.corp.example/DefaultCollection')),
      same: policy.refuse(new URL('https://tfs.corp.example/tfs/other')),
      http: policy.refuse(new URL('http://tfs.corp.example/DefaultCollection')),
      azure: policy.refuse(new URL('https://dev.azure.com/DefaultCollection')),
    }).toEqual({
      org: null,
      same: null,
      http: "outside the configured orgUrl's origin https://tfs.corp.example",
      azure: "outside the configured orgUrl's origin https://tfs.corp.example",
    });
  });
});

describe.each(['sdk', 'fetch'] as const)('the connector over real sockets (%s transport)', (transport) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup(): Promise<{ sim: AdoSimulator; foreign: ForeignHost; key: string }> {
    const sim = await startAdoSimulator();
    cleanup.push(() => sim.close());
    const foreign = await startForeignHost();
    cleanup.push(() => foreign.close());
    const [key] = sim.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, seed: 2 }).keys;
    return { sim, foreign, key: key! };
  }

  function connect(sim: AdoSimulator) {
    const c = createAdoConnector(
      { config: adoConfig(), log: silentLogger(), resolveRef: () => null, baseUrl: sim.url },
      { client: { transport, retry: { maxRetries: 2 }, sleep: async () => {} } },
    );
    cleanup.push(() => c.close());
    return c;
  }

  const refusal = (sim: AdoSimulator, foreign: ForeignHost, what: string) =>
    `Azure DevOps (ado): ${what}: refused to send the credential to ${foreign.url}, outside the configured orgUrl's origin ${new URL(sim.url).origin} (a resource location or redirect of the service named it)`;

  async function failure(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (e) {
      return (e as Error).message;
    }
    return 'no failure';
  }

  test.each([301, 302, 307, 308])('a %i redirect of a GET to a foreign host is refused by name', async (status) => {
    // Arrange
    const { sim, foreign } = await setup();
    sim.injectFault({
      endpoint: 'GET connectiondata',
      status,
      headers: { Location: `${foreign.url}/acme/_apis/connectionData` },
    });
    // Act
    const message = await failure(connect(sim).whoami());
    // Assert
    expect({ message, foreign: foreign.received() }).toEqual({
      message: refusal(sim, foreign, 'read the PAT identity'),
      foreign: [],
    });
  });

  test.each([301, 302, 307, 308])('a %i redirect of a POST to a foreign host is refused by name', async (status) => {
    // Arrange
    const { sim, foreign, key } = await setup();
    sim.injectFault({
      endpoint: 'POST wit/workitemsbatch',
      status,
      headers: { Location: `${foreign.url}/acme/_apis/wit/workitemsbatch` },
    });
    // Act
    const message = await failure(connect(sim).fetchItems([key]));
    // Assert
    expect({ message, foreign: foreign.received() }).toEqual({
      message: refusal(sim, foreign, 'read 1 work items'),
      foreign: [],
    });
  });

  test('a redirect of location discovery to a foreign host is refused by name', async () => {
    // Arrange
    const { sim, foreign, key } = await setup();
    sim.injectFault({ endpoint: 'OPTIONS wit', status: 307, headers: { Location: `${foreign.url}/acme/_apis/wit` } });
    // Act
    const message = await failure(connect(sim).fetchItems([key]));
    // Assert
    expect({ message, foreign: foreign.received() }).toEqual({
      message: refusal(sim, foreign, 'read 1 work items'),
      foreign: [],
    });
  });

  test('a redirect within the organization is followed, and the call succeeds', async () => {
    // Arrange: the same batch, one hop away on the same origin.
    const { sim, foreign, key } = await setup();
    sim.injectFault({
      endpoint: 'POST wit/workitemsbatch',
      status: 307,
      headers: { Location: `${sim.url}/_apis/wit/workitemsbatch?api-version=7.1` },
    });
    // Act
    const items = await connect(sim).fetchItems([key]);
    // Assert
    expect({
      keys: items.map((i) => i.key),
      batches: sim
        .requestLog()
        .filter((r) => r.label === 'POST wit/workitemsbatch')
        .map((r) => r.authorized),
      foreign: foreign.received(),
    }).toEqual({ keys: [key], batches: [true, true], foreign: [] });
  });
});

describe('resource areas that place work item tracking on a foreign host (sdk transport)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  test('the location is refused by name before anything is sent there', async () => {
    // Arrange: GET _apis/resourceAreas answers with the foreign listener as every area's locationUrl.
    const sim = await startAdoSimulator();
    cleanup.push(() => sim.close());
    const foreign = await startForeignHost();
    cleanup.push(() => foreign.close());
    const [key] = sim.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, seed: 2 }).keys;
    sim.injectFault({
      endpoint: 'GET resourceareas',
      status: 200,
      times: 10,
      body: resourceAreasBody(`${foreign.url}/acme`),
    });
    const c = createAdoConnector(
      { config: adoConfig(), log: silentLogger(), resolveRef: () => null, baseUrl: sim.url },
      { client: { transport: 'sdk', retry: { maxRetries: 2 }, sleep: async () => {} } },
    );
    cleanup.push(() => c.close());
    // Act
    const message = await c.fetchItems([key!]).then(
      () => 'no failure',
      (e: unknown) => (e as Error).message,
    );
    // Assert
    expect({ message, foreign: foreign.received() }).toEqual({
      message: `Azure DevOps (ado): read 1 work items: refused to send the credential to ${foreign.url}, outside the configured orgUrl's origin ${new URL(sim.url).origin} (a resource location or redirect of the service named it)`,
      foreign: [],
    });
  });
});
