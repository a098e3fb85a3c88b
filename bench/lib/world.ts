// A benchmark world: both tracker simulators seeded at a chosen size, a config pointing at them
// with chosen politeness limits, and the real connectors, stages and database. Same wiring as
// test/helpers/portfolio.ts, sized and tuned for measuring.
import {
  type AdoSimulator,
  startAdoSimulator,
  type ThrottleBudget,
} from '../../connectors/azure-devops/simulator/index.ts';
import { createConnectors } from '../../connectors/index.ts';
import { type JiraSimFaults, type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { runSync, type SyncOptions, type SyncStages } from '../../src/sync/run.ts';
import { buildSyncStages } from '../../src/sync/stages.ts';
import type { SyncSummary } from '../../src/sync/summary.ts';

export const JIRA_TOKEN = 'bench-jira-token-0001';
export const ADO_PAT = 'bench-ado-pat-0001';
export const JIRA_HOOK_SECRET = 'bench-jira-hook-secret-0001';
export const ADO_HOOK = { username: 'pmo-sync', password: 'bench-ado-hook-password-0001' };
export const JIRA_PROJECTS = ['PAY', 'WEB'];
export const ADO_PROJECT = 'Payments';

/** Items per seeded Jira epic: the epic, 16 stories with 2 sub-tasks each, 1 bug. */
export const JIRA_ITEMS_PER_EPIC = 1 + 16 + 32 + 1;

export interface Limits {
  concurrency: number;
  requestsPerSecond: number;
}

export interface WorldOptions {
  jiraItems: number;
  adoItems: number;
  violationRate?: number;
  seed?: number;
  jiraFaults?: Partial<JiraSimFaults>;
  adoLatencyMs?: number;
  adoBudget?: ThrottleBudget | null;
  jiraLimits?: Limits;
  adoLimits?: Limits;
  /** Extra top-level YAML for the config. */
  extraYaml?: string;
}

export interface Seeded {
  jira: JiraSimulator;
  ado: AdoSimulator;
  jiraKeys: string[];
  jiraDone: number;
  adoIds: number[];
}

export interface World extends Seeded {
  config: Config;
  connectors: Map<string, Connector>;
  stages: SyncStages;
  database: Database;
  log: Logger;
  sync(opts?: SyncOptions): Promise<SyncSummary>;
  close(): Promise<void>;
}

/** Starts and seeds both simulators (deterministic for a given seed). */
export async function startSimulators(o: WorldOptions): Promise<Seeded> {
  const jira = await startJiraSimulator({ seed: o.seed ?? 1, faults: o.jiraFaults });
  const ado = await startAdoSimulator({ latencyMs: o.adoLatencyMs ?? 0, budget: o.adoBudget ?? null });
  const epics = Math.max(1, Math.round(o.jiraItems / JIRA_ITEMS_PER_EPIC / JIRA_PROJECTS.length));
  const keys: string[] = [];
  let done = 0;
  for (const [i, project] of JIRA_PROJECTS.entries()) {
    const m = jira.seedPortfolio({
      projects: [project],
      epics,
      storiesPerEpic: 16,
      bugsPerEpic: 1,
      subtasksPerStory: 2,
      violationRate: o.violationRate ?? 0.2,
      seed: (o.seed ?? 1) * 31 + i,
    });
    keys.push(...m.keys);
    done += m.done;
  }
  ado.addProject(ADO_PROJECT, 'Agile');
  const seeded = ado.seedPortfolio({
    process: 'Agile',
    project: ADO_PROJECT,
    epics: Math.ceil(o.adoItems / 40) + 1,
    featuresPerEpic: 3,
    storiesPerFeature: 4,
    tasksPerStory: 2,
    limit: o.adoItems,
    violationRate: o.violationRate ?? 0.2,
    seed: (o.seed ?? 1) * 17 + 3,
  });
  return { jira, ado, jiraKeys: keys, jiraDone: done, adoIds: seeded.ids };
}

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

/** Wires the pipeline over already-started simulators. */
export async function wireWorld(seeded: Seeded, database: Database, o: WorldOptions): Promise<World> {
  const config = worldConfig(seeded.jira.url, seeded.ado.url, o);
  const log = benchLogger();
  const connectors = createConnectors(config.connections, { log });
  const stages = await buildSyncStages({ config, cwd: process.cwd(), log, database, connectors });
  return {
    ...seeded,
    config,
    connectors,
    stages,
    database,
    log,
    sync: (opts = {}) => runSync({ database, config, connectors, log, stages }, opts),
    async close() {
      for (const c of connectors.values()) await c.close();
      await seeded.jira.close();
      await seeded.ado.close();
    },
  };
}

export async function startWorld(database: Database, o: WorldOptions): Promise<World> {
  return wireWorld(await startSimulators(o), database, o);
}
