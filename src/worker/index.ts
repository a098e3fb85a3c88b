// The Cloudflare Workers entry (wrangler.toml `main`): the same Hono app as `pmo-sync serve` on
// `fetch`, a Queues consumer for webhook events, planned writes and triggered syncs on `queue`,
// and syncs and reconcile sweeps on Cron Triggers on `scheduled`. Postgres comes through
// Hyperdrive. The inbox and outbox tables stay the source of truth: queue messages only say
// "look now", and every scheduled tick also drains both, so a lost message costs latency only.
import { createApp } from '../http/app.ts';
import { createReadiness } from '../server/readiness.ts';
import { runSync, type SyncOptions } from '../sync/run.ts';
import type { SyncSummary } from '../sync/summary.ts';
import { createWebhookProcessor } from '../webhooks/process.ts';
import { createWebhookReceiver } from '../webhooks/receive.ts';
import { mountWebhookRoutes } from '../webhooks/routes.ts';
import { createWriteWorker } from '../writeback/worker.ts';
import { DASHBOARD_ASSETS } from './assets.ts';
import { createSettingsCache, type Invocation, openInvocation } from './context.ts';
import type { Env, ExecutionContext, MessageBatch, ScheduledController, WorkerMessage } from './env.ts';

export type { Env, WorkerMessage } from './env.ts';

export function createWorker() {
  const settingsFor = createSettingsCache();

  const withInvocation = async <T>(env: Env, fn: (inv: Invocation) => Promise<T>): Promise<T> => {
    const inv = await openInvocation(env, settingsFor(env));
    try {
      return await fn(inv);
    } finally {
      await inv.close();
    }
  };

  /** Webhook events until none is claimable, then the writes they planned. */
  const processWebhooks = async (inv: Invocation) => {
    const processor = createWebhookProcessor({
      database: inv.database,
      connectors: inv.connectors,
      config: inv.config,
      log: inv.log,
      stages: { ...inv.stages, send: undefined },
      // The queue's batch window already gathered the burst.
      debounceMs: 0,
      leaseMs: inv.leaseMs,
    });
    const events = await processor.drain();
    const writes = await sendWrites(inv);
    return { events, writes };
  };

  const sendWrites = async (inv: Invocation, connections?: string[]) => {
    if (inv.config.mode === 'dry-run') return null;
    const worker = createWriteWorker({
      database: inv.database,
      connectors: connections
        ? new Map([...inv.connectors].filter(([id]) => connections.includes(id)))
        : inv.connectors,
      log: inv.log,
      leaseMs: inv.leaseMs,
    });
    return worker.drain();
  };

  /** A sync pass under the schedule lock; null when another invocation holds it. */
  const syncUnderLock = async (inv: Invocation, opts: SyncOptions): Promise<SyncSummary | null> => {
    const release = await inv.database.tryLock('schedule:sync');
    if (!release) {
      inv.log.info('another invocation runs the scheduled job');
      return null;
    }
    try {
      // Writes are sent below, by this invocation, rather than queued: the tick is already here.
      return await runSync({ ...inv, stages: { ...inv.stages, send: undefined } }, opts);
    } finally {
      await release();
    }
  };

  return {
    async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
      let inv: Invocation;
      try {
        inv = await openInvocation(env, settingsFor(env));
      } catch (err) {
        // A bad config or an unreachable Hyperdrive: say so without leaking the details.
        console.error(JSON.stringify({ level: 'error', msg: 'worker cannot start', err: String((err as Error)?.message ?? err).slice(0, 300) }));
        return Response.json(
          { title: 'Service Unavailable', status: 503, detail: 'pmo-sync is not configured or its database is unreachable' },
          { status: 503, headers: { 'content-type': 'application/problem+json' } },
        );
      }
      const wakeups: Promise<unknown>[] = [];
      const receive = createWebhookReceiver({
        db: inv.database.db,
        connectors: inv.connectors,
        log: inv.log,
        onStored: (connection) => {
          wakeups.push(
            env.EVENTS.send({ type: 'webhook', connection }).catch((err: unknown) =>
              // Stored already: the next scheduled tick drains the inbox.
              inv.log.warn({ err, connection }, 'queue send failed; the next tick picks the event up'),
            ),
          );
        },
      });
      const app = createApp({
        database: inv.database,
        config: inv.config,
        log: inv.log,
        mount: (a) => mountWebhookRoutes(a, receive, inv.log),
        assets: DASHBOARD_ASSETS,
        readiness: createReadiness({ db: inv.database.db, config: inv.config }),
        rules: async () =>
          inv.ruleSet.rules.map((r) => ({
            id: r.id,
            title: r.title,
            severity: r.severity,
            area: r.area ?? null,
            source: r.source,
          })),
        triggerSync: async () => {
          await env.EVENTS.send({ type: 'sync' });
          return { queued: true };
        },
      });
      try {
        const response = await app.fetch(request, env, ctx);
        // The body is built before the handler returns; reading it here keeps every query
        // inside this invocation, so closing the connection afterwards is safe.
        const body = await response.arrayBuffer();
        await Promise.all(wakeups);
        return new Response(body, response);
      } finally {
        ctx.waitUntil(inv.close());
      }
    },

    async queue(batch: MessageBatch<WorkerMessage>, env: Env, _ctx: ExecutionContext): Promise<void> {
      const kinds = new Set(batch.messages.map((m) => m.body?.type));
      await withInvocation(env, async (inv) => {
        try {
          if (kinds.has('sync')) {
            const full = batch.messages.some((m) => m.body.type === 'sync' && m.body.full);
            await syncUnderLock(inv, { full });
          }
          // One drain serves every webhook message of the batch: the inbox holds the events.
          const r = await processWebhooks(inv);
          inv.log.info(
            {
              messages: batch.messages.length,
              kinds: [...kinds],
              events: r.events.processed,
              planned: r.events.writesPlanned,
              sent: r.writes?.sent ?? 0,
              failed: (r.writes?.failed ?? 0) + (r.writes?.dead ?? 0),
            },
            'queue batch processed',
          );
          batch.ackAll();
        } catch (err) {
          inv.log.error({ err }, 'queue batch failed; the queue retries it');
          batch.retryAll({ delaySeconds: 5 });
        }
      });
    },

    async scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
      await withInvocation(env, async (inv) => {
        const reconcile = controller.cron === inv.config.schedule.reconcile;
        const summary = await syncUnderLock(inv, { reconcile });
        // Whatever a lost queue message left behind.
        const r = await processWebhooks(inv);
        inv.log.info(
          {
            cron: controller.cron,
            reconcile,
            ran: summary !== null,
            durationMs: summary?.durationMs,
            events: r.events.processed,
            sent: r.writes?.sent ?? 0,
          },
          'scheduled pass finished',
        );
      });
    },
  };
}

export default createWorker();
