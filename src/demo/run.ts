// `pmo-sync demo` (and `npm start` without a config): both tracker simulators seeded with a
// sample portfolio, an embedded PGlite database, a first sync with write-back, then the
// dashboard, API and webhooks served — changes made through the simulators' REST APIs come
// back through webhooks within seconds.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { type AdoSimulator, PERSON, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, PEOPLE, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { findings, workItems } from '../../db/schema.ts';
import { createToken } from '../auth/tokens.ts';
import { parseConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { type RunningServer, startServer } from '../server/start.ts';
import type { SyncSummary } from '../sync/summary.ts';
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
  /** Dashboard port (default 8787; 0 picks a free one). */
  port?: number;
  /** Database URL; default a fresh embedded PGlite under ./.pmo-sync/demo-db. */
  databaseUrl?: string;
}

export interface Demo {
  url: string;
  token: string;
  jira: JiraSimulator;
  ado: AdoSimulator;
  config: Config;
  database: Database;
  server: RunningServer;
  seed: DemoSeed;
  firstSync: SyncSummary;
  /** A flagged Jira item to look at: its ref, key and open rules. */
  example: { ref: string; key: string; title: string; rules: string[] } | null;
  stop(): Promise<void>;
}

export function demoConfig(jiraUrl: string, adoUrl: string, databaseUrl: string): Config {
  const c = DEMO_CREDENTIALS;
  return parseConfig(
    `
database: { url: "${databaseUrl}" }
server: { port: 8787, host: 0.0.0.0 }
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jiraUrl}
    auth: { email: ${c.jira.email}, apiToken: ${c.jira.apiToken} }
    scope: { projects: [PAY, WEB] }
    fields: { acceptanceCriteria: ${DEMO_JIRA_FIELDS.acceptanceCriteria}, gate: ${DEMO_JIRA_FIELDS.gate}, dependsOn: ${DEMO_JIRA_FIELDS.dependsOn} }
    webhookSecret: ${c.jiraWebhookSecret}
    limits: { concurrency: 16, requestsPerSecond: 200 }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${adoUrl}
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
`,
    { env: {} },
  ).config;
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const log = opts.log;
  const c = DEMO_CREDENTIALS;
  const jira = await startJiraSimulator({ people: [{ ...c.jiraPerson, user: PEOPLE[0]! }] });
  const ado = await startAdoSimulator({ people: [{ pat: c.adoPersonPat, identity: PERSON }] });
  const seed = seedDemo(jira, ado);
  let databaseUrl = opts.databaseUrl;
  if (!databaseUrl) {
    const dir = resolve(opts.cwd, '.pmo-sync', 'demo-db');
    rmSync(dir, { recursive: true, force: true });
    databaseUrl = dir;
  }
  const config = demoConfig(jira.url, ado.url, databaseUrl);
  const database = await openDatabase(databaseUrl, { cwd: opts.cwd });
  await database.migrate();
  let server: RunningServer;
  try {
    server = await startServer({ config, database, log, cwd: opts.cwd, port: opts.port ?? 8787 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    log.warn(`port ${opts.port ?? 8787} is in use; serving the demo on a free port instead`);
    server = await startServer({ config, database, log, cwd: opts.cwd, port: 0 });
  }
  // Webhooks go to the loopback address: "localhost" may resolve to ::1, where nothing listens.
  const hookBase = `http://127.0.0.1:${server.port}`;
  for (const conn of config.connections) {
    const connector = server.connectors.get(conn.id)!;
    await connector.installWebhooks?.({
      url: `${hookBase}/webhooks/${conn.kind}/${conn.id}`,
      secret: conn.kind === 'jira' ? conn.webhookSecret : undefined,
    });
  }
  const firstSync = (await server.runtime.triggerSync({ full: true }))!;
  const { token } = await createToken(database.db, { scope: 'read', name: 'demo' });
  const example = await pickExample(database);
  return {
    url: server.url,
    token,
    jira,
    ado,
    config,
    database,
    server,
    seed,
    firstSync,
    example,
    async stop() {
      await server.stop();
      await jira.close();
      await ado.close();
      await database.close();
    },
  };
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
    `  Jira simulator          ${d.jira.url}   (REST API; as a team member: ${c.jiraPerson.email} / ${c.jiraPerson.apiToken})`,
    `  Azure DevOps simulator  ${d.ado.url}   (REST API; as a team member: PAT ${c.adoPersonPat})`,
  ];
  if (d.example) {
    const auth = `-u ${c.jiraPerson.email}:${c.jiraPerson.apiToken}`;
    lines.push(
      '',
      `  A flagged item: ${d.example.key} "${d.example.title}" breaks ${d.example.rules.join(', ')}.`,
      `  Its pmo-sync comment in the Jira simulator:`,
      `    curl ${auth} ${d.jira.url}/rest/api/3/issue/${d.example.key}/comment`,
      `  Change it through the Jira API as a team member, and the comment and the dashboard follow within seconds`,
      `  (here: push its due date out, which resolves the schedule findings):`,
      `    curl ${auth} -X PUT -H 'content-type: application/json' -d '{"fields":{"duedate":"${farDue()}"}}' ${d.jira.url}/rest/api/3/issue/${d.example.key}`,
    );
  }
  lines.push('', '  Ctrl-C stops everything.', '');
  return lines.join('\n');
}
