// Everything `serve` runs in one process: HTTP (API, dashboard, webhooks, ops endpoints) and
// the background runtime. The demo starts the same thing against its simulators. The port is
// bound first (bindHttp): nothing else starts when it cannot be, and whatever started is
// stopped again when a later step fails.

import { Histogram } from 'prom-client';
import { createConnectors } from '../../connectors/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { describeRules } from '../../rules/load.ts';
import { createKvTokenStore } from '../auth/jira-tokens.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { createApp } from '../http/app.ts';
import { createMetrics } from '../http/metrics.ts';
import { buildSyncPipeline } from '../sync/pipeline.ts';
import { createWebhookReceiver } from '../webhooks/receive.ts';
import { mountWebhookRoutes } from '../webhooks/routes.ts';
import { createBackgroundHealth } from './background-health.ts';
import { createHookHealthMonitor } from './hook-health.ts';
import { type BoundHttp, bindHttp, type HttpLimits } from './listen.ts';
import { createReadiness } from './readiness.ts';
import { type Runtime, startRuntime } from './runtime.ts';

export interface ServerOptions {
  config: Config;
  database: Database;
  log: Logger;
  cwd: string;
  /** The listener, bound already (the CLI binds it before opening the database). */
  http?: BoundHttp;
  /** Without `http`: the port and address to bind (default: the config's). */
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
  http: BoundHttp;
  runtime: Runtime;
  connectors: Map<string, Connector>;
  /** Stops accepting requests and the runtime (loops, cron, passes in progress), then the connectors. */
  stop(): Promise<void>;
}

/** The Node server's limits from the config's `server` section. */
export function httpLimits(s: Config['server']): HttpLimits {
  return {
    maxConnections: s.maxConnections,
    headersTimeoutMs: s.headersTimeoutMs,
    requestTimeoutMs: s.requestTimeoutMs,
    keepAliveTimeoutMs: s.keepAliveTimeoutMs,
  };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { config, database, log } = opts;
  const http =
    opts.http ??
    (await bindHttp({
      port: opts.port ?? config.server.port,
      host: opts.host ?? config.server.host,
      limits: httpLimits(config.server),
      log,
    }));
  const connectors =
    opts.connectors ?? createConnectors(config.connections, { log, tokenStore: createKvTokenStore(database.db) });
  let runtime: Runtime | undefined;
  try {
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
    const pipeline = await buildSyncPipeline({ config, cwd: opts.cwd, log, database, connectors });
    const metrics = createMetrics({ db: database.db, log, now: () => new Date() });
    const freshness = new Histogram({
      name: 'pmo_sync_change_to_write_seconds',
      help: 'Tracker change (item updated) to pmo-sync write applied, for webhook-triggered writes',
      buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
      registers: [metrics.registry],
    });
    const health = createBackgroundHealth();
    const started = startRuntime({
      config,
      health,
      database,
      connectors,
      log,
      pipeline,
      schedule: opts.schedule,
      leaseMs: opts.leaseMs,
      hookHealth: createHookHealthMonitor({ config, connectors, database, log }),
      onWriteApplied: (w) => {
        if (w.changedAt && w.priority <= 10)
          freshness.observe(Math.max(0, (Date.now() - Date.parse(w.changedAt)) / 1000));
      },
      onSync: (s) => {
        for (const c of s.connections)
          metrics.syncDuration.observe({ connection: c.id, kind: s.full ? 'full' : 'sync' }, s.durationMs / 1000);
      },
    });
    runtime = started;
    const receive = createWebhookReceiver({
      db: database.db,
      connectors,
      log,
      onStored: () => started.wake(),
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
      mount: (a) =>
        mountWebhookRoutes(a, receive, log, (tracker, connection) =>
          metrics.webhookRetries.inc({ tracker, connection }),
        ),
      readiness: createReadiness({ db: database.db, config, background: health }),
      rules: async () => describeRules(pipeline.ruleSet),
      triggerSync: async () => {
        void started.triggerSync().catch((err) => log.error({ err }, 'triggered sync failed'));
        return { queued: true };
      },
    });
    http.serve((request, env) => app.fetch(request, env));
  } catch (err) {
    await runtime?.stop();
    if (!opts.http) await http.close();
    for (const c of connectors.values()) await c.close();
    throw err;
  }
  const running = runtime;
  return {
    url: http.url,
    port: http.port,
    http,
    runtime: running,
    connectors,
    async stop() {
      // Both at once: a request in progress may take its grace period, and the runtime's pass
      // must see the abort now, not after it.
      await Promise.all([http.close(), running.stop()]);
      for (const c of connectors.values()) await c.close();
    },
  };
}
