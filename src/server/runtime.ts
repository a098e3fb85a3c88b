// The background work of `serve`: the webhook processor, the write-back worker and the
// scheduled syncs and reconcile sweeps. Any number of replicas may run this on one Postgres:
// inbox and outbox rows are claimed with SKIP LOCKED, and each scheduled job runs on exactly
// one replica at a time (an advisory lock; it dies with its session, so another replica
// takes over when the holder dies).
import { Cron } from 'croner';
import { and, eq, gte } from 'drizzle-orm';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { syncRuns } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { SyncPipeline } from '../sync/pipeline.ts';
import { runSync, type SyncOptions } from '../sync/run.ts';
import type { SyncSummary } from '../sync/summary.ts';
import { createWebhookProcessor } from '../webhooks/process.ts';
import { createWriteWorker } from '../writeback/worker.ts';
import type { BackgroundHealth } from './background-health.ts';
import type { HookHealthMonitor } from './hook-health.ts';

export interface RuntimeDeps {
  config: Config;
  database: Database;
  connectors: ReadonlyMap<string, Connector>;
  log: Logger;
  pipeline: SyncPipeline;
  /** How often idle loops look for work (a wake-up makes them look at once). */
  pollMs?: number;
  debounceMs?: number;
  /** Run the cron schedule (off in tests that trigger syncs themselves). */
  schedule?: boolean;
  /** How long a claimed write or webhook event stays leased before another replica may take it. */
  leaseMs?: number;
  /** Told how each loop pass went, so readiness sees background work failing (a full disk). */
  health?: BackgroundHealth;
  onWriteApplied?(w: { ref: string; changedAt: string | null; priority: number }): void;
  onSync?(summary: SyncSummary): void;
  /** Service hook health, checked before each scheduled sync (hook-health.ts). */
  hookHealth?: HookHealthMonitor;
}

export interface Runtime {
  /** A webhook was stored: process it after the debounce. */
  wake(): void;
  /** Runs a sync now unless another replica or pass holds the schedule lock. */
  triggerSync(opts?: SyncOptions): Promise<SyncSummary | null>;
  stop(): Promise<void>;
}

export function startRuntime(deps: RuntimeDeps): Runtime {
  const pollMs = deps.pollMs ?? 1000;
  const debounceMs = deps.debounceMs ?? 250;
  const log = deps.log.child({ component: 'runtime' });
  // Writes leave through the write loop below, woken the moment a batch is planned; the
  // processor itself never sends, so a slow tracker write never delays the next events.
  const processor = createWebhookProcessor({
    ...deps,
    send: false,
    debounceMs,
    leaseMs: deps.leaseMs,
    onPlanned: () => writesWaker.wake(),
  });
  const worker = createWriteWorker({
    database: deps.database,
    connectors: deps.connectors,
    log: deps.log,
    leaseMs: deps.leaseMs,
    onApplied: (row) =>
      deps.onWriteApplied?.({ ref: row.ref, changedAt: row.payload.changedAt ?? null, priority: row.priority }),
  });
  const stopping = new AbortController();
  const webhooksWaker = createWaker(stopping.signal);
  const writesWaker = createWaker(stopping.signal);
  // Passes (cron or triggered) in progress: stop() waits for each to see the abort and end.
  const passes = new Set<Promise<unknown>>();
  // A pass sends its planned writes itself, through a drain that ends with the runtime, like the
  // loops, and leases as the runtime's write loop does.
  const pipeline: SyncPipeline = {
    ...deps.pipeline,
    async send({ connections }) {
      const worker = createWriteWorker({
        database: deps.database,
        connectors: new Map([...deps.connectors].filter(([id]) => connections.includes(id))),
        log: deps.log,
        leaseMs: deps.leaseMs,
      });
      const r = await worker.drain({ signal: stopping.signal });
      return { sent: r.sent, failed: r.failed + r.dead };
    },
  };

  // A plain sleep is a waker nobody wakes (stop still cuts it short).
  const sleep = (ms: number) => createWaker(stopping.signal).wait(ms);

  async function loop(name: string, step: () => Promise<boolean>, idle: () => Promise<void>) {
    while (!stopping.signal.aborted) {
      try {
        const busy = await step();
        deps.health?.succeeded(name);
        if (!busy) await idle();
      } catch (err) {
        deps.health?.failed(name, err);
        log.error({ err, loop: name }, 'background loop failed; retrying');
        await sleep(pollMs);
      }
    }
  }

  const webhookLoop = loop(
    'webhooks',
    async () => (await processor.runOnce()).claimed > 0,
    async () => {
      await webhooksWaker.wait(pollMs);
      // Let a burst on the same item gather before it is read.
      if (!stopping.signal.aborted) await sleep(debounceMs);
    },
  );
  const writeLoop =
    deps.config.mode === 'dry-run'
      ? Promise.resolve()
      : loop(
          'writes',
          async () => (await worker.runOnce()).claimed > 0,
          () => writesWaker.wait(pollMs),
        );

  function scheduled(lockName: string, opts: SyncOptions, tick?: Date): Promise<SyncSummary | null> {
    if (stopping.signal.aborted) return Promise.resolve(null);
    const pass = runPass(lockName, opts, tick);
    passes.add(pass);
    const forget = () => passes.delete(pass);
    pass.then(forget, forget);
    return pass;
  }

  async function runPass(lockName: string, opts: SyncOptions, tick?: Date): Promise<SyncSummary | null> {
    const release = await deps.database.tryLock(lockName);
    if (!release) {
      log.debug({ job: lockName }, 'another replica runs this job');
      return null;
    }
    try {
      if (tick) {
        // Every replica's cron fires on the same tick: the first one to get the lock runs it,
        // the others see its run and skip, even when it finished before they looked.
        const [ran] = await deps.database.db
          .select({ id: syncRuns.id })
          .from(syncRuns)
          .where(
            and(gte(syncRuns.startedAt, tick.toISOString()), eq(syncRuns.kind, opts.reconcile ? 'reconcile' : 'sync')),
          )
          .limit(1);
        if (ran) return null;
      }
      if (deps.hookHealth && !opts.reconcile && !opts.connections) {
        // Service hooks the tracker had turned off are back on: sweep the window events were lost in.
        const { sweep } = await deps.hookHealth.check().catch((err: unknown) => {
          log.error({ err }, 'service hook health check failed');
          return { sweep: [] as string[] };
        });
        if (sweep.length > 0) {
          await runSync({ ...deps, pipeline }, { reconcile: true, connections: sweep, signal: stopping.signal });
        }
      }
      const summary = await runSync({ ...deps, pipeline }, { ...opts, signal: stopping.signal });
      deps.onSync?.(summary);
      log.info(
        {
          job: lockName,
          durationMs: summary.durationMs,
          connections: summary.connections.map((c) => [c.id, c.status, c.itemsChanged]),
        },
        'scheduled pass finished',
      );
      return summary;
    } finally {
      await release();
    }
  }

  const jobs: Cron[] = [];
  if (deps.schedule !== false) {
    jobs.push(
      new Cron(
        deps.config.schedule.sync,
        { protect: true, catch: (err) => log.error({ err }, 'scheduled sync failed') },
        async (job: Cron) => {
          await scheduled('schedule:sync', {}, job.currentRun() ?? new Date());
        },
      ),
      new Cron(
        deps.config.schedule.reconcile,
        { protect: true, catch: (err) => log.error({ err }, 'reconcile failed') },
        async (job: Cron) => {
          await scheduled('schedule:sync', { reconcile: true }, job.currentRun() ?? new Date());
        },
      ),
    );
  }

  return {
    wake() {
      webhooksWaker.wake();
    },
    triggerSync(opts = {}) {
      return scheduled('schedule:sync', opts);
    },
    async stop() {
      for (const j of jobs) j.stop();
      stopping.abort();
      // A loop ends after the step it is in (a claimed batch of writes is finished, never cut),
      // a pass at its next page or batch of writes.
      await Promise.allSettled([webhookLoop, writeLoop, ...passes]);
    },
  };
}

/**
 * An idle loop's sleep that work can cut short. A wake that comes while the loop is busy is
 * kept, so the next wait returns at once: work planned between a loop's empty look and its
 * sleep is not left for the next poll.
 */
function createWaker(stopping: AbortSignal) {
  let woken = false;
  let cut: (() => void) | null = null;
  return {
    wake() {
      woken = true;
      cut?.();
    },
    wait(ms: number): Promise<void> {
      if (woken || stopping.aborted) {
        woken = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          stopping.removeEventListener('abort', done);
          cut = null;
          woken = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        cut = done;
        stopping.addEventListener('abort', done);
      });
    },
  };
}
