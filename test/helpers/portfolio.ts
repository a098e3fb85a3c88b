// Both tracker simulators seeded with a small portfolio, a config pointing at them, and the
// real connectors, pipeline and database: the whole pipeline with nothing faked.
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { createConnectors } from '../../connectors/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { SimEdit, TrackerSimulator } from '../../connectors/simulator.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { webhookInbox } from '../../db/schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger, type Logger } from '../../src/core/log.ts';
import type { SyncPipeline } from '../../src/sync/pipeline.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { runSync, type SyncOptions } from '../../src/sync/run.ts';
import type { SyncSummary } from '../../src/sync/summary.ts';
import { createWebhookProcessor, type WebhookProcessorDeps } from '../../src/webhooks/process.ts';

export const JIRA_TOKEN = 'jira-test-token-0001';
export const ADO_PAT = 'ado-test-pat-0001';
export const JIRA_HOOK_SECRET = 'jira-hook-secret-0001';
export const ADO_HOOK = { username: 'pmo-sync', password: 'ado-hook-password-0001' };

export interface Portfolio {
  jira: JiraSimulator;
  ado: AdoSimulator;
  config: Config;
  connectors: Map<string, Connector>;
  pipeline: SyncPipeline;
  database: Database;
  log: Logger;
  jiraKeys: string[];
  adoIds: number[];
  sync(opts?: SyncOptions): Promise<SyncSummary>;
  /** The simulator behind each connection id. */
  simulators: Map<string, TrackerSimulator>;
  /** A person's edit of the item `ref` (`connection:key`) in its simulator. */
  edit(ref: string, edit: SimEdit): void;
  /** Waits until every simulator's deliveries in flight have been answered. */
  flushDeliveries(): Promise<void>;
  /**
   * An "updated" event for each ref (`connection:key`) in the webhook inbox, as the receiver
   * leaves one (delivery id `${tag}-${key}`), for the processor to take.
   */
  queueUpdates(refs: readonly string[], tag: string): Promise<void>;
  /** The webhook processor over this portfolio, sending writes, with no debounce unless `opts` says. */
  webhookProcessor(opts?: Partial<WebhookProcessorDeps>): ReturnType<typeof createWebhookProcessor>;
  /** Bot comments on an item in its simulator. */
  botComments(ref: string): string[];
  close(): Promise<void>;
}

export interface PortfolioOptions {
  database: Database;
  jiraEpics?: number;
  adoEpics?: number;
  /** Extra top-level YAML appended to the config. */
  extraYaml?: string;
  mode?: 'enforce' | 'dry-run';
  whenCompliant?: 'update' | 'delete';
}

export async function startPortfolio(opts: PortfolioOptions): Promise<Portfolio> {
  const jira = await startJiraSimulator();
  const ado = await startAdoSimulator();
  const manifest = jira.seedPortfolio({
    projects: ['PAY'],
    epics: opts.jiraEpics ?? 3,
    storiesPerEpic: 4,
    bugsPerEpic: 1,
    violationRate: 0.3,
    seed: 7,
  });
  ado.addProject('Payments', 'Agile');
  const seeded = ado.seedPortfolio({
    process: 'Agile',
    project: 'Payments',
    epics: opts.adoEpics ?? 2,
    featuresPerEpic: 2,
    storiesPerFeature: 3,
    seed: 11,
  });
  const when = opts.whenCompliant ?? 'update';
  const { config } = parseConfig(
    `
mode: ${opts.mode ?? 'enforce'}
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: ${JIRA_TOKEN} }
    scope: { projects: [PAY] }
    webhookSecret: ${JIRA_HOOK_SECRET}
    writeback: { comment: true, labels: true, whenCompliant: ${when} }
    limits: { concurrency: 8, requestsPerSecond: 500 }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${ado.url}
    auth: { pat: ${ADO_PAT} }
    scope: { projects: [Payments] }
    webhookAuth: { username: ${ADO_HOOK.username}, password: ${ADO_HOOK.password} }
    writeback: { comment: true, tags: true, whenCompliant: ${when} }
    limits: { concurrency: 8, requestsPerSecond: 500 }
portfolio:
  programs:
    - id: payments
      name: Payments modernisation
      include: [{ connection: jira-main, project: PAY }, { connection: ado-main, project: Payments }]
${opts.extraYaml ?? ''}
`,
    { env: {} },
  );
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', pretty: false });
  const connectors = createConnectors(config.connections, { log });
  const pipeline = await buildSyncPipeline({ config, cwd: process.cwd(), log, database: opts.database, connectors });
  const botComments = (ref: string): string[] => {
    const [conn, key] = [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)];
    if (conn === 'jira-main') {
      const issue = jira.store.getIssue(key);
      return (issue?.comments ?? [])
        .filter((c) => c.author.accountId === jira.me.accountId)
        .map((c) => JSON.stringify(c.body));
    }
    const it = ado.store.get(Number(key));
    return it.comments.filter((c) => !c.isDeleted && c.createdBy.id === ado.identity.id).map((c) => c.text);
  };
  const simulators = new Map<string, TrackerSimulator>([
    ['jira-main', jira],
    ['ado-main', ado],
  ]);
  return {
    jira,
    ado,
    simulators,
    edit(ref, edit) {
      const at = ref.indexOf(':');
      const sim = simulators.get(ref.slice(0, at));
      if (!sim) throw new Error(`portfolio: no simulator for "${ref}"`);
      sim.edit(ref.slice(at + 1), edit);
    },
    async flushDeliveries() {
      for (const sim of simulators.values()) await sim.flushDeliveries();
    },
    async queueUpdates(refs, tag) {
      for (const ref of refs) {
        const at = ref.indexOf(':');
        const [connection, key] = [ref.slice(0, at), ref.slice(at + 1)];
        const sim = simulators.get(connection);
        if (!sim) throw new Error(`portfolio: no simulator for "${ref}"`);
        await opts.database.db.insert(webhookInbox).values({
          connection,
          tracker: sim.tracker,
          deliveryId: `${tag}-${key}`,
          event: 'updated',
          keys: [key],
          body: {},
        });
      }
    },
    webhookProcessor: (o = {}) =>
      createWebhookProcessor({
        database: opts.database,
        connectors,
        config,
        log,
        pipeline,
        send: true,
        debounceMs: 0,
        ...o,
      }),
    config,
    connectors,
    pipeline,
    database: opts.database,
    log,
    jiraKeys: manifest.keys,
    adoIds: seeded.ids,
    sync: (o = {}) => runSync({ database: opts.database, config, connectors, log, pipeline }, o),
    botComments,
    async close() {
      for (const c of connectors.values()) await c.close();
      await jira.close();
      await ado.close();
    },
  };
}
