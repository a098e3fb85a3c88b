// Prometheus metrics on a registry owned by one app (never prom-client's global default, so two
// apps in one process — tests, replicas in a demo — never share or clash). Queue depths, dead
// letters, webhook lag and per-connection tracker traffic are read from the database at scrape
// time: they then hold for the whole cluster, not just this replica.
import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import type { Logger } from '../core/log.ts';
import { loadHookHealth } from '../server/hook-health.ts';

export interface AppMetrics {
  registry: Registry;
  /** HTTP requests by method, matched route and status (set by the app's middleware). */
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  /** For the process that runs syncs: observe each pass (`kind` = sync | reconcile | webhook). */
  syncDuration: Histogram<'connection' | 'kind'>;
  /** Webhook deliveries the tracker marked as retries (X-Atlassian-Webhook-Retry), received by this process. */
  webhookRetries: Counter<'tracker' | 'connection'>;
}

const OUTBOX_STATUSES = ['pending', 'in_flight', 'done', 'dead', 'superseded', 'planned'];
const QUARANTINE_STAGES = ['store', 'evaluate', 'plan'];
const INBOX_STATUSES = ['pending', 'processing', 'done', 'dead'];

export function createMetrics(opts: { db: Db; log: Logger; registry?: Registry; now: () => Date }): AppMetrics {
  const registry = opts.registry ?? new Registry();
  const { db, log } = opts;
  // A failing scrape query must not fail the whole scrape: the other metrics are still worth having.
  const guarded = (name: string, fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      log.warn({ err, metric: name }, 'metrics collection failed');
    }
  };

  const httpRequests = new Counter({
    name: 'pmo_sync_http_requests_total',
    help: 'HTTP requests served, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'pmo_sync_http_request_duration_seconds',
    help: 'HTTP request duration by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const syncDuration = new Histogram({
    name: 'pmo_sync_sync_duration_seconds',
    help: 'Duration of sync passes run by this process',
    labelNames: ['connection', 'kind'] as const,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });

  const webhookRetries = new Counter({
    name: 'pmo_sync_webhook_retries_total',
    help: 'Webhook deliveries the tracker marked as retries of one it thinks failed (Jira: X-Atlassian-Webhook-Retry), received by this process',
    labelNames: ['tracker', 'connection'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'pmo_sync_tracker_quota_paused_until_seconds',
    help: "Unix time until which the tracker's points quota paused the connection in its latest sync (0: no pause in it)",
    labelNames: ['connection'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_tracker_quota_paused_until_seconds', async () => {
        const rows = await queryRows<{ connection: string; until: string | null }>(
          db,
          sql`select distinct on (c->>'id') c->>'id' as connection, c->>'quotaPausedUntil' as until
              from sync_runs r
              cross join lateral jsonb_array_elements(
                case when jsonb_typeof(r.summary->'connections') = 'array' then r.summary->'connections' else '[]'::jsonb end
              ) c
              where r.finished_at is not null and c->>'id' is not null
              order by c->>'id', r.finished_at desc`,
        );
        this.reset();
        for (const r of rows) {
          const at = r.until ? Date.parse(r.until) : Number.NaN;
          this.set({ connection: r.connection }, Number.isNaN(at) ? 0 : at / 1000);
        }
      })();
    },
  });

  new Gauge({
    name: 'pmo_sync_outbox_depth',
    help: 'Tracker writes in the outbox by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_outbox_depth', async () => {
        const rows = await queryRows<{ status: string; n: number }>(
          db,
          sql`select status, count(*)::int as n from write_outbox group by status`,
        );
        this.reset();
        for (const s of OUTBOX_STATUSES) this.set({ status: s }, 0);
        for (const r of rows) this.set({ status: r.status }, Number(r.n));
      })();
    },
  });

  new Gauge({
    name: 'pmo_sync_webhook_inbox_depth',
    help: 'Webhook deliveries in the inbox by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_webhook_inbox_depth', async () => {
        const rows = await queryRows<{ status: string; n: number }>(
          db,
          sql`select status, count(*)::int as n from webhook_inbox group by status`,
        );
        this.reset();
        for (const s of INBOX_STATUSES) this.set({ status: s }, 0);
        for (const r of rows) this.set({ status: r.status }, Number(r.n));
      })();
    },
  });

  new Gauge({
    name: 'pmo_sync_dead_letters',
    help: 'Writes and webhook deliveries that exhausted their retries',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_dead_letters', async () => {
        const [row] = await queryRows<{ outbox: number; inbox: number }>(
          db,
          sql`select (select count(*) from write_outbox where status = 'dead')::int as outbox,
                     (select count(*) from webhook_inbox where status = 'dead')::int as inbox`,
        );
        this.set({ queue: 'outbox' }, Number(row?.outbox ?? 0));
        this.set({ queue: 'webhook' }, Number(row?.inbox ?? 0));
      })();
    },
  });

  new Gauge({
    name: 'pmo_sync_quarantined_items',
    help: 'Items in quarantine by connection and stage (store, evaluate, plan): each is retried by the next pass',
    labelNames: ['connection', 'stage'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_quarantined_items', async () => {
        const rows = await queryRows<{ connection: string; stage: string; n: number }>(
          db,
          sql`select connection, stage, count(*)::int as n from quarantine group by connection, stage`,
        );
        const connections = await connectionTotals(db);
        this.reset();
        // Every connection that has synced shows 0 at each stage, so an alert on > 0 sees it clear.
        for (const { connection } of connections)
          for (const stage of QUARANTINE_STAGES) this.set({ connection, stage }, 0);
        for (const r of rows) this.set({ connection: r.connection, stage: r.stage }, Number(r.n));
      })();
    },
  });

  new Gauge({
    name: 'pmo_sync_webhook_lag_seconds',
    help: 'Age of the oldest webhook delivery not yet processed (0 when none waits)',
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_webhook_lag_seconds', async () => {
        const [row] = await queryRows<{ oldest: string | null }>(
          db,
          sql`select min(received_at) as oldest from webhook_inbox where status in ('pending', 'processing')`,
        );
        const oldest = row?.oldest ? Date.parse(new Date(row.oldest).toISOString()) : null;
        this.set(oldest === null ? 0 : Math.max(0, (opts.now().getTime() - oldest) / 1000));
      })();
    },
  });

  new Gauge({
    name: 'pmo_sync_last_sync_duration_seconds',
    help: 'Duration of the latest finished sync run, by connection (all = a run over every connection) and kind',
    labelNames: ['connection', 'kind', 'status'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_last_sync_duration_seconds', async () => {
        const rows = await queryRows<{ connection: string; kind: string; status: string; seconds: number }>(
          db,
          sql`select distinct on (coalesce(connection, 'all'), kind)
                coalesce(connection, 'all') as connection, kind, status,
                extract(epoch from (finished_at - started_at))::float8 as seconds
              from sync_runs where finished_at is not null
              order by coalesce(connection, 'all'), kind, finished_at desc`,
        );
        this.reset();
        for (const r of rows)
          this.set({ connection: r.connection, kind: r.kind, status: r.status }, Math.max(0, Number(r.seconds)));
      })();
    },
  });

  new Gauge({
    name: 'pmo_sync_last_success_timestamp_seconds',
    help: 'Unix time of the latest successful sync of each connection',
    labelNames: ['connection'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_last_success_timestamp_seconds', async () => {
        const rows = await connectionTotals(db);
        this.reset();
        for (const r of rows)
          if (r.last_ok) this.set({ connection: r.connection }, Date.parse(new Date(r.last_ok).toISOString()) / 1000);
      })();
    },
  });

  // Azure DevOps service hooks by status, as the latest scheduled check found them: an alert on
  // status!="enabled" > 0 sees probation (events lost meanwhile) and disabling.
  new Gauge({
    name: 'pmo_sync_service_hooks',
    help: 'Service hook subscriptions by connection and status (enabled, probation, disabled-by-system, disabled-by-user, disabled-other)',
    labelNames: ['connection', 'status'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_service_hooks', async () => {
        const states = await loadHookHealth(db);
        this.reset();
        for (const [connection, s] of states) {
          for (const status of ['enabled', 'probation', 'disabled-by-system', 'disabled-by-user', 'disabled-other'])
            this.set({ connection, status }, s.subscriptions.filter((x) => x.status === status).length);
        }
      })();
    },
  });

  new Gauge({
    name: 'pmo_sync_service_hook_last_sweep_timestamp_seconds',
    help: 'Unix time of the latest sweep over a window in which service hook events may have been lost, by connection',
    labelNames: ['connection'] as const,
    registers: [registry],
    async collect() {
      await guarded('pmo_sync_service_hook_last_sweep_timestamp_seconds', async () => {
        const states = await loadHookHealth(db);
        this.reset();
        for (const [connection, s] of states)
          if (s.lastSweep) this.set({ connection }, Date.parse(s.lastSweep.at) / 1000);
      })();
    },
  });

  // Counters derived from the recorded runs: sync_runs only grows, so the sums never go down.
  for (const [name, field, help] of [
    ['pmo_sync_tracker_requests_total', 'requests', 'Tracker API requests made by syncs, per connection'],
    [
      'pmo_sync_tracker_throttled_total',
      'throttled',
      'Tracker responses that throttled a sync (429/503), per connection',
    ],
    ['pmo_sync_tracker_retries_total', 'retries', 'Tracker requests retried by syncs, per connection'],
    [
      'pmo_sync_tracker_quota_pauses_total',
      'quota_pauses',
      "Times the tracker's points quota paused a sync's whole connection until its reset, per connection",
    ],
    [
      'pmo_sync_reconcile_repaired_total',
      'repaired',
      'Drift repaired by sync and reconcile passes (items found deleted or missing), per connection',
    ],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ['connection'] as const,
      registers: [registry],
      async collect() {
        await guarded(name, async () => {
          const rows = await connectionTotals(db);
          this.reset();
          for (const r of rows) this.inc({ connection: r.connection }, Number(r[field]));
        })();
      },
    });
  }

  return { registry, httpRequests, httpDuration, syncDuration, webhookRetries };
}

interface ConnectionTotal {
  connection: string;
  requests: number;
  throttled: number;
  retries: number;
  quota_pauses: number;
  repaired: number;
  last_ok: string | null;
}

async function connectionTotals(db: Db): Promise<ConnectionTotal[]> {
  return queryRows<ConnectionTotal & Record<string, unknown>>(
    db,
    sql`select c->>'id' as connection,
          coalesce(sum(case when (c->>'requests') ~ '^[0-9]+$' then (c->>'requests')::bigint end), 0)::float8 as requests,
          coalesce(sum(case when (c->>'throttled') ~ '^[0-9]+$' then (c->>'throttled')::bigint end), 0)::float8 as throttled,
          coalesce(sum(case when (c->>'retries') ~ '^[0-9]+$' then (c->>'retries')::bigint end), 0)::float8 as retries,
          coalesce(sum(case when (c->>'quotaPauses') ~ '^[0-9]+$' then (c->>'quotaPauses')::bigint end), 0)::float8 as quota_pauses,
          coalesce(sum(case when (c->>'itemsRepaired') ~ '^[0-9]+$' then (c->>'itemsRepaired')::bigint end), 0)::float8
            + coalesce(sum(case when (c->>'itemsDeleted') ~ '^[0-9]+$' then (c->>'itemsDeleted')::bigint end), 0)::float8 as repaired,
          max(r.finished_at) filter (where c->>'status' = 'ok') as last_ok
        from sync_runs r
        cross join lateral jsonb_array_elements(
          case when jsonb_typeof(r.summary->'connections') = 'array' then r.summary->'connections' else '[]'::jsonb end
        ) c
        where r.finished_at is not null and c->>'id' is not null
        group by c->>'id' order by 1`,
  );
}
