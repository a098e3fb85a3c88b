// `pmo-sync demo` (and `npm start` without a config): both tracker simulators seeded with a
// sample portfolio, an embedded PGlite database, a first sync with write-back, then the
// dashboard, API and webhooks served — changes made through the simulators' REST APIs come
// back through webhooks within seconds. The port is bound before anything else starts; each
// run keeps its database and config file in a directory of its own (rundir.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { type AdoSimulator, PERSON, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, PEOPLE, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { findings, workItems } from '../../db/schema.ts';
import { createToken } from '../auth/tokens.ts';
import { parseConfig } from '../config/load.ts';
import { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { type BoundHttp, bindHttp, ListenError } from '../server/listen.ts';
import { httpLimits, type RunningServer, startServer } from '../server/start.ts';
import type { SyncSummary } from '../sync/summary.ts';
import { backfillDemoHistory } from './history.ts';
import { createRunDir } from './rundir.ts';
import { DEMO_JIRA_FIELDS, type DemoSeed, seedDemo } from './seed.ts';

export const DEMO_CREDENTIALS = {
  jira: { email: 'pmo-bot@example.com', apiToken: 'demo-jira-token' },
  adoPat: 'demo-ado-pat',
  /** A team member's credentials: changes made with them are a person's, not pmo-sync's. */
  jiraPerson: { email: 'mia@example.com', apiToken: 'demo-person-token' },
  adoPersonPat: 'demo-person-pat',
  jiraWebhookSecret: 'demo-webhook-secret',
  adoHook: { username: 'pmo-sync', password: 'demo-hook-password' },
};

export interface DemoOptions {
  cwd: string;
  log: Logger;
  /** Dashboard port (default 8787; 0 picks a free one). When it is taken, a free one is used. */
  port?: number;
  /** Database URL; default an embedded PGlite in this run's own directory. */
  databaseUrl?: string;
  /** Aborted: start-up stops at its next step, stops what it started and rejects with the reason. */
  signal?: AbortSignal;
  /** A line for the person watching (the port fallback). */
  say?(line: string): void;
}

export interface Demo {
  url: string;
  token: string;
  jira: JiraSimulator;
  ado: AdoSimulator;
  config: Config;
  /** This run's config file: `pmo-sync --config <it> …` points CLI commands at the demo. */
  configPath: string;
  /** This run's directory (database, config), removed by stop(). */
  runDir: string;
  database: Database;
  server: RunningServer;
  seed: DemoSeed;
  firstSync: SyncSummary;
  /** A flagged Jira item to look at: its ref, key and open rules. */
  example: { ref: string; key: string; title: string; rules: string[] } | null;
  stop(): Promise<void>;
}

export interface DemoConfigOptions {
  jiraUrl: string;
  adoUrl: string;
  databaseUrl: string;
  port: number;
  runDir: string;
}

/** The demo's pmo-sync.yaml: a real config file, valid while the demo (its simulators) runs. */
export function demoConfigYaml(o: DemoConfigOptions): string {
  const c = DEMO_CREDENTIALS;
  return `# pmo-sync demo run in ${o.runDir}
# Written by \`pmo-sync demo\` (pid ${process.pid}) and removed when it stops: the simulators below, the
# demo credentials and the database exist only while it runs.
database: { url: ${JSON.stringify(o.databaseUrl)} }
server: { port: ${o.port}, host: 0.0.0.0 }
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${o.jiraUrl}
    auth: { email: ${c.jira.email}, apiToken: ${c.jira.apiToken} }
    scope: { projects: [PAY, WEB] }
    fields: { acceptanceCriteria: ${DEMO_JIRA_FIELDS.acceptanceCriteria}, gate: ${DEMO_JIRA_FIELDS.gate}, dependsOn: ${DEMO_JIRA_FIELDS.dependsOn} }
    webhookSecret: ${c.jiraWebhookSecret}
    limits: { concurrency: 16, requestsPerSecond: 200 }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${o.adoUrl}
    auth: { pat: ${c.adoPat} }
    scope: { projects: [Payments, Mobile] }
    webhookAuth: { username: ${c.adoHook.username}, password: ${c.adoHook.password} }
    limits: { concurrency: 16, requestsPerSecond: 200 }
rules:
  # The simulated trackers carry no business-case field.
  overrides: { epic-business-case: { enabled: false } }
portfolio:
  programs:
    - id: payments
      name: Payments modernisation
      include: [{ connection: jira-main, project: PAY }, { connection: ado-main, project: Payments }]
    - id: digital
      name: Digital channels
      include: [{ connection: jira-main, project: WEB }, { connection: ado-main, project: Mobile }]
`;
}

/** Binds the port asked for, or a free one when it is taken (nothing else has started yet). */
async function bindDemoPort(opts: DemoOptions, log: Logger): Promise<BoundHttp> {
  const port = opts.port ?? 8787;
  // The config's defaults: the demo's own config is written once the port is known.
  const limits = httpLimits(Config.shape.server.parse(undefined));
  const bind = (p: number) => bindHttp({ port: p, host: '0.0.0.0', limits, log });
  try {
    return await bind(port);
  } catch (err) {
    if (!(err instanceof ListenError && err.code === 'EADDRINUSE')) throw err;
    const http = await bind(0);
    opts.say?.(`pmo-sync demo: port ${port} is in use; serving on port ${http.port} instead`);
    return http;
  }
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const { log, signal } = opts;
  const c = DEMO_CREDENTIALS;
  // What started so far, stopped last-first by stop() or when a later step fails.
  const started: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    while (started.length > 0) {
      try {
        await started.pop()!();
      } catch (err) {
        log.warn({ err }, 'demo: could not stop a part cleanly');
      }
    }
  };
  const step = () => signal?.throwIfAborted();
  try {
    step();
    const http = await bindDemoPort(opts, log);
    started.push(() => http.close());
    const run = createRunDir(opts.cwd);
    started.push(() => run.remove());
    step();
    const jira = await startJiraSimulator({ people: [{ ...c.jiraPerson, user: PEOPLE[0]! }] });
    started.push(() => jira.close());
    const ado = await startAdoSimulator({ people: [{ pat: c.adoPersonPat, identity: PERSON }] });
    started.push(() => ado.close());
    const seed = seedDemo(jira, ado);
    const databaseUrl = opts.databaseUrl ?? join(run.dir, 'db');
    const configPath = join(run.dir, 'pmo-sync.yaml');
    const yaml = demoConfigYaml({ jiraUrl: jira.url, adoUrl: ado.url, databaseUrl, port: http.port, runDir: run.dir });
    writeFileSync(configPath, yaml);
    const { config } = parseConfig(yaml, { env: {}, fileName: configPath });
    step();
    const database = await openDatabase(databaseUrl, { cwd: opts.cwd });
    started.push(() => database.close());
    await database.migrate();
    step();
    const server = await startServer({ config, database, log, cwd: opts.cwd, http });
    started.push(() => server.stop());
    // The first sync is a pass of the runtime: a stop asked for now cuts it short.
    const abort = () => void server.runtime.stop();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      // Webhooks go to the loopback address: "localhost" may resolve to ::1, where nothing listens.
      const hookBase = `http://127.0.0.1:${server.port}`;
      for (const conn of config.connections) {
        const connector = server.connectors.get(conn.id)!;
        await connector.installWebhooks?.({
          url: `${hookBase}/webhooks/${conn.kind}/${conn.id}`,
          secret: conn.kind === 'jira' ? conn.webhookSecret : undefined,
        });
      }
      step();
      const firstSync = await server.runtime.triggerSync({ full: true });
      step();
      if (!firstSync) throw new Error('the demo could not run its first sync: the schedule lock is held');
      // Weeks of history before today, so the dashboard's trend shows weeks, not one day.
      await backfillDemoHistory(database.db, new Date());
      const { token } = await createToken(database.db, { scope: 'read', name: 'demo' });
      const example = await pickExample(database);
      return {
        url: server.url,
        token,
        jira,
        ado,
        config,
        configPath,
        runDir: run.dir,
        database,
        server,
        seed,
        firstSync,
        example,
        stop: stopAll,
      };
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function pickExample(database: Database): Promise<Demo['example']> {
  const rows = await database.db
    .select({
      ref: findings.ref,
      rule: findings.rule,
      title: workItems.title,
      key: workItems.key,
      kind: workItems.kind,
    })
    .from(findings)
    .innerJoin(workItems, eq(workItems.ref, findings.ref))
    .where(and(eq(findings.status, 'open'), eq(workItems.connection, 'jira-main')));
  const story = rows.find((r) => r.kind === 'story') ?? rows[0];
  if (!story) return null;
  return {
    ref: story.ref,
    key: story.key,
    title: story.title,
    rules: rows.filter((r) => r.ref === story.ref).map((r) => r.rule),
  };
}

const farDue = () => new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);

/** What the demo prints: where to look and what to try. */
export function demoBanner(d: Demo): string {
  const c = DEMO_CREDENTIALS;
  const s = d.firstSync;
  const items = s.connections.reduce((n, x) => n + x.itemsPulled, 0);
  const lines = [
    '',
    'pmo-sync demo is running',
    `  synced ${items} items from both trackers: ${s.findings.open} open findings, ${s.writes.sent} writes sent back`,
    '',
    `  Dashboard     ${d.url}/   (sign in with the read token)`,
    `  Read token    ${d.token}`,
    `  API           curl -H "Authorization: Bearer ${d.token}" ${d.url}/api/v1/portfolio`,
    `  API docs      ${d.url}/docs`,
    '',
    `  Config        ${d.configPath}   (removed when the demo stops)`,
    `                CLI commands beside the demo: pmo-sync --config ${d.configPath} rules list`,
    `                report, sync and token need the demo's database, which its embedded PGlite keeps to this`,
    `                process: until the demo stops they answer "database … is in use". The API has the same data:`,
    `                curl -H "Authorization: Bearer ${d.token}" "${d.url}/api/v1/findings?format=csv"`,
    '',
    `  Jira simulator          ${d.jira.url}   (REST API; as a team member: ${c.jiraPerson.email} / ${c.jiraPerson.apiToken})`,
    `  Azure DevOps simulator  ${d.ado.url}   (REST API; as a team member: PAT ${c.adoPersonPat})`,
  ];
  if (d.example) {
    const auth = `-u ${c.jiraPerson.email}:${c.jiraPerson.apiToken}`;
    lines.push(
      '',
      `  A flagged item: ${d.example.key} "${d.example.title}" breaks ${d.example.rules.join(', ')}.`,
      `  Its pmo-sync comment in the Jira simulator (REST API v2: the body as text):`,
      `    curl ${auth} ${d.jira.url}/rest/api/2/issue/${d.example.key}/comment`,
      `  Change it through the Jira API as a team member, and the comment and the dashboard follow within seconds`,
      `  (here: push its due date out, which resolves the schedule findings):`,
      `    curl ${auth} -X PUT -H 'content-type: application/json' -d '{"fields":{"duedate":"${farDue()}"}}' ${d.jira.url}/rest/api/3/issue/${d.example.key}`,
    );
  }
  lines.push('', '  Ctrl-C stops everything.', '');
  return lines.join('\n');
}
