// The connector registry (connectors/index.ts) against the connector folders: a tracker added
// as a folder but not registered, registered but not configurable, or laid out differently from
// the others, fails here rather than in review.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONNECTOR_KINDS, createConnector } from '../../connectors/index.ts';
import { createRefResolver } from '../../connectors/resolve-ref.ts';
import { Connection } from '../../src/config/schema.ts';
import { silentLogger } from '../../src/core/log.ts';

const ROOT = fileURLToPath(new URL('../../connectors/', import.meta.url));
/** Folders under connectors/ that hold code shared by the connectors rather than a connector. */
const SHARED_FOLDERS = ['http'];
/**
 * The files every connector has, each with the same role in each (see the connector READMEs).
 * A connector may have more files of its own (its transport's quirks), never fewer.
 */
const ROLE_FILES = [
  'README.md',
  'index.ts', // the create*Connector factory: wires the others behind the Connector interface
  'client.ts', // the transport: auth headers, retries, pacing, response validation
  'auth.ts', // the credentials: tokens, their renewal
  'identity.ts', // who the credentials are, for echo detection (createIdentity → SelfIdentity)
  'schema.ts', // zod schemas of the tracker's responses
  'map.ts', // tracker item → WorkItem
  'read.ts', // the pull, the key listing and re-reads by key (createReader)
  'write.ts', // comments, labels, fields, and installing webhooks (createWriter)
  'webhook.ts', // verifying and parsing deliveries
  'comment.ts', // the bot comment's markup
  'scope.ts', // whether an item is in the connection's scope
  'history.ts', // item history for the flow metrics
  'doctor.ts', // the connection checks of `pmo-sync doctor`
  'testing.ts', // fixtures shared by the folder's tests; never imported by production code
  'simulator/index.ts', // the HTTP simulator the tests and the demo run against
];

const connectorFolders = readdirSync(ROOT)
  .filter((name) => statSync(join(ROOT, name)).isDirectory() && !SHARED_FOLDERS.includes(name))
  .sort();

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) =>
    statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name), `${prefix}${name}/`) : [`${prefix}${name}`],
  );
}

/** A minimal valid connection of each kind, to create one connector through the registry. */
const SAMPLE_CONNECTIONS: Record<(typeof CONNECTOR_KINDS)[number], unknown> = {
  jira: {
    id: 'j',
    kind: 'jira',
    baseUrl: 'https://acme.atlassian.net',
    auth: { email: 'bot@acme.test', apiToken: 'token' },
    scope: { projects: ['PAY'] },
  },
  'azure-devops': {
    id: 'a',
    kind: 'azure-devops',
    orgUrl: 'https://dev.azure.com/acme',
    auth: { pat: 'pat' },
    scope: { projects: ['Fabrikam'] },
  },
};

describe('connector registry', () => {
  it('lists exactly the connector folders', () => {
    expect([...CONNECTOR_KINDS].sort()).toEqual(connectorFolders);
  });

  it('registers the connection kinds the config accepts, no more and no fewer', () => {
    const configKinds = Connection.options.map((o) => o.shape.kind.value).sort();
    expect(configKinds).toEqual([...CONNECTOR_KINDS].sort());
  });

  it.each(CONNECTOR_KINDS)('%s: index.ts exports one create*Connector, the one createConnector uses', async (kind) => {
    const mod = (await import(`../../connectors/${kind}/index.ts`)) as Record<string, unknown>;
    const factories = Object.keys(mod).filter((k) => /^create\w+Connector$/.test(k));
    expect(factories).toHaveLength(1);
    const conn = Connection.parse(SAMPLE_CONNECTIONS[kind]);
    const viaRegistry = createConnector(conn, { log: silentLogger(), resolveRef: createRefResolver([conn]) });
    const direct = (mod[factories[0]!] as (deps: unknown) => { tracker: string; close(): Promise<void> | void })({
      config: conn,
      log: silentLogger(),
      resolveRef: createRefResolver([conn]),
    });
    try {
      expect(viaRegistry.id).toBe(conn.id);
      expect(viaRegistry.tracker).toBe(kind);
      expect(direct.tracker).toBe(kind);
      expect(Object.keys(viaRegistry).sort()).toEqual(Object.keys(direct).sort());
    } finally {
      await viaRegistry.close();
      await direct.close();
    }
  });

  it.each(connectorFolders)('%s: has every role file', (folder) => {
    const files = new Set(filesUnder(join(ROOT, folder)));
    expect(ROLE_FILES.filter((f) => !files.has(f))).toEqual([]);
  });
});
