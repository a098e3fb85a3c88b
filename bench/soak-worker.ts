// Child process of the soak (bench/soak.ts), killed with SIGKILL at random points. Modes, from
// SOAK_MODE: `sync` (one sync pass with write-back, SOAK_RECONCILE=1 adds the sweep), `drain`
// (send the write outbox), `serve` (webhook routes + webhook processor + write worker on
// SOAK_PORT, until killed). Prints one JSON line when a pass finishes. Leases are short
// (SOAK_LEASE_MS) so a killed child's claimed work is taken over within seconds.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createConnectors } from '../connectors/index.ts';
import { openDatabase } from '../db/client.ts';
import { startRuntime } from '../src/server/runtime.ts';
import { buildSyncPipeline, type SyncPipeline } from '../src/sync/pipeline.ts';
import { runSync } from '../src/sync/run.ts';
import { createWebhookReceiver } from '../src/webhooks/receive.ts';
import { mountWebhookRoutes } from '../src/webhooks/routes.ts';
import { createWriteWorker } from '../src/writeback/worker.ts';
import { benchLogger, SOAK_CONFIG_YAML, worldConfig } from './lib/world.ts';

const env = process.env;
const mode = env.SOAK_MODE ?? 'sync';
const leaseMs = Number(env.SOAK_LEASE_MS ?? 2000);
const limits = { concurrency: 4, requestsPerSecond: 200 };
const config = worldConfig(env.JIRA_URL!, env.ADO_URL!, {
  jiraLimits: limits,
  adoLimits: limits,
  extraYaml: SOAK_CONFIG_YAML,
});
const log = benchLogger();
const database = await openDatabase(env.DATABASE_URL!, { maxConnections: 4 });
const connectors = createConnectors(config.connections, { log });
const worker = (id: string) => createWriteWorker({ database, connectors, log, leaseMs, workerId: id });
const pipeline: SyncPipeline = {
  ...(await buildSyncPipeline({ config, cwd: process.cwd(), log, database, connectors })),
  // The default write lease is two minutes; the soak kills workers on purpose, so it waits less.
  async send() {
    if (env.SOAK_SEND === '0') return { sent: 0, failed: 0 };
    const r = await worker(`soak-sync-${process.pid}`).drain();
    return { sent: r.sent, failed: r.failed + r.dead };
  },
};

const stats = () => Object.fromEntries([...connectors].map(([id, c]) => [id, { ...c.stats(), byEndpoint: undefined }]));

if (mode === 'sync') {
  const s = await runSync(
    { database, config, connectors, log, pipeline },
    { reconcile: env.SOAK_RECONCILE === '1', full: env.SOAK_FULL === '1' },
  );
  process.stdout.write(`${JSON.stringify({ mode, summary: s, stats: stats() })}\n`);
} else if (mode === 'drain') {
  const r = await worker(`soak-drain-${process.pid}`).drain();
  process.stdout.write(`${JSON.stringify({ mode, drain: r, stats: stats() })}\n`);
} else {
  const runtime = startRuntime({ config, database, connectors, log, pipeline, schedule: false, leaseMs, pollMs: 300 });
  const receive = createWebhookReceiver({ db: database.db, connectors, log, onStored: () => runtime.wake() });
  const app = new Hono();
  mountWebhookRoutes(app, receive, log);
  serve({ fetch: app.fetch, port: Number(env.SOAK_PORT), hostname: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ mode, listening: Number(env.SOAK_PORT) })}\n`);
  await new Promise(() => {});
}
for (const c of connectors.values()) await c.close();
await database.close();
process.exit(0);
