// Operations routes, open without a token: liveness, readiness and Prometheus metrics.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
// Imported rather than read from disk: the journal ships inside the bundle (Workers has no fs).
import journal from '../../../db/migrations/meta/_journal.json' with { type: 'json' };
import { queryRows } from '../../../db/query.ts';
import { kv } from '../../../db/schema.ts';
import { describeError } from '../db-errors.ts';
import type { AppDeps } from '../deps.ts';
import type { AppMetrics } from '../metrics.ts';
import { json } from '../openapi.ts';

const Check = z.record(z.string(), z.unknown());
const Readiness = z.object({ ok: z.boolean(), checks: z.record(z.string(), Check) }).openapi('Readiness');

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['Operations'],
  summary: 'Liveness: the process answers',
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive') },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['Operations'],
  summary: 'Readiness: database reachable and writable, migrations current, background work passing, data fresh',
  responses: { 200: json(Readiness, 'Ready'), 503: json(Readiness, 'Not ready; failing checks say why') },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['Operations'],
  summary: 'Prometheus metrics',
  responses: { 200: { content: { 'text/plain': { schema: z.string() } }, description: 'Prometheus text format' } },
});

/**
 * The database answers and takes a write. A database on a full disk (or read-only) still
 * answers reads while every background write fails, so the probe writes: an upsert of one small
 * kv row, the same statement whatever replica runs it.
 */
async function checkDatabase(deps: AppDeps, now: () => Date): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  try {
    await queryRows(deps.database.db, sql`select 1 as ok`);
  } catch (err) {
    deps.log.warn({ err }, 'readiness: database unreachable');
    return { ok: false, driver: deps.database.driver, error: 'database unreachable' };
  }
  try {
    const value = { at: now().toISOString() };
    await deps.database.db
      .insert(kv)
      .values({ key: 'readyz:write-probe', value })
      .onConflictDoUpdate({ target: kv.key, set: { value, updatedAt: value.at } });
  } catch (err) {
    deps.log.warn({ err }, 'readiness: the database rejects writes');
    return { ok: false, driver: deps.database.driver, error: `the database rejects writes: ${describeError(err)}` };
  }
  return { ok: true, driver: deps.database.driver, latencyMs: Math.round(performance.now() - t0) };
}

/** Migrations are current when the newest applied one is the newest in the migrations folder. */
async function checkMigrations(deps: AppDeps): Promise<Record<string, unknown>> {
  try {
    const latest = journal.entries.at(-1);
    const [row] = await queryRows<{ applied: number; newest: string | null }>(
      deps.database.db,
      sql`select count(*)::int as applied, max(created_at)::text as newest from drizzle.__drizzle_migrations`,
    );
    const newest = row?.newest ? Number(row.newest) : 0;
    const ok = latest === undefined || newest >= latest.when;
    return { ok, applied: Number(row?.applied ?? 0), expected: journal.entries.length, latest: latest?.tag ?? null };
  } catch (err) {
    deps.log.warn({ err }, 'readiness: cannot read migration state');
    return { ok: false, error: 'migration state unreadable (run `pmo-sync migrate`)' };
  }
}

export function registerOpsRoutes(app: OpenAPIHono, deps: AppDeps, metrics: AppMetrics, now: () => Date): void {
  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readyRoute, async (c) => {
    const [database, migrations] = await Promise.all([checkDatabase(deps, now), checkMigrations(deps)]);
    const checks: Record<string, Record<string, unknown>> = { database, migrations };
    let ok = database.ok === true && migrations.ok === true;
    if (deps.readiness) {
      try {
        const extra = await deps.readiness();
        for (const [name, value] of Object.entries(extra.checks))
          checks[name] = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : { value };
        ok &&= extra.ok;
      } catch (err) {
        deps.log.warn({ err }, 'readiness: extra checks failed');
        checks.extra = { ok: false, error: 'readiness checks failed; see the log' };
        ok = false;
      }
    }
    return ok ? c.json({ ok, checks }, 200) : c.json({ ok, checks }, 503);
  });

  app.openapi(metricsRoute, async (c) => {
    const body = await metrics.registry.metrics();
    return c.text(body, 200, { 'content-type': metrics.registry.contentType });
  });
}
