// A benchmark world: both tracker simulators seeded at a chosen size, a config pointing at them
// with chosen politeness limits, and the real connectors, pipeline and database. Same wiring as
// test/helpers/portfolio.ts, sized and tuned for measuring. The simulators run in this process
// (LocalWorld: scenarios that reach into their stores) or in a child process (RemoteWorld: the
// trackers are remote in production, so throughput and RSS are measured without them).
import { createConnectors } from '../../connectors/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger, type Logger } from '../../src/core/log.ts';
import type { SyncPipeline } from '../../src/sync/pipeline.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { runSync, type SyncOptions } from '../../src/sync/run.ts';
import type { SyncSummary } from '../../src/sync/summary.ts';
import { type SimProcess, type SimProcessOptions, startSimulatorProcess } from './sim-process.ts';
import {
  ADO_HOOK,
  ADO_PAT,
  ADO_PROJECT,
  JIRA_HOOK_SECRET,
  JIRA_PROJECTS,
  JIRA_TOKEN,
  type Seeded,
  type SimulatorOptions,
  startSimulators,
} from './simulators.ts';

export interface Limits {
  concurrency: number;
  requestsPerSecond: number;
}

export interface WorldOptions extends SimulatorOptions {
  jiraLimits?: Limits;
  adoLimits?: Limits;
  /** Extra top-level YAML for the config. */
  extraYaml?: string;
}

/** The pipeline over seeded trackers, wherever the trackers run. */
export interface World {
  jiraKeys: string[];
  jiraDone: number;
  adoIds: number[];
  config: Config;
  connectors: Map<string, Connector>;
  pipeline: SyncPipeline;
  database: Database;
  log: Logger;
  sync(opts?: SyncOptions): Promise<SyncSummary>;
  /** Closes the connectors and the trackers (not the database). */
  close(): Promise<void>;
}

/** The simulators run in this process: the scenario may change and inspect their stores. */
export interface LocalWorld extends World, Seeded {}

/** The simulators run in a child process, reached over HTTP and asked for figures over IPC. */
export interface RemoteWorld extends World {
  sims: SimProcess;
}

/**
 * What the soak's pipelines (the faulty children and the clean run) add to the world's config.
 * Forecasts are off: they are a function of when each change happened, and the soak applies the
 * same people's changes to the faulty and the clean trackers at different moments, so their
 * histories, and so their forecasts, differ by construction rather than by any fault.
 */
export const SOAK_CONFIG_YAML = 'forecast: { enabled: false }';

export function worldConfig(
  jiraUrl: string,
  adoUrl: string,
  o: Pick<WorldOptions, 'jiraLimits' | 'adoLimits' | 'extraYaml'> & { databaseUrl?: string },
): Config {
  const jl = o.jiraLimits ?? { concurrency: 4, requestsPerSecond: 10 };
  const al = o.adoLimits ?? { concurrency: 4, requestsPerSecond: 10 };
  return parseConfig(
    `
${o.databaseUrl ? `database: { url: "${o.databaseUrl}" }` : ''}
mode: enforce
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jiraUrl}
    auth: { email: pmo-bot@example.com, apiToken: ${JIRA_TOKEN} }
    scope: { projects: [${JIRA_PROJECTS.join(', ')}] }
    webhookSecret: ${JIRA_HOOK_SECRET}
    writeback: { comment: true, labels: true }
    limits: { concurrency: ${jl.concurrency}, requestsPerSecond: ${jl.requestsPerSecond} }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${adoUrl}
    auth: { pat: ${ADO_PAT} }
    scope: { projects: [${ADO_PROJECT}] }
    webhookAuth: { username: ${ADO_HOOK.username}, password: ${ADO_HOOK.password} }
    writeback: { comment: true, tags: true }
    limits: { concurrency: ${al.concurrency}, requestsPerSecond: ${al.requestsPerSecond} }
portfolio:
  programs:
    - id: payments
      name: Payments modernisation
      include: [{ connection: jira-main, project: PAY }, { connection: ado-main, project: ${ADO_PROJECT} }]
    - id: web
      name: Web
      include: [{ connection: jira-main, project: WEB }]
${o.extraYaml ?? ''}
`,
    { env: {} },
  ).config;
}

export function benchLogger(): Logger {
  return createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'silent', pretty: false });
}

async function wirePipeline(
  trackers: { jiraUrl: string; adoUrl: string; jiraKeys: string[]; jiraDone: number; adoIds: number[] },
  database: Database,
  o: WorldOptions,
  closeTrackers: () => Promise<void>,
): Promise<World> {
  const config = worldConfig(trackers.jiraUrl, trackers.adoUrl, o);
  const log = benchLogger();
  const connectors = createConnectors(config.connections, { log });
  const pipeline = await buildSyncPipeline({ config, cwd: process.cwd(), log, database, connectors });
  return {
    jiraKeys: trackers.jiraKeys,
    jiraDone: trackers.jiraDone,
    adoIds: trackers.adoIds,
    config,
    connectors,
    pipeline,
    database,
    log,
    sync: (opts = {}) => runSync({ database, config, connectors, log, pipeline }, opts),
    async close() {
      for (const c of connectors.values()) await c.close();
      await closeTrackers();
    },
  };
}

/** Wires the pipeline over already-started simulators in this process. */
export async function wireWorld(seeded: Seeded, database: Database, o: WorldOptions): Promise<LocalWorld> {
  const world = await wirePipeline(
    { jiraUrl: seeded.jira.url, adoUrl: seeded.ado.url, ...seeded },
    database,
    o,
    async () => {
      await seeded.jira.close();
      await seeded.ado.close();
    },
  );
  return { ...seeded, ...world };
}

export async function startWorld(database: Database, o: WorldOptions): Promise<LocalWorld> {
  return wireWorld(await startSimulators(o), database, o);
}

/** Starts the simulators in a child process and wires the pipeline (in this one) to them. */
export async function startRemoteWorld(
  database: Database,
  o: WorldOptions,
  p: SimProcessOptions = {},
): Promise<RemoteWorld> {
  const { jiraLimits, adoLimits, extraYaml, ...simOptions } = o;
  const sims = await startSimulatorProcess(simOptions, p);
  try {
    return { ...(await wirePipeline(sims, database, o, () => sims.close())), sims };
  } catch (e) {
    await sims.close();
    throw e;
  }
}
