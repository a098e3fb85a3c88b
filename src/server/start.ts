// Everything `serve` runs in one process: HTTP (API, dashboard, webhooks, ops endpoints) and
// the background runtime. The demo starts the same thing against its simulators.
import type { AddressInfo } from 'node:net';
import { serve as serveHttp } from '@hono/node-server';
import { Histogram } from 'prom-client';
import { createConnectors } from '../../connectors/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { describeRules } from '../../rules/load.ts';
import type { Config } from '../config/schema.ts';
import { createApp } from '../http/app.ts';
import { createMetrics } from '../http/metrics.ts';
import type { Logger } from '../log.ts';
import { buildSyncStages } from '../sync/stages.ts';
import { createWebhookReceiver } from '../webhooks/receive.ts';
import { mountWebhookRoutes } from '../webhooks/routes.ts';
import { createBackgroundHealth } from './background-health.ts';
import { createReadiness } from './readiness.ts';
import { type Runtime, startRuntime } from './runtime.ts';

export interface ServerOptions {
  config: Config;
  database: Database;
  log: Logger;
  cwd: string;
  port?: number;
  host?: string;
  /** Run the cron schedule (default true). */
  schedule?: boolean;
  connectors?: Map<string, Connector>;
  /** Lease of claimed work; a replica that dies is taken over after this (default 2 minutes). */
  leaseMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  runtime: Runtime;
  connectors: Map<string, Connector>;
  stop(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { config, database, log } = opts;
  const connectors = opts.connectors ?? createConnectors(config.connections, { log });
  // Echo detection needs our own account in each tracker before the first webhook. Asked in
  // the background: a tracker that is down must not keep the server from starting.
  for (const [id, c] of connectors) {
    c.whoami().catch((err: unknown) =>
      log.warn(
        { connection: id, err },
        'could not read our tracker identity yet; echoes are recognised once it is known',
      ),
    );
  }
  const stages = await buildSyncStages({ config, cwd: opts.cwd, log, database, connectors });
  const metrics = createMetrics({ db: database.db, log, now: () => new Date() });
  const freshness = new Histogram({
    name: 'pmo_sync_change_to_write_seconds',
    help: 'Tracker change (item updated) to pmo-sync write applied, for webhook-triggered writes',
    buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
    registers: [metrics.registry],
  });
  const health = createBackgroundHealth();
  const runtime = startRuntime({
    config,
    health,
    database,
    connectors,
    log,
    stages,
    schedule: opts.schedule,
    leaseMs: opts.leaseMs,
    onWriteApplied: (w) => {
      if (w.changedAt && w.priority <= 10)
        freshness.observe(Math.max(0, (Date.now() - Date.parse(w.changedAt)) / 1000));
    },
    onSync: (s) => {
      for (const c of s.connections)
        metrics.syncDuration.observe({ connection: c.id, kind: s.full ? 'full' : 'sync' }, s.durationMs / 1000);
    },
  });
  const receive = createWebhookReceiver({
    db: database.db,
    connectors,
    log,
    onStored: () => runtime.wake(),
    maxEventAgeMs: config.server.webhooks.maxEventAgeHours * 3600_000,
  });
  const app = createApp({
    database,
    config,
    log,
    metrics,
    protectMetrics: config.server.protectMetrics,
    // Behind a TLS-terminating proxy the request URL is http; the public URL says the truth.
    secureCookies: config.server.publicUrl ? config.server.publicUrl.startsWith('https:') : undefined,
    mount: (a) => mountWebhookRoutes(a, receive, log),
    readiness: createReadiness({ db: database.db, config, background: health }),
    rules: async () => describeRules(stages.ruleSet),
    triggerSync: async () => {
      void runtime.triggerSync().catch((err) => log.error({ err }, 'triggered sync failed'));
      return { queued: true };
    },
  });
  const host = opts.host ?? config.server.host;
  const server = serveHttp({ fetch: app.fetch, port: opts.port ?? config.server.port, hostname: host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shown}:${port}`,
    port,
    runtime,
    connectors,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.stop();
      for (const c of connectors.values()) await c.close();
    },
  };
}

/** Resolves on SIGINT or SIGTERM (Ctrl-C), so callers can stop cleanly. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}
