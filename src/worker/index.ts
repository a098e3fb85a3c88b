// The Cloudflare Workers entry (wrangler.toml `main`): the same Hono app as `pmo-sync serve` on
// `fetch`, a Queues consumer for webhook events, planned writes and triggered syncs on `queue`,
// and syncs and reconcile sweeps on Cron Triggers on `scheduled`. Postgres comes through
// Hyperdrive. The inbox and outbox tables stay the source of truth: queue messages only say
// "look now", and every scheduled tick also drains both, so a lost message costs latency only.

import { describeRules } from '../../rules/load.ts';
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

  /**
   * Webhook events until none is claimable. With `queueWrites` the writes they plan go out as a
   * `writes` message (their own invocation, subrequest budget and retries); without, the caller
   * sends them.
   */
  const processWebhooks = async (inv: Invocation, queueWrites: boolean) => {
    const processor = createWebhookProcessor({
      database: inv.database,
      connectors: inv.connectors,
      config: inv.config,
      log: inv.log,
      pipeline: inv.pipeline,
      send: queueWrites,
      // The queue's batch window already gathered the burst.
      debounceMs: 0,
      leaseMs: inv.leaseMs,
    });
    return processor.drain();
  };

  /** Outbox rows of these connections (all when omitted) until none is claimable now. */
  const sendWrites = async (inv: Invocation, connections?: readonly string[]) => {
    if (inv.config.mode === 'dry-run') return { claimed: 0, sent: 0, unchanged: 0, failed: 0, dead: 0 };
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

  /**
   * A sync pass under the schedule lock; null when another invocation holds it for longer than
   * `waitMs`. The nightly reconcile waits: at its minute the incremental cron fires too, and
   * whichever takes the lock first must not make the other one's sweep vanish.
   */
  const syncUnderLock = async (
    inv: Invocation,
    opts: SyncOptions,
    { waitMs = 0, queueWrites = false } = {},
  ): Promise<SyncSummary | null> => {
    const deadline = Date.now() + waitMs;
    let release = await inv.database.tryLock('schedule:sync');
    while (!release && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5000));
      release = await inv.database.tryLock('schedule:sync');
    }
    if (!release) {
      inv.log.info({ reconcile: opts.reconcile ?? false }, 'another invocation runs the scheduled job');
      return null;
    }
    try {
      return await runSync(inv, { ...opts, send: queueWrites });
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
        console.error(
          JSON.stringify({
            level: 'error',
            msg: 'worker cannot start',
            err: String((err as Error)?.stack ?? err).slice(0, 1000),
          }),
        );
        return Response.json(
          {
            title: 'Service Unavailable',
            status: 503,
            detail: 'pmo-sync is not configured or its database is unreachable',
          },
          { status: 503, headers: { 'content-type': 'application/problem+json' } },
        );
      }
      const wakeups: Promise<unknown>[] = [];
      const receive = createWebhookReceiver({
        db: inv.database.db,
        connectors: inv.connectors,
        log: inv.log,
        maxEventAgeMs: inv.config.server.webhooks.maxEventAgeHours * 3600_000,
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
        rules: async () => describeRules(inv.ruleSet),
        triggerSync: async () => {
          await env.EVENTS.send({ type: 'sync' });
          return { queued: true };
        },
      });
      try {
        const response = await app.fetch(request, env, ctx);
        // The body is built before the handler returns; reading it here keeps every query
        // inside this invocation, so closing the connection afterwards is safe.
        const body = NULL_BODY.has(response.status) ? null : await response.arrayBuffer();
        await Promise.all(wakeups);
        return new Response(body, response);
      } finally {
        ctx.waitUntil(inv.close());
      }
    },

    async queue(batch: MessageBatch<WorkerMessage>, env: Env, _ctx: ExecutionContext): Promise<void> {
      const bodies = batch.messages.map((m) => m.body);
      await withInvocation(env, async (inv) => {
        try {
          const sync = bodies.filter((b) => b.type === 'sync');
          if (sync.length > 0) await syncUnderLock(inv, { full: sync.some((b) => b.full) }, { queueWrites: true });
          // The inbox and outbox hold the work: one drain serves every message of its kind.
          const events = bodies.some((b) => b.type === 'webhook') ? await processWebhooks(inv, true) : null;
          const writeConnections = bodies.flatMap((b) => (b.type === 'writes' ? b.connections : []));
          const writes = writeConnections.length > 0 ? await sendWrites(inv, [...new Set(writeConnections)]) : null;
          inv.log.info(
            {
              messages: bodies.length,
              kinds: [...new Set(bodies.map((b) => b.type))],
              events: events?.processed ?? 0,
              planned: events?.writesPlanned ?? 0,
              sent: writes?.sent ?? 0,
              failed: (writes?.failed ?? 0) + (writes?.dead ?? 0),
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
        let summary: SyncSummary | null = null;
        let failure: unknown = null;
        try {
          summary = await syncUnderLock(inv, { reconcile }, { waitMs: reconcile ? RECONCILE_WAIT_MS : 0 });
        } catch (err) {
          // Still drain below: a failing sync must not hold back webhooks and writes.
          failure = err;
          inv.log.error({ err, cron: controller.cron }, 'scheduled sync failed');
        }
        // The tick sends what it planned itself, and picks up whatever a lost message left behind.
        const events = await processWebhooks(inv, false);
        const writes = await sendWrites(inv);
        inv.log.info(
          {
            cron: controller.cron,
            reconcile,
            ran: summary !== null,
            durationMs: summary?.durationMs,
            events: events.processed,
            sent: writes.sent,
            failed: writes.failed + writes.dead,
          },
          'scheduled pass finished',
        );
        // Cloudflare records the tick as failed (and shows it in the Cron Events log).
        if (failure) throw failure;
      });
    },
  };
}

/** How long a reconcile tick waits for a running sync (well inside the 15-minute cron limit). */
const RECONCILE_WAIT_MS = 10 * 60_000;

/** Statuses whose responses may not carry a body, not even an empty one. */
const NULL_BODY = new Set([101, 204, 205, 304]);

export default createWorker();
