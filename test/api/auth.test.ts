// Every /api route against every kind of caller: none, garbage, revoked, read and admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { type ApiHarness, openHarness, problemOf } from './helpers.ts';

const READ_ROUTES = [
  '/api/v1/portfolio',
  '/api/v1/programs/payments',
  '/api/v1/projects/jira-main/PAY',
  '/api/v1/items',
  '/api/v1/items/jira-main:PAY-1',
  '/api/v1/findings',
  '/api/v1/findings?format=csv',
  '/api/v1/rules',
  '/api/v1/history?scope=portfolio',
  '/api/v1/workspace/programs/payments',
  '/api/v1/workspace/programs/payments/dependencies',
  '/api/v1/workspace/epics/jira-main%3APAY-1',
  '/api/v1/workspace/items/jira-main%3APAY-3',
  '/api/v1/workspace/findings/1',
  '/api/v1/workspace/findings?group=owner',
  '/api/v1/workspace/findings?format=csv',
  '/api/v1/workspace/timeline',
];

for (const target of dbTargets()) {
  describe(`API auth on ${target.name}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => {
      await h.database.close();
    });

    it.each(READ_ROUTES)('GET %s: 401 without a token, 200 with read and admin', async (path) => {
      const none = await h.get(path, null);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await problemOf(none)).detail).toMatch(/Authorization: Bearer/);

      const garbage = await h.get(path, 'pmo_not-a-real-token');
      expect(garbage.status).toBe(401);
      await problemOf(garbage);

      const revoked = await h.get(path, h.tokens.revoked);
      expect(revoked.status).toBe(401);
      expect((await problemOf(revoked)).detail).toBe('The API token is unknown or revoked.');

      expect((await h.get(path, h.tokens.read)).status).toBe(200);
      expect((await h.get(path, h.tokens.admin)).status).toBe(200);
    });

    it('rejects a malformed Authorization header and an oversized token with 401', async () => {
      for (const header of ['Basic abc', 'Bearer', 'Bearer a b', `Bearer pmo_${'x'.repeat(2000)}`]) {
        const res = await h.app.request('/api/v1/portfolio', { headers: { authorization: header } });
        expect(res.status).toBe(401);
        await problemOf(res);
      }
    });

    it('POST /api/v1/sync needs the admin scope', async () => {
      let calls = 0;
      const app = h.appWith({
        triggerSync: async () => {
          calls++;
          return { runId: 7 };
        },
      });
      const post = (token: string | null) =>
        app.request('/api/v1/sync', {
          method: 'POST',
          headers: token ? { authorization: `Bearer ${token}` } : {},
        });
      expect((await post(null)).status).toBe(401);
      expect((await post(h.tokens.revoked)).status).toBe(401);
      const read = await post(h.tokens.read);
      expect(read.status).toBe(403);
      expect((await problemOf(read)).detail).toMatch(/admin scope/);
      expect(calls).toBe(0);
      const admin = await post(h.tokens.admin);
      expect(admin.status).toBe(202);
      expect(await admin.json()).toEqual({ accepted: true, result: { runId: 7 } });
      expect(calls).toBe(1);
    });

    it('POST /api/v1/sync answers 503 when this process runs no syncs', async () => {
      const res = await h.app.request('/api/v1/sync', {
        method: 'POST',
        headers: { authorization: `Bearer ${h.tokens.admin}` },
      });
      expect(res.status).toBe(503);
      await problemOf(res);
    });

    it('leaves /healthz, /readyz, /metrics, /openapi.json and /docs open', async () => {
      for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
        expect((await h.get(path, null)).status, path).toBe(200);
      }
    });
  });
}
