// A database outage through the real app: the API, the dashboard, sign-in and the webhook routes
// answer 503 with Retry-After (not 500), and nothing logged carries a query's values — the
// token hash a lookup ran with, a search term, a webhook body. Two outages: a PGlite that was
// closed, and a Postgres URL whose port nothing listens on.
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../../connectors/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { SESSION_COOKIE } from '../../src/dashboard/routes.tsx';
import { createApp } from '../../src/http/app.ts';
import { createWebhookReceiver } from '../../src/webhooks/receive.ts';
import { mountWebhookRoutes } from '../../src/webhooks/routes.ts';
import { openPglite } from '../helpers/pglite.ts';

const SECRET = 'outage-hook-secret';
const TOKEN = `pmo_${'t'.repeat(43)}`;
const SEARCH = 'needle-in-the-query-string';
const BODY_MARK = 'a-value-only-the-webhook-body-holds';

const { config } = parseConfig(
  `
connections:
  - { id: jira-main, kind: jira, baseUrl: "http://127.0.0.1:9", auth: { email: a@b.test, apiToken: t-1234 }, scope: { projects: [PAY] }, webhookSecret: "${SECRET}" }
`,
  { env: {} },
);

function appOver(database: Database, lines: string[]): OpenAPIHono {
  const log = createLogger({ level: 'debug', pretty: false, destination: { write: (l: string) => lines.push(l) } });
  const receive = createWebhookReceiver({
    db: database.db,
    connectors: createConnectors(config.connections, { log }),
    log,
  });
  return createApp({ database, config, log, mount: (a) => mountWebhookRoutes(a, receive, log) });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Every request a caller can make while the database is gone, and what it must get. */
async function probe(app: OpenAPIHono, sessionCookie: string) {
  const body = JSON.stringify({
    webhookEvent: 'jira:issue_updated',
    timestamp: Date.now(),
    issue: { id: '1', key: 'PAY-1', fields: {} },
    note: BODY_MARK,
  });
  const requests: [string, Request][] = [
    ['items', new Request('http://x/api/v1/items?q=' + SEARCH, { headers: { authorization: `Bearer ${TOKEN}` } })],
    ['portfolio', new Request('http://x/api/v1/portfolio', { headers: { authorization: `Bearer ${TOKEN}` } })],
    ['csv', new Request('http://x/api/v1/findings?format=csv', { headers: { authorization: `Bearer ${TOKEN}` } })],
    ['dashboard', new Request('http://x/', { headers: { cookie: sessionCookie } })],
    ['sign-in', new Request('http://x/login', { method: 'POST', body: new URLSearchParams({ token: TOKEN }) })],
    [
      'webhook',
      new Request('http://x/webhooks/jira/jira-main', {
        method: 'POST',
        body,
        headers: { 'x-hub-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
      }),
    ],
  ];
  const out: Record<string, { status: number; retryAfter: string | null }> = {};
  for (const [name, req] of requests) {
    const res = await app.request(req);
    await res.arrayBuffer();
    out[name] = { status: res.status, retryAfter: res.headers.get('retry-after') };
  }
  return out;
}

const EVERY_ROUTE_503 = Object.fromEntries(
  ['items', 'portfolio', 'csv', 'dashboard', 'sign-in', 'webhook'].map((n) => [n, { status: 503, retryAfter: '5' }]),
);

function expectNoQueryValues(lines: string[]) {
  const text = lines.join('');
  expect(lines.length).toBeGreaterThan(0);
  expect(text).not.toContain(createHash('sha256').update(TOKEN).digest('hex'));
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(SEARCH);
  expect(text).not.toContain(BODY_MARK);
  expect(text).not.toMatch(/params: (?!\[redacted\])/);
}

describe('a database outage', () => {
  it('closed PGlite: 503 with Retry-After everywhere, no query values in the log', async () => {
    const database = await openPglite();
    const { token } = await createToken(database.db, { scope: 'read' });
    const lines: string[] = [];
    const app = appOver(database, lines);
    const login = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    await database.close();

    expect(await probe(app, cookie)).toEqual(EVERY_ROUTE_503);
    expect((await app.request('/readyz')).status).toBe(503);
    expect((await app.request('/healthz')).status).toBe(200);
    expectNoQueryValues(lines);
  });

  describe('Postgres on a port nothing listens on', () => {
    let database: Database;
    const lines: string[] = [];
    beforeAll(async () => {
      database = await openDatabase(`postgres://postgres@127.0.0.1:${await closedPort()}/test`, { maxConnections: 1 });
    });
    afterAll(async () => {
      await database.close();
    });

    it('503 with Retry-After everywhere, no query values in the log', async () => {
      const app = appOver(database, lines);
      // Only these: postgres.js backs off between reconnects, so each further request waits longer.
      expect(await probe(app, `${SESSION_COOKIE}=pmos_${'s'.repeat(43)}`)).toEqual(EVERY_ROUTE_503);
      expectNoQueryValues(lines);
    });
  });
});
