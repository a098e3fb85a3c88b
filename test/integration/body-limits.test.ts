// Request bodies over real sockets against the real app: an oversized body is refused with 413
// before it is buffered and before the connection id is looked up, whether it declares its
// length or streams chunked without one; the server answers having read little more than the
// limit; a body that trickles in gets 408; many at once cannot add up past the
// in-flight budget; sign-in takes a few KB; limits count bytes, not UTF-16 units.
import { createHmac } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../../connectors/index.ts';
import type { Database } from '../../db/client.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { createWebhookReceiver } from '../../src/webhooks/receive.ts';
import { mountWebhookRoutes } from '../../src/webhooks/routes.ts';
import { openPglite } from '../helpers/pglite.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const SECRET = 'body-limit-secret';
const MiB = 2 ** 20;
const WEBHOOK_LIMIT = 2 * MiB;
const IN_FLIGHT = 6 * MiB;
const FIFTY_MB = 50 * 1000 * 1000;
/**
 * What the server may read past the limit: its stream buffers, and what Node reads and discards
 * between sending the refusal and closing the socket (longer on a loaded machine).
 */
const READ_SLACK = 8 * MiB;

interface Served {
  port: number;
  sockets: Socket[];
  close(): Promise<void>;
}

describe('request body limits over real sockets', () => {
  let database: Database;
  let token: string;
  let main: Served;
  // A second server whose body deadline is short, for the slow-body case alone: the other cases
  // must not race a deadline on a loaded machine.
  let hasty: Served;
  let port: number;
  let sockets: Socket[];

  const start = async (limits: string): Promise<Served> => {
    const { config } = parseConfig(
      `
server: { limits: ${limits} }
connections:
  - { id: jira-main, kind: jira, baseUrl: "http://127.0.0.1:9", auth: { email: a@b.test, apiToken: t-1234 }, scope: { projects: [PAY] }, webhookSecret: "${SECRET}" }
`,
      { env: {} },
    );
    const log = silentLogger();
    const receive = createWebhookReceiver({
      db: database.db,
      connectors: createConnectors(config.connections, { log }),
      log,
    });
    const app = createApp({ database, config, log, mount: (a) => mountWebhookRoutes(a, receive, log) });
    const server: ServerType = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    const accepted: Socket[] = [];
    server.on('connection', (s: Socket) => accepted.push(s));
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return {
      port: (server.address() as AddressInfo).port,
      sockets: accepted,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  };

  beforeAll(async () => {
    database = await openPglite();
    ({ token } = await createToken(database.db, { scope: 'read' }));
    main = await start(`{ webhookBodyBytes: ${WEBHOOK_LIMIT}, bodiesInFlightBytes: ${IN_FLIGHT} }`);
    hasty = await start('{ bodyTimeoutSeconds: 0.5 }');
    ({ port, sockets } = main);
  });
  afterAll(async () => {
    await main.close();
    await hasty.close();
    await database.close();
  });

  /** Bytes the server read from the connection it accepted last (once that connection is gone). */
  const serverRead = async () => {
    const s = sockets.at(-1)!;
    if (!s.destroyed) await new Promise((r) => s.once('close', r));
    return s.bytesRead;
  };

  it('cuts a chunked 50 MB body without Content-Length at the limit, reading little more of it', async () => {
    const res = await rawRequest({ port, path: '/webhooks/jira/jira-main', total: FIFTY_MB, chunked: true });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({
      type: 'about:blank',
      title: 'Content Too Large',
      status: 413,
      detail: `The request body is larger than ${WEBHOOK_LIMIT} bytes.`,
    });
    const read = await serverRead();
    expect(read).toBeGreaterThan(WEBHOOK_LIMIT);
    expect(read).toBeLessThan(WEBHOOK_LIMIT + READ_SLACK);
    expect(res.sent).toBeLessThan(FIFTY_MB);
  });

  it('gets the 413 to clients that send their whole body before reading the answer', async () => {
    const raw = await rawRequest({
      port,
      path: '/webhooks/jira/jira-main',
      total: FIFTY_MB,
      chunked: true,
      keepSending: true,
    });
    expect(raw.status).toBe(413);
    const chunk = new Uint8Array(64 * 1024).fill(120);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= FIFTY_MB) c.close();
        else {
          sent += chunk.length;
          c.enqueue(chunk);
        }
      },
    });
    const res = await fetch(`http://127.0.0.1:${port}/webhooks/jira/jira-main`, {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    await res.arrayBuffer();
  });

  it('refuses a declared 100 MB body at once, before reading any of it', async () => {
    const res = await rawRequest({
      port,
      path: '/webhooks/jira/jira-main',
      declaredLength: 100 * 1000 * 1000,
      total: 0,
      stallAfter: 0,
    });
    expect(res.status).toBe(413);
    expect(await serverRead()).toBeLessThan(1024);
  });

  it('answers 413 before the connection lookup: an unknown connection id learns nothing new', async () => {
    for (const path of ['/webhooks/jira/no-such-connection', '/webhooks/azure-devops/no-such-connection']) {
      const res = await rawRequest({ port, path, total: 10 * MiB, chunked: true });
      expect({ path, status: res.status }).toEqual({ path, status: 413 });
    }
  });

  it('counts bytes, not UTF-16 units: 2.4 MB of "€" is over a 2 MiB limit though it is 800,000 units', async () => {
    const body = `{"webhookEvent":"x","pad":"${'€'.repeat(800_000)}"}`;
    expect(body.length).toBeLessThan(WEBHOOK_LIMIT);
    const bytes = Buffer.from(body);
    const sig = `sha256=${createHmac('sha256', SECRET).update(bytes).digest('hex')}`;
    for (const chunked of [false, true]) {
      const res = await rawRequest({
        port,
        path: '/webhooks/jira/jira-main',
        headers: { 'x-hub-signature': sig, 'content-type': 'application/json' },
        total: bytes.length,
        chunk: bytes,
        chunked,
      });
      expect({ chunked, status: res.status }).toEqual({ chunked, status: 413 });
    }
  });

  it('takes a body of exactly the limit in bytes', async () => {
    const head = '{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"PAY-1"},"pad":"';
    const filler = WEBHOOK_LIMIT - Buffer.byteLength(`${head}"}`);
    const body = Buffer.from(`${head}${'a'.repeat(filler % 2)}${'é'.repeat(Math.floor(filler / 2))}"}`);
    expect(body.length).toBe(WEBHOOK_LIMIT);
    const res = await rawRequest({
      port,
      path: '/webhooks/jira/jira-main',
      headers: { 'x-hub-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
      total: body.length,
      chunk: body,
      chunked: true,
    });
    expect({ status: res.status, body: JSON.parse(res.body) }).toEqual({
      status: 202,
      body: { status: 'accepted', deliveryId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
    });
  });

  it('answers 408 when a body stops arriving', async () => {
    const at = hasty.port;
    const res = await rawRequest({ port: at, path: '/webhooks/jira/jira-main', total: 1000, stallAfter: 10 });
    expect(res.status).toBe(408);
    const chunked = await rawRequest({ port: at, path: '/login', total: 1000, chunked: true, stallAfter: 10 });
    expect(chunked.status).toBe(408);
  });

  it('refuses 20 concurrent 50 MB bodies with 413 or 503, never holding more than the in-flight budget', async () => {
    const before = sockets.length;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        rawRequest({
          port,
          path: i % 2 ? '/webhooks/jira/jira-main' : '/webhooks/azure-devops/other',
          total: FIFTY_MB,
          chunked: i % 4 < 2,
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 413 || s === 503)).toBe(true);
    for (const r of results.filter((x) => x.status === 503)) expect(r.headers['retry-after']).toBe('1');
    const mine = sockets.slice(before);
    await Promise.all(mine.map((s) => (s.destroyed ? null : new Promise((r) => s.once('close', r)))));
    const read = mine.reduce((n, s) => n + s.bytesRead, 0);
    expect(read).toBeLessThan(20 * (WEBHOOK_LIMIT + READ_SLACK));
    // Still answering, and the budget was given back: a normal sign-in goes through.
    const res = await fetch(`http://127.0.0.1:${port}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
  });

  it('takes a few KB at /login and refuses more, before looking at the token', async () => {
    const big = new URLSearchParams({ token, pad: 'x'.repeat(8 * 1024) }).toString();
    const res = await rawRequest({
      port,
      path: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      total: Buffer.byteLength(big),
      chunk: Buffer.from(big),
    });
    expect(res.status).toBe(413);
    const huge = await rawRequest({ port, path: '/login', total: FIFTY_MB, chunked: true });
    expect(huge.status).toBe(413);
    expect(await serverRead()).toBeLessThan(4 * 1024 + READ_SLACK);
    const ok = await fetch(`http://127.0.0.1:${port}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token }),
      redirect: 'manual',
    });
    expect(ok.status).toBe(303);
  });
});
