// Registry of tracker adapters: config `kind` → factory. A test checks it matches the folders.
import type { Logger } from 'pino';
import { createAdoConnector } from './azure-devops/index.ts';
import type { Connection } from './config.ts';
import type { JiraTokenStore } from './jira/auth.ts';
import { createJiraConnector } from './jira/index.ts';
import { createRefResolver } from './resolve-ref.ts';
import type { Connector, RefResolver } from './types.ts';

export const CONNECTOR_KINDS = ['jira', 'azure-devops'] as const;

export interface CreateConnectorOptions {
  log: Logger;
  resolveRef: RefResolver;
  /** Per-connection base URL overrides (the demo and tests point connections at simulators). */
  baseUrls?: Record<string, string>;
  /** How Azure DevOps requests travel: the SDK (default) or fetch (Cloudflare Workers). */
  adoTransport?: 'sdk' | 'fetch';
  /** The wait between retries; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Where Jira OAuth connections keep their rotated refresh token (the app: the kv table). */
  tokenStore?: JiraTokenStore;
}

export function createConnector(conn: Connection, opts: CreateConnectorOptions): Connector {
  const log = opts.log.child({ connection: conn.id });
  const baseUrl = opts.baseUrls?.[conn.id];
  switch (conn.kind) {
    case 'jira':
      return createJiraConnector(
        { config: conn, log, resolveRef: opts.resolveRef, baseUrl, tokenStore: opts.tokenStore },
        opts.sleep ? { sleep: opts.sleep } : {},
      );
    case 'azure-devops':
      return createAdoConnector(
        { config: conn, log, resolveRef: opts.resolveRef, baseUrl },
        { client: { transport: opts.adoTransport, ...(opts.sleep ? { sleep: opts.sleep } : {}) } },
      );
  }
}

/** One connector per configured connection, sharing one ref resolver. */
export function createConnectors(connections: readonly Connection[], opts: Omit<CreateConnectorOptions, 'resolveRef'>) {
  const resolveRef = createRefResolver(connections);
  return new Map<string, Connector>(connections.map((c) => [c.id, createConnector(c, { ...opts, resolveRef })]));
}
