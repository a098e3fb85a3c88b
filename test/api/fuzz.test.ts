// Property: whatever query string a caller sends to a list route, the answer is never a 5xx, and
// every 4xx carries a problem body; and whatever body anyone posts to the routes that read one
// (sign-in; the webhook routes in test/integration/webhook-routes.test.ts) — oversized, lying
// about its length, deeply nested, slow or stalled — the answer is a 2xx, 3xx or 4xx.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config } from '../../src/config/schema.ts';
import { dbTargets } from '../helpers/db.ts';
import { config } from './fixture.ts';
import { type ApiHarness, openHarness } from './helpers.ts';

const ROUTES = [
  '/api/v1/items',
  '/api/v1/findings',
  '/api/v1/portfolio',
  '/api/v1/history',
  '/api/v1/items/jira-main:PAY-1',
  '/api/v1/programs/payments',
];
const KEYS = [
  'limit',
  'cursor',
  'format',
  'kind',
  'statusCategory',
  'program',
  'tracker',
  'connection',
  'project',
  'hasFindings',
  'q',
  'rule',
  'severity',
  'status',
  'ref',
  'scope',
  'from',
  'to',
];
const VALUES = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '',
    'csv',
    'json',
    'epic',
    'true',
    'portfolio',
    'program:payments',
    '%',
    "'; drop table x; --",
    '\u0000',
    'a\u0000b',
  ),
  fc.base64String({ maxLength: 60 }),
);

for (const target of dbTargets()) {
  describe(`bad query parameters on ${target.name}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => {
      await h.database.close();
    });

    it('never produce a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ROUTES),
          fc.array(fc.tuple(fc.constantFrom(...KEYS), VALUES), { maxLength: 5 }),
          async (route, pairs) => {
            const qs = new URLSearchParams(pairs).toString();
            const res = await h.get(`${route}?${qs}`);
            expect(res.status, `${route}?${qs}`).toBeLessThan(500);
            if (res.status >= 400) expect(res.headers.get('content-type')).toBe('application/problem+json');
            await res.arrayBuffer();
          },
        ),
        { numRuns: 150 },
      );
    });

    it.each([
      '/api/v1/items?q=%00',
      '/api/v1/items?connection=a%00b',
      '/api/v1/items?q=%ED%A0%80',
      '/api/v1/items?q=%FF%FE',
      '/api/v1/items/jira%00:x',
      '/api/v1/items/%ED%A0%80:1',
      '/api/v1/findings?rule=%00',
      '/api/v1/history?scope=program:%00',
      '/api/v1/programs/%00',
      '/api/v1/projects/a/%00',
      `/api/v1/items?cursor=${Buffer.from('{"v":1,"k":"\\u0000"}').toString('base64url')}`,
    ])('%s is a 4xx or a 200, never a 5xx (NUL bytes and broken UTF-8)', async (path) => {
      const res = await h.get(path);
      expect(res.status).toBeLessThan(500);
    });

    it('posted bodies of any size, shape or pace never produce a 5xx', async () => {
      const app = h.appWith({ config: Config.parse({ ...config, server: { limits: { bodyTimeoutSeconds: 1 } } }) });
      const stalled = (prefix: string) =>
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode(prefix));
          },
        });
      const body = fc.oneof(
        fc.string({ maxLength: 200 }).map((t) => new URLSearchParams({ token: t }).toString()),
        fc.string({ maxLength: 5000 }),
        fc.integer({ min: 4 * 1024, max: 600 * 1024 }).map((n) => `token=${'x'.repeat(n)}`),
        fc.integer({ min: 10, max: 50_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
        fc.uint8Array({ maxLength: 3000 }),
        fc.constant('stall'),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/login', '/logout', '/api/v1/sync', '/api/v1/items'),
          body,
          fc.constantFrom(
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/json',
            '',
          ),
          fc.option(fc.constantFrom('0', '1', '99999999', 'abc', '-1')),
          async (path, raw, type, length) => {
            const headers: Record<string, string> = {};
            if (type) headers['content-type'] = type;
            if (length !== null) headers['content-length'] = length;
            const res = await app.request(path, {
              method: 'POST',
              headers,
              body: raw === 'stall' ? stalled('token=') : raw,
              duplex: 'half',
            } as RequestInit);
            expect(res.status, path).toBeLessThan(500);
            await res.arrayBuffer();
          },
        ),
        { numRuns: 150 },
      );
      // Still signing people in.
      const ok = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token: h.tokens.read }) });
      expect(ok.status).toBe(303);
    });

    it('never produce a 5xx for raw, possibly malformed query strings', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 80 }), async (raw) => {
          const res = await h.get(`/api/v1/items?${raw.replace(/#/g, '%23')}`);
          expect(res.status).toBeLessThan(500);
          await res.arrayBuffer();
        }),
        { numRuns: 100 },
      );
    });
  });
}
