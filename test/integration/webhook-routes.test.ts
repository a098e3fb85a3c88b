// The webhook routes through the real app with real captured payloads, signed with the real
// algorithms: replays (the same body under a new delivery id, or an event older than the
// freshness window) are not taken again, an unknown connection answers exactly as a bad
// signature does, a verified body that cannot be used is a 400; and 5,000 generated requests
// (oversized, deeply nested and out-of-range bodies among them) only ever get 2xx or 4xx.
// Oversized and slow bodies over real sockets: test/integration/body-limits.test.ts.
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../../connectors/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { webhookInbox } from '../../db/schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ServerLimits } from '../../src/config/schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createWebhookReceiver } from '../../src/webhooks/receive.ts';
import { mountWebhookRoutes } from '../../src/webhooks/routes.ts';
import { openPglite } from '../helpers/pglite.ts';

const SECRET = "It's a Secret to Everybody";
const BASIC = `Basic ${Buffer.from('pmo-sync:hook-password').toString('base64')}`;
const jiraDir = new URL('../../connectors/jira/__fixtures__/webhooks/', import.meta.url);
const adoDir = new URL('../../connectors/azure-devops/__fixtures__/', import.meta.url);
const jiraCaptures = readdirSync(jiraDir)
  .filter((f) => /^\d+_.*\.json$/.test(f))
  .map((f) => ({ name: f, body: readFileSync(new URL(f, jiraDir), 'utf8') }));
const adoCaptures = readdirSync(adoDir)
  .filter((f) => f.startsWith('hook-workitem.'))
  .map((f) => ({ name: f, body: readFileSync(new URL(f, adoDir), 'utf8').replace(/^\uFEFF/, '') }));

const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const HOUR = 3600_000;
const MAX_AGE = 48 * HOUR;

describe('webhook routes', () => {
  let database: Database;
  let app: Hono;
  let connectors: Map<string, Connector>;
  // The receiver's clock: set just after each captured event, so the freshness window admits it.
  let clock = new Date('2026-11-21T12:00:00.000Z');
  /** Sets the clock a minute after the event a body carries. */
  const justAfter = (connection: string, body: string) => {
    const occurred = connectors.get(connection)!.parseWebhook({ headers: new Headers(), rawBody: body }).occurredAt;
    clock = new Date(Date.parse(occurred!) + 60_000);
  };
  beforeAll(async () => {
    database = await openPglite();
    const { config } = parseConfig(
      `
connections:
  - { id: jira-main, kind: jira, baseUrl: "http://127.0.0.1:9", auth: { email: a@b.test, apiToken: t-1234 }, scope: { projects: [PAY] }, webhookSecret: "${SECRET}" }
  - { id: ado-main, kind: azure-devops, orgUrl: "http://127.0.0.1:9/acme", auth: { pat: p-1234 }, scope: { projects: [Fabrikam-Fiber-Git] }, webhookAuth: { username: pmo-sync, password: hook-password } }
`,
      { env: {} },
    );
    const log = silentLogger();
    connectors = createConnectors(config.connections, { log });
    app = new Hono();
    // The limits createApp would hand these routes, with a short deadline for the slow bodies.
    app.use('*', async (c, next) => {
      c.set('limits', ServerLimits.parse({ bodyTimeoutSeconds: 1 }));
      await next();
    });
    mountWebhookRoutes(
      app,
      createWebhookReceiver({ db: database.db, connectors, log, now: () => clock, maxEventAgeMs: MAX_AGE }),
      log,
    );
  });
  afterAll(async () => {
    await database.close();
  });

  const postJira = (body: string, headers: Record<string, string>, connection = 'jira-main') =>
    app.request(`/webhooks/jira/${connection}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const postAdo = (body: string, headers: Record<string, string>, connection = 'ado-main') =>
    app.request(`/webhooks/azure-devops/${connection}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('accepts every captured Jira Cloud payload signed with the secret once, under any delivery id', async () => {
    expect(jiraCaptures.length).toBeGreaterThanOrEqual(4);
    for (const [i, c] of jiraCaptures.entries()) {
      // Jira Server's zone-less timestamp is no instant: such a body has no freshness to check.
      if (!c.name.startsWith('server-')) justAfter('jira-main', c.body);
      const headers = { 'x-hub-signature': sign(c.body), 'x-atlassian-webhook-identifier': `delivery-${i}` };
      const first = await postJira(c.body, headers);
      expect({ name: c.name, status: first.status }).toEqual({ name: c.name, status: 202 });
      expect(['accepted', 'echo']).toContain(((await first.json()) as { status: string }).status);
      const again = await postJira(c.body, headers);
      expect(await again.json()).toEqual({ status: 'duplicate', deliveryId: `delivery-${i}` });
      // A replay: the same signed bytes under a delivery id never seen.
      const replay = await postJira(c.body, { ...headers, 'x-atlassian-webhook-identifier': `replay-${i}` });
      expect({ status: replay.status, body: await replay.json() }).toEqual({
        status: 202,
        body: { status: 'duplicate', deliveryId: `replay-${i}` },
      });
    }
    const stored = await database.db.select({ n: sql<number>`count(*)::int` }).from(webhookInbox);
    expect(stored[0]!.n).toBe(jiraCaptures.length);
  });

  it('accepts every Azure DevOps service hook payload with the configured basic auth, once per notification', async () => {
    expect(adoCaptures.length).toBe(5);
    for (const c of adoCaptures) {
      justAfter('ado-main', c.body);
      const first = await postAdo(c.body, { authorization: BASIC });
      expect({ name: c.name, status: first.status }).toEqual({ name: c.name, status: 202 });
      const again = await postAdo(c.body, { authorization: BASIC });
      expect(((await again.json()) as { status: string }).status).toBe('duplicate');
    }
  });

  it('rejects bad signatures and credentials with 401 and no detail', async () => {
    const body = jiraCaptures[0]!.body;
    const cases: Record<string, string>[] = [
      {},
      { 'x-hub-signature': sign(body, 'wrong secret') },
      { 'x-hub-signature': sign(`${body} `) },
      { 'x-hub-signature': 'sha256=' },
      { 'x-hub-signature': 'sha1=abc' },
    ];
    for (const headers of cases) {
      const res = await postJira(body, headers);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 401,
        body: { status: 'unauthorized', title: 'Unauthorized' },
      });
    }
    for (const authorization of [undefined, `Basic ${Buffer.from('pmo-sync:nope').toString('base64')}`, 'Bearer x']) {
      const res = await postAdo(adoCaptures[0]!.body, authorization ? { authorization } : {});
      expect(res.status).toBe(401);
    }
  });

  it('answers an unknown connection or the wrong tracker exactly as a bad signature, so ids cannot be probed', async () => {
    const body = jiraCaptures[0]!.body;
    const answer = async (res: Response) => ({
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: await res.text(),
    });
    const badSignature = await answer(await postJira(body, { 'x-hub-signature': sign(body, 'wrong secret') }));
    expect(badSignature.status).toBe(401);
    const probes = [
      await postJira(body, { 'x-hub-signature': sign(body) }, 'nope'),
      await postJira(body, { 'x-hub-signature': sign(body) }, 'ado-main'),
      await postAdo(adoCaptures[0]!.body, { authorization: BASIC }, 'jira-main'),
      await postAdo(adoCaptures[0]!.body, { authorization: BASIC }, 'nope'),
    ];
    for (const res of probes) expect(await answer(res)).toEqual(badSignature);
  });

  it('answers 400, not 5xx, to a verified body it cannot use, so the tracker stops resending it', async () => {
    clock = new Date('2026-11-21T12:00:00.000Z');
    const issue = (over: Record<string, unknown>) =>
      JSON.stringify({
        webhookEvent: 'jira:issue_updated',
        timestamp: clock.getTime(),
        issue: { id: '1', key: 'PAY-1', fields: {} },
        ...over,
      });
    const deep = (levels: number) =>
      `{"webhookEvent":"jira:issue_updated","x":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    const cases: Record<string, string> = {
      'not JSON': '{not json',
      'an array': '[]',
      'no event name': '{"webhookEvent": 42}',
      empty: '',
      'timestamp past the Date range': issue({ timestamp: 8.64e15 + 1 }),
      'timestamp 1e20': issue({ timestamp: 1e20 }),
      'negative timestamp': issue({ timestamp: -1e20 }),
      'timestamp in the year 275,000': issue({ timestamp: 8.64e15 }),
      '100,000 levels deep': deep(100_000),
      '129 levels deep': deep(129),
      'an issue key with a NUL': issue({ issue: { id: '1', key: 'PAY-\u0000', fields: {} } }),
      'an issue key with a lone surrogate': issue({ issue: { id: '1', key: 'PAY-\ud800', fields: {} } }),
    };
    for (const [name, bad] of Object.entries(cases)) {
      const res = await postJira(bad, {
        'x-hub-signature': sign(bad),
        'x-atlassian-webhook-identifier': `bad-${name}`,
      });
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
    }
    // ADO: credentials verify anything, so the same holds for any body it is sent.
    const adoDeep = `{"eventType":"workitem.updated","x":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`;
    expect((await postAdo(adoDeep, { authorization: BASIC })).status).toBe(400);
    // 128 levels is within bounds, and text Postgres cannot hold is stored replaced.
    const ok = issue({
      issue: { id: '1', key: 'PAY-2', fields: {} },
      x: JSON.parse(deep(126)).x,
      note: 'a\u0000b\udc00',
    });
    const res = await postJira(ok, { 'x-hub-signature': sign(ok), 'x-atlassian-webhook-identifier': 'deep-ok' });
    expect(res.status).toBe(202);
  });

  it("refuses an event older than the freshness window or too far ahead, and admits the trackers' retry spans", async () => {
    clock = new Date('2026-11-21T12:00:00.000Z');
    const at = (ms: number, key: string) =>
      JSON.stringify({
        webhookEvent: 'jira:issue_updated',
        timestamp: clock.getTime() + ms,
        issue: { id: key, key, fields: {} },
      });
    const post = (body: string, id: string) =>
      postJira(body, { 'x-hub-signature': sign(body), 'x-atlassian-webhook-identifier': id });
    const statuses = {
      // Jira retries for up to 30 minutes; Azure DevOps keeps a subscription on probation up to 36 h.
      jiraRetry: (await post(at(-30 * 60_000, 'FRESH-1'), 'f1')).status,
      probationRetry: (await post(at(-36 * HOUR, 'FRESH-2'), 'f2')).status,
      justInside: (await post(at(-MAX_AGE + 60_000, 'FRESH-3'), 'f3')).status,
      tooOld: (await post(at(-MAX_AGE - 60_000, 'OLD-1'), 'o1')).status,
      clockSkew: (await post(at(10 * 60_000, 'FRESH-4'), 'f4')).status,
      farAhead: (await post(at(20 * 60_000, 'OLD-2'), 'o2')).status,
    };
    expect(statuses).toEqual({
      jiraRetry: 202,
      probationRetry: 202,
      justInside: 202,
      tooOld: 400,
      clockSkew: 202,
      farAhead: 400,
    });
    const keys = await database.db
      .select({ keys: webhookInbox.keys })
      .from(webhookInbox)
      .where(sql`${webhookInbox.deliveryId} in ('o1', 'o2')`);
    expect(keys).toEqual([]);
  });

  it('answers 408 to bodies that trickle in or stop, before the connection lookup, and takes a slow one in time', async () => {
    const body = jiraCaptures[0]!.body;
    /** A body sent `pieces` bytes at a time, `gapMs` apart, stopping for good after `stopAfter` pieces. */
    const trickle = (pieces: number, gapMs: number, stopAfter = Number.POSITIVE_INFINITY) => {
      const bytes = new TextEncoder().encode(body);
      const size = Math.ceil(bytes.length / pieces);
      let i = 0;
      return new ReadableStream<Uint8Array>({
        async pull(c) {
          if (i >= stopAfter) return new Promise<void>(() => {});
          if (i * size >= bytes.length) return c.close();
          if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
          c.enqueue(bytes.subarray(i * size, ++i * size));
        },
      });
    };
    const post = (stream: ReadableStream<Uint8Array>, connection = 'jira-main') =>
      app.request(`/webhooks/jira/${connection}`, {
        method: 'POST',
        body: stream,
        headers: { 'x-hub-signature': sign(body), 'x-atlassian-webhook-identifier': 'slow-1' },
        duplex: 'half',
      } as RequestInit);
    justAfter('jira-main', body);
    const statuses = {
      stalled: (await post(trickle(10, 0, 3))).status,
      stalledUnknownConnection: (await post(trickle(10, 0, 1), 'nope')).status,
      tooSlow: (await post(trickle(40, 60))).status,
      slowButInTime: (await post(trickle(4, 10))).status,
    };
    expect(statuses).toEqual({ stalled: 408, stalledUnknownConnection: 408, tooSlow: 408, slowButInTime: 202 });
  });

  // 5,000 requests, some of them megabytes: a machine shared with other test runs needs minutes.
  it('only ever answers 2xx or 4xx to 5,000 generated requests, oversized and deeply nested ones too, and stays up', {
    timeout: 300_000,
  }, async () => {
    clock = new Date('2026-11-21T12:00:00.000Z');
    const before = (await database.db.select({ n: sql<number>`count(*)::int` }).from(webhookInbox))[0]!.n;
    const nested = (open: string, close: string, levels: number) =>
      `{"webhookEvent":"jira:issue_updated","eventType":"workitem.updated","x":${open.repeat(levels)}${close.repeat(levels)}}`;
    // Built once: over the 2 MiB webhook limit, with and without a JSON shape.
    const oversized = [`{"webhookEvent":"jira:issue_updated","pad":"${'x'.repeat(2 * 2 ** 20)}"}`, '€'.repeat(800_000)];
    const event = fc.record({
      webhookEvent: fc.constantFrom('jira:issue_updated', 'jira:issue_created', 'comment_created', 'other'),
      timestamp: fc.oneof(
        fc.integer({ min: -50 * 3600_000, max: 50 * 3600_000 }).map((d) => clock.getTime() + d),
        fc.double(),
        fc.constantFrom(8.64e15 + 1, -8.64e15 - 1, 1e300, Number.MAX_SAFE_INTEGER),
        fc.string(),
      ),
      issue: fc.record({ id: fc.string(), key: fc.string(), fields: fc.object() }),
    });
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc.constantFrom(...jiraCaptures.map((c) => c.body), ...adoCaptures.map((c) => c.body)),
      fc
        .jsonValue()
        .map((v) =>
          JSON.stringify({ webhookEvent: 'jira:issue_updated', issue: v, eventType: 'workitem.updated', resource: v }),
        ),
      event.map((e) => JSON.stringify(e)),
      fc
        .tuple(fc.constantFrom(['[', ']'], ['{"a":', '}'], ['[{"b":', '}]']), fc.integer({ min: 100, max: 200_000 }))
        .map(([[open, close], n]) => nested(open!, close!, n)),
      fc.constantFrom(...oversized),
    );
    const headerValue = fc.oneof(
      fc.string(),
      fc.constant(BASIC),
      fc.constant('sha256=00'),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef') }).map((h) => `sha256=${h}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('jira', 'azure-devops'),
        fc.constantFrom('jira-main', 'ado-main', 'other'),
        body,
        fc.dictionary(
          fc.constantFrom('x-hub-signature', 'authorization', 'x-atlassian-webhook-identifier', 'content-type'),
          headerValue,
        ),
        fc.boolean(),
        async (tracker, connection, raw, headers, signIt) => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(headers)) if (/^[\t\x20-\x7e]*$/.test(v)) h[k] = v;
          if (signIt) {
            h['x-hub-signature'] = sign(raw);
            h.authorization = BASIC;
          }
          const res = await app.request(`/webhooks/${tracker}/${connection}`, {
            method: 'POST',
            body: raw,
            headers: h,
          });
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 5000, seed: 20261121 },
    );
    const after = (await database.db.select({ n: sql<number>`count(*)::int` }).from(webhookInbox))[0]!.n;
    expect(after).toBeGreaterThanOrEqual(before);
    justAfter('jira-main', jiraCaptures[0]!.body);
    expect((await postJira(jiraCaptures[0]!.body, { 'x-hub-signature': sign(jiraCaptures[0]!.body) })).status).toBe(
      202,
    );
  });
});
