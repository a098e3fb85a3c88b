// Child process for the crash-safety test: drains the write outbox against the simulators the
// parent runs, until killed (SIGKILL) or done. Configured through the environment only.
import { createConnectors } from '../../connectors/index.ts';
import { openDatabase } from '../../db/client.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { createWriteWorker } from '../../src/writeback/worker.ts';

const env = process.env;
const { config } = parseConfig(
  `
connections:
  - { id: jira-main, kind: jira, baseUrl: "${env.JIRA_URL}", auth: { email: pmo-bot@example.com, apiToken: t-1234 }, scope: { projects: [PAY] } }
  - { id: ado-main, kind: azure-devops, orgUrl: "${env.ADO_URL}", auth: { pat: p-1234 }, scope: { projects: [Payments] } }
`,
  { env: {} },
);
const log = createLogger({ level: 'silent', pretty: false });
const database = await openDatabase(env.DATABASE_URL, { maxConnections: 4 });
const connectors = createConnectors(config.connections, { log });
const worker = createWriteWorker({
  database,
  connectors,
  log,
  leaseMs: Number(env.LEASE_MS ?? 400),
  workerId: env.WORKER_ID,
});
const r = await worker.drain();
process.stdout.write(`${JSON.stringify(r)}\n`);
await database.close();
process.exit(0);
