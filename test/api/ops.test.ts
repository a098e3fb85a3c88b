// Operations routes, the OpenAPI document (checked by an OpenAPI validator) and the docs page.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { dbTargets } from '../helpers/db.ts';
import { NOW } from './fixture.ts';
import { type ApiHarness, openHarness } from './helpers.ts';

const metricLine = (text: string, name: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .sort();

for (const target of dbTargets()) {
  describe(`operations routes on ${target.name}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => {
      await h.database.close();
    });

    it('GET /healthz answers ok', async () => {
      const res = await h.get('/healthz', null);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('GET /readyz checks the database and migrations', async () => {
      const res = await h.get('/readyz', null);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.ok).toBe(true);
      expect(body.checks.database).toMatchObject({ ok: true, driver: target.name });
      expect(body.checks.migrations).toMatchObject({ ok: true });
      expect(body.checks.migrations.applied).toBe(body.checks.migrations.expected);
    });

    it('GET /readyz merges the readiness dependency and answers 503 when it fails', async () => {
      const ok = h.appWith({ readiness: async () => ({ ok: true, checks: { freshness: { ok: true, stale: [] } } }) });
      const good = await h.get('/readyz', null, ok);
      expect(good.status).toBe(200);
      expect((await good.json()).checks.freshness).toEqual({ ok: true, stale: [] });

      const stale = h.appWith({
        readiness: async () => ({ ok: false, checks: { freshness: { ok: false, stale: ['ado-main'] } } }),
      });
      const bad = await h.get('/readyz', null, stale);
      expect(bad.status).toBe(503);
      expect(await bad.json()).toMatchObject({ ok: false, checks: { freshness: { ok: false, stale: ['ado-main'] } } });

      const broken = h.appWith({
        readiness: async () => {
          throw new Error('boom');
        },
      });
      const res = await h.get('/readyz', null, broken);
      expect(res.status).toBe(503);
      expect((await res.json()).checks.extra).toEqual({ ok: false, error: 'readiness checks failed; see the log' });
    });

    it('GET /metrics reports queues, dead letters, webhook lag and tracker traffic from the database', async () => {
      await h.get('/api/v1/items/jira-main:PAY-1');
      const res = await h.get('/metrics', null);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(metricLine(text, 'pmo_sync_outbox_depth{')).toEqual([
        'pmo_sync_outbox_depth{status="dead"} 1',
        'pmo_sync_outbox_depth{status="done"} 1',
        'pmo_sync_outbox_depth{status="in_flight"} 0',
        'pmo_sync_outbox_depth{status="pending"} 1',
        'pmo_sync_outbox_depth{status="planned"} 0',
        'pmo_sync_outbox_depth{status="superseded"} 0',
      ]);
      expect(metricLine(text, 'pmo_sync_dead_letters{')).toEqual([
        'pmo_sync_dead_letters{queue="outbox"} 1',
        'pmo_sync_dead_letters{queue="webhook"} 0',
      ]);
      expect(metricLine(text, 'pmo_sync_webhook_inbox_depth{status="pending"}')).toEqual([
        'pmo_sync_webhook_inbox_depth{status="pending"} 1',
      ]);
      expect(metricLine(text, 'pmo_sync_webhook_lag_seconds ')).toEqual(['pmo_sync_webhook_lag_seconds 30']);
      expect(metricLine(text, 'pmo_sync_tracker_requests_total{')).toEqual([
        'pmo_sync_tracker_requests_total{connection="ado-main"} 12',
        'pmo_sync_tracker_requests_total{connection="jira-main"} 24',
      ]);
      expect(metricLine(text, 'pmo_sync_tracker_throttled_total{')).toEqual([
        'pmo_sync_tracker_throttled_total{connection="ado-main"} 1',
        'pmo_sync_tracker_throttled_total{connection="jira-main"} 2',
      ]);
      expect(metricLine(text, 'pmo_sync_reconcile_repaired_total{')).toEqual([
        'pmo_sync_reconcile_repaired_total{connection="ado-main"} 0',
        'pmo_sync_reconcile_repaired_total{connection="jira-main"} 0',
      ]);
      expect(metricLine(text, 'pmo_sync_last_sync_duration_seconds{')).toEqual([
        'pmo_sync_last_sync_duration_seconds{connection="all",kind="sync",status="ok"} 4',
        'pmo_sync_last_sync_duration_seconds{connection="jira-main",kind="sync",status="ok"} 2',
      ]);
      // Route patterns, never raw paths, label the request metrics.
      expect(text).toContain('pmo_sync_http_requests_total{method="GET",route="/api/v1/items/:ref",status="200"}');
      expect(text).not.toContain('PAY-1');
    });

    it('can require a token for /metrics', async () => {
      const app = h.appWith({ protectMetrics: true });
      expect((await h.get('/metrics', null, app)).status).toBe(401);
      expect((await h.get('/metrics', h.tokens.read, app)).status).toBe(200);
      expect((await h.get('/healthz', null, app)).status).toBe(200);
    });

    it('serves metrics registered by the caller on a shared registry', async () => {
      const metrics = createMetrics({ db: h.database.db, log: silentLogger(), now: () => NOW });
      metrics.syncDuration.observe({ connection: 'jira-main', kind: 'sync' }, 3.5);
      const app = h.appWith({ metrics });
      const text = await (await h.get('/metrics', null, app)).text();
      expect(text).toContain('pmo_sync_sync_duration_seconds_sum{connection="jira-main",kind="sync"} 3.5');
    });

    it('mounts extra routes (webhooks) without a token, before the catch-all 404', async () => {
      const app = h.appWith({ mount: (a) => a.post('/webhooks/test/:connection', (c) => c.body(null, 202)) });
      const res = await app.request('/webhooks/test/jira-main', { method: 'POST', body: '{}' });
      expect(res.status).toBe(202);
      expect((await app.request('/webhooks/nope', { method: 'POST' })).status).toBe(404);
    });

    it('serves an OpenAPI 3.1 document that a validator accepts and that lists every route', async () => {
      const doc = await (await h.get('/openapi.json', null)).json();
      const validator = new Validator();
      const result = await validator.validate(doc);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(validator.version).toBe('3.1');
      expect(Object.keys(doc.paths).sort()).toEqual(
        [
          '/api/v1/baselines',
          '/api/v1/baselines/{name}/slip',
          '/api/v1/forecasts',
          '/api/v1/findings',
          '/api/v1/history',
          '/api/v1/items',
          '/api/v1/items/{ref}',
          '/api/v1/portfolio',
          '/api/v1/programs/{id}',
          '/api/v1/projects/{connection}/{project}',
          '/api/v1/rules',
          '/api/v1/sync',
          '/api/v1/admin/writes',
          '/api/v1/workspace/epics/{ref}',
          '/api/v1/workspace/epics/{ref}/burnup',
          '/api/v1/workspace/findings',
          '/api/v1/workspace/findings/{id}',
          '/api/v1/workspace/items/{ref}',
          '/api/v1/workspace/programs/{id}',
          '/api/v1/workspace/programs/{id}/burnup',
          '/api/v1/workspace/programs/{id}/dependencies',
          '/api/v1/workspace/slip',
          '/api/v1/workspace/timeline',
          '/healthz',
          '/metrics',
          '/readyz',
        ].sort(),
      );
      expect(doc.paths['/api/v1/sync'].post.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/healthz'].get.security).toBeUndefined();
    });

    it('serves a docs page rendered from the document, with no external resources', async () => {
      const res = await h.get('/docs', null);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).toContain('/api/v1/findings');
      expect(html).not.toMatch(/(src|href)="https?:/);
    });
  });
}
