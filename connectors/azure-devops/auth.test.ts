// Microsoft Entra ID against the simulator's token service, through the real @azure/identity
// credentials: a service principal (secret or certificate) and a managed identity obtain a token,
// it is reused until it is due and renewed before it expires, and a PAT keeps working beside them.
import { Agent } from 'node:https';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { AuthError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { startForeignHost } from '../http/foreign-host.ts';
import type { Connector } from '../types.ts';
import { AdoAuth } from './config.ts';
import { createAdoConnector } from './index.ts';
import { ADO_RESOURCE, makeClientCertificate } from './simulator/entra.ts';
import { type AdoSimulator, startAdoSimulator } from './simulator/index.ts';
import { adoConfig } from './testing.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  vi.unstubAllEnvs();
});

const CLIENT = '9f1c7a52-0000-4000-8000-00000000c11e';
const SECRET = 'sp-client-secret~0123456789';
const PAT = 'org-scoped-pat-0001';

/** One clock for the simulator and the connector: it moves only when the test says. */
function clock() {
  let t = Date.parse('2026-12-06T08:00:00Z');
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

async function setup(entra: Parameters<typeof startAdoSimulator>[0] = {}) {
  const c = clock();
  const sim = await startAdoSimulator({ now: c.now, pats: [PAT], ...entra });
  cleanup.push(() => sim.close());
  sim.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, seed: 7 });
  const agent = sim.entra ? new Agent({ ca: sim.entra.ca }) : undefined;
  cleanup.push(() => agent?.destroy());
  const connect = (auth: Record<string, unknown>): Connector => {
    const connector = createAdoConnector(
      {
        config: adoConfig({ auth, scope: { projects: ['Payments'] } }),
        log: silentLogger(),
        resolveRef: () => null,
        baseUrl: sim.url,
      },
      { client: { now: c.now, retry: { baseDelayMs: 1 } }, entraAgent: agent },
    );
    cleanup.push(() => connector.close());
    return connector;
  };
  return { sim, clock: c, connect };
}

const keysOf = async (c: Connector) => (await c.listKeys()).sort();
const schemes = (sim: AdoSimulator) => [...new Set(sim.requestLog().map((r) => r.scheme))];

describe('a PAT and a service principal', () => {
  test('both read the same organization: Basic for the PAT, an Entra bearer token for the principal', async () => {
    // Arrange
    const { sim, connect } = await setup({ entra: { clients: [{ clientId: CLIENT, secret: SECRET }] } });
    const entra = sim.entra!;
    const byPat = connect({ pat: PAT });
    const byPrincipal = connect({
      tenantId: entra.tenantId,
      clientId: CLIENT,
      clientSecret: SECRET,
      authorityHost: entra.authorityHost,
    });

    // Act
    const patKeys = await keysOf(byPat);
    const patSchemes = schemes(sim);
    sim.resetCounts();
    const principalKeys = await keysOf(byPrincipal);
    const principalItems = await byPrincipal.fetchItems(principalKeys.slice(0, 3));

    // Assert
    expect({
      same: principalKeys,
      items: principalItems.map((i) => i.key).sort(),
      patSchemes,
      principalSchemes: schemes(sim),
      refused: sim.requestLog().filter((r) => r.status === 401).length,
      tokenRequests: entra.tokenRequests(),
    }).toEqual({
      same: patKeys,
      items: principalKeys.slice(0, 3).sort(),
      patSchemes: ['basic'],
      principalSchemes: ['bearer'],
      refused: 0,
      tokenRequests: [{ grant: 'client_credentials', clientId: CLIENT, proof: 'secret', status: 200 }],
    });
  });

  test('a principal with a certificate proves itself with a signed assertion', async () => {
    // Arrange
    const cert = await makeClientCertificate();
    const { sim, connect } = await setup({ entra: { clients: [{ clientId: CLIENT, certificate: cert.certificate }] } });
    const byCertificate = connect({
      tenantId: sim.entra!.tenantId,
      clientId: CLIENT,
      certificate: cert.pem,
      authorityHost: sim.entra!.authorityHost,
    });

    // Act
    const keys = await keysOf(byCertificate);

    // Assert
    expect({ keys: keys.length > 0, tokenRequests: sim.entra!.tokenRequests(), schemes: schemes(sim) }).toEqual({
      keys: true,
      tokenRequests: [{ grant: 'client_credentials', clientId: CLIENT, proof: 'certificate', status: 200 }],
      schemes: ['bearer'],
    });
  });
});

describe('the Entra token', () => {
  test('is obtained once, reused until it is due, and renewed before it expires', async () => {
    // Arrange: a 4-minute token (under the library's own 5-minute cache margin, so each renewal
    // is a request the simulator sees); due at half its life.
    const {
      sim,
      clock: c,
      connect,
    } = await setup({
      entra: { clients: [{ clientId: CLIENT, secret: SECRET }], tokenLifetimeSeconds: 240 },
    });
    const connector = connect({
      tenantId: sim.entra!.tenantId,
      clientId: CLIENT,
      clientSecret: SECRET,
      authorityHost: sim.entra!.authorityHost,
    });
    const keys = await keysOf(connector);
    const count = () => sim.entra!.tokenRequests().length;
    const afterFirst = count();

    // Act: more calls within the token's first half; then past it, then past the old token's expiry.
    await connector.fetchItems(keys.slice(0, 2));
    c.advance(60_000);
    await connector.fetchItems(keys.slice(0, 2));
    const beforeDue = count();
    c.advance(61_000); // 121 s: due
    await connector.fetchItems(keys.slice(0, 2));
    await connector.fetchItems(keys.slice(0, 2));
    const afterDue = count();
    sim.resetCounts();
    c.advance(130_000); // 251 s: the first token has expired on the simulator's clock
    await connector.fetchItems(keys.slice(0, 2));

    // Assert: never refused, so no request ever carried an expired token.
    expect({
      afterFirst,
      beforeDue,
      afterDue,
      refusedLater: sim.requestLog().filter((r) => r.status === 401).length,
    }).toEqual({ afterFirst: 1, beforeDue: 1, afterDue: 2, refusedLater: 0 });
  });

  test('a managed identity gets its token from the identity endpoint the environment names', async () => {
    // Arrange
    const { sim, connect } = await setup({ entra: { managedIdentities: ['mi-client-1'] } });
    vi.stubEnv('IDENTITY_ENDPOINT', sim.entra!.identityEndpoint);
    vi.stubEnv('IDENTITY_HEADER', sim.entra!.identityHeader);
    const connector = connect({ managedIdentity: true, clientId: 'mi-client-1' });

    // Act
    const keys = await keysOf(connector);

    // Assert
    expect({ keys: keys.length > 0, tokenRequests: sim.entra!.tokenRequests(), schemes: schemes(sim) }).toEqual({
      keys: true,
      tokenRequests: [{ grant: 'managed_identity', clientId: 'mi-client-1', proof: 'identity', status: 200 }],
      schemes: ['bearer'],
    });
  });

  test('a wrong client secret fails with one line naming the settings, without the secret', async () => {
    // Arrange
    const { sim, connect } = await setup({ entra: { clients: [{ clientId: CLIENT, secret: SECRET }] } });
    const connector = connect({
      tenantId: sim.entra!.tenantId,
      clientId: CLIENT,
      clientSecret: 'not-the-secret-42',
      authorityHost: sim.entra!.authorityHost,
    });

    // Act
    const err = await connector.listKeys().catch((e: unknown) => e as Error);

    // Assert
    expect(err).toBeInstanceOf(AuthError);
    const message = (err as Error).message;
    expect({
      start: message.startsWith('Azure DevOps (ado): could not obtain the service principal'),
      says: message.includes('AADSTS7000215'),
      names: message.endsWith('check auth.tenantId, auth.clientId and its secret or certificate'),
      oneLine: !message.includes('\n'),
      leaks: message.includes('not-the-secret-42'),
      sentToOrg: sim.totalRequests(),
    }).toEqual({ start: true, says: true, names: true, oneLine: true, leaks: false, sentToOrg: 0 });
  });
});

describe.each(['sdk', 'fetch'] as const)('where the Entra token may go (%s transport)', (transport) => {
  test('a redirect to another host is refused: the token never leaves the organization', async () => {
    // Arrange: the principal has read once (a token in hand); then the service redirects a batch away.
    const { sim } = await setup({ entra: { clients: [{ clientId: CLIENT, secret: SECRET }] } });
    const agent = new Agent({ ca: sim.entra!.ca });
    cleanup.push(() => agent.destroy());
    const foreign = await startForeignHost();
    cleanup.push(() => foreign.close());
    const connector = createAdoConnector(
      {
        config: adoConfig({
          auth: {
            tenantId: sim.entra!.tenantId,
            clientId: CLIENT,
            clientSecret: SECRET,
            authorityHost: sim.entra!.authorityHost,
          },
          scope: { projects: ['Payments'] },
        }),
        log: silentLogger(),
        resolveRef: () => null,
        baseUrl: sim.url,
      },
      {
        client: { transport, retry: { maxRetries: 1 }, sleep: async () => {} },
        entraAgent: agent,
      },
    );
    cleanup.push(() => connector.close());
    const [key] = await keysOf(connector);
    sim.injectFault({
      endpoint: 'POST wit/workitemsbatch',
      status: 307,
      headers: { Location: `${foreign.url}/acme/_apis/wit/workitemsbatch` },
    });

    // Act
    const err = await connector.fetchItems([key!]).catch((e: unknown) => e as Error);

    // Assert
    expect({ message: (err as Error).message, foreign: foreign.received() }).toEqual({
      message: `Azure DevOps (ado): read 1 work items: refused to send the credential to ${foreign.url}, outside the configured orgUrl's origin ${new URL(sim.url).origin} (a resource location or redirect of the service named it)`,
      foreign: [],
    });
  });
});

test('the scope asked for is Azure DevOps: the resource id Microsoft documents', () => {
  expect(`${ADO_RESOURCE}/.default`).toBe('499b84ac-1321-427f-aa17-267ca6975798/.default');
});

describe('the auth settings', () => {
  const parse = (auth: Record<string, unknown>) => AdoAuth.safeParse(auth).success;

  test('take each documented form and refuse a token endpoint over plain http', () => {
    expect({
      pat: parse({ pat: 'x' }),
      secret: parse({
        tenantId: 't',
        clientId: 'c',
        clientSecret: 's',
        authorityHost: 'https://login.microsoftonline.us',
      }),
      certificateFile: parse({ tenantId: 't', clientId: 'c', certificatePath: '/etc/pmo-sync/sp.pem' }),
      certificateText: parse({ tenantId: 't', clientId: 'c', certificate: '-----BEGIN…', certificatePassword: 'p' }),
      managedIdentity: parse({ managedIdentity: 'true' }),
      userAssigned: parse({ managedIdentity: true, clientId: 'c' }),
      httpAuthority: parse({ tenantId: 't', clientId: 'c', clientSecret: 's', authorityHost: 'http://login.example' }),
      secretAndPat: parse({ pat: 'x', clientSecret: 's' }),
      noProof: parse({ tenantId: 't', clientId: 'c' }),
    }).toEqual({
      pat: true,
      secret: true,
      certificateFile: true,
      certificateText: true,
      managedIdentity: true,
      userAssigned: true,
      httpAuthority: false,
      secretAndPat: false,
      noProof: false,
    });
  });
});
