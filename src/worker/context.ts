// Everything one Worker invocation needs, built from the bindings. Workers tie a socket to the
// request that opened it, so the database client and the connectors are made per invocation
// and closed at its end; the parsed config and compiled rules are pure values and are reused
// while the isolate lives (keyed on the text they came from, so a new deploy recompiles).

import { createConnectors } from '../../connectors/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { openPostgres } from '../../db/postgres.ts';
import type { RuleSet } from '../../rules/load.ts';
import { createKvTokenStore } from '../auth/jira-tokens.ts';
import { parseConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { SyncPipeline } from '../sync/pipeline.ts';
import { applyStoredSecrets } from '../webhooks/secrets.ts';
import type { Env } from './env.ts';
import { withLeaseLocks } from './lease.ts';
import { createWorkerLogger } from './log.ts';
import { buildWorkerPipeline } from './pipeline.ts';
import { loadWorkerRuleSet } from './rules.ts';

/** No Worker invocation outlives 15 minutes (cron and queue wall-clock limit): a lock lease of that length cannot expire under a live holder. */
export const LOCK_LEASE_MS = 15 * 60_000;
export const DEFAULT_LEASE_MS = 120_000;

export interface Settings {
  config: Config;
  secrets: string[];
  ruleSet: RuleSet;
  log: Logger;
  leaseMs: number;
}

export interface Invocation extends Settings {
  database: Database;
  connectors: Map<string, Connector>;
  pipeline: SyncPipeline;
  close(): Promise<void>;
}

/** Memoises settings per config text, per isolate. */
export function createSettingsCache() {
  let cached: { key: string; settings: Settings } | null = null;
  return (env: Env): Settings => {
    const key = `${env.PMO_SYNC_CONFIG_YAML}\u0000${env.PMO_SYNC_RULES_YAML ?? ''}\u0000${env.LOG_LEVEL ?? ''}`;
    if (cached?.key === key) return cached.settings;
    const settings = loadSettings(env);
    cached = { key, settings };
    return settings;
  };
}

export function loadSettings(env: Env): Settings {
  if (typeof env.PMO_SYNC_CONFIG_YAML !== 'string' || env.PMO_SYNC_CONFIG_YAML.trim() === '') {
    throw new Error('PMO_SYNC_CONFIG_YAML is not set: put pmo-sync.yaml in a var or secret (docs/deployment.md)');
  }
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') vars[k] = v;
  const { config, secrets } = parseConfig(env.PMO_SYNC_CONFIG_YAML, { env: vars, fileName: 'PMO_SYNC_CONFIG_YAML' });
  const log = createWorkerLogger({ level: env.LOG_LEVEL ?? config.log?.level, secrets });
  const ruleSet = loadWorkerRuleSet({ config: config.rules, ownRules: env.PMO_SYNC_RULES_YAML, log });
  const leaseMs = Number(env.PMO_SYNC_LEASE_MS ?? DEFAULT_LEASE_MS);
  return {
    config,
    secrets,
    ruleSet,
    log,
    leaseMs: Number.isFinite(leaseMs) && leaseMs > 0 ? leaseMs : DEFAULT_LEASE_MS,
  };
}

export async function openInvocation(env: Env, settings: Settings): Promise<Invocation> {
  const { log } = settings;
  // Hyperdrive pools for us: one connection per invocation is plenty, and postgres.js must not
  // cache prepared statements across Hyperdrive's pooled origin connections.
  const raw = await openPostgres(env.HYPERDRIVE.connectionString, { maxConnections: 5 });
  const database = withLeaseLocks(raw, { leaseMs: LOCK_LEASE_MS, holder: crypto.randomUUID() });
  // Jira secrets that `webhooks install` generated live in the database (as for `serve`); they
  // fill a copy, so the cached config never carries one invocation's reads into the next.
  const config = needsStoredSecrets(settings.config) ? structuredClone(settings.config) : settings.config;
  if (config !== settings.config) await applyStoredSecrets(database.db, config);
  // fetch, not the SDK's node:http emulation, carries Azure DevOps requests on Workers.
  const connectors = createConnectors(config.connections, {
    log,
    adoTransport: 'fetch',
    tokenStore: createKvTokenStore(database.db),
  });
  const pipeline = buildWorkerPipeline({ config, ruleSet: settings.ruleSet, env });
  return {
    ...settings,
    config,
    database,
    connectors,
    pipeline,
    async close() {
      for (const c of connectors.values()) await c.close().catch(() => {});
      await database.close().catch(() => {});
    },
  };
}

const needsStoredSecrets = (config: Config) => config.connections.some((c) => c.kind === 'jira' && !c.webhookSecret);
