// The Node server's limits over real sockets: clients that trickle their headers or their body
// are dropped once the header or request timeout passes, a flood of them never takes more than
// server.maxConnections descriptors (the oldest connection not being answered makes room), and
// /healthz answers all the while.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Database } from '../../db/client.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';
import { openPglite } from '../helpers/pglite.ts';

interface Slow {
  socket: Socket;
  received: string;
  closed: Promise<void>;
  isClosed: boolean;
}

const configYaml = (jiraUrl: string, server: string) => `
server: { port: 0, host: 127.0.0.1, ${server} }
connections:
  - { id: jira-main, kind: jira, baseUrl: "${jiraUrl}", auth: { email: pmo-bot@example.com, apiToken: t-1234 }, scope: { projects: [PAY] }, webhookSecret: hook-secret-1 }
`;

/** A client that sends `head` and then one more byte of `drip` every 40 ms, never finishing. */
function slowClient(port: number, head: string, drip: string): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    const slow: Slow = { socket, received: '', isClosed: false, closed: Promise.resolve() };
    slow.closed = new Promise((done) =>
      socket.once('close', () => {
        clearInterval(timer);
        slow.isClosed = true;
        done();
      }),
    );
    socket.on('data', (d) => {
      slow.received += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip);
      }, 40);
      resolve(slow);
    });
    socket.once('error', reject);
  });
}

/** GET /healthz on a connection of its own; the status code. */
function healthz(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

const HEADER_HEAD = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n';
const HEADER_DRIP = 'X';
const BODY_HEAD =
  'POST /webhooks/jira/jira-main HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n';

describe('HTTP server limits', () => {
  let jira: JiraSimulator;
  let database: Database;
  let server: RunningServer | undefined;
  const clients: Slow[] = [];

  async function start(serverYaml: string) {
    jira = await startJiraSimulator();
    database = await openPglite();
    const { config } = parseConfig(configYaml(jira.url, serverYaml), { env: {} });
    const started = await startServer({ config, database, log: silentLogger(), cwd: process.cwd(), schedule: false });
    server = started;
    return started;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    if (!server) return;
    await server.stop();
    await database.close();
    await jira.close();
    server = undefined;
  });

  it('drops clients that trickle headers or bodies after the timeouts, answering /healthz meanwhile', async () => {
    const { port } = await start('headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 200');
    for (let i = 0; i < 40; i++) clients.push(await slowClient(port, HEADER_HEAD, HEADER_DRIP));
    for (let i = 0; i < 40; i++) clients.push(await slowClient(port, BODY_HEAD, '{'));

    const statuses: number[] = [];
    // Health is asked until every slow client has been dropped (none of them ever finishes).
    while (clients.some((c) => !c.isClosed)) statuses.push(await healthz(port));
    await Promise.all(clients.map((c) => c.closed));

    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Headers never completed: Node answers 408 and closes.
    const headerReplies = clients.slice(0, 40).map((c) => c.received.split('\r\n')[0]);
    expect(headerReplies).toEqual(Array(40).fill('HTTP/1.1 408 Request Timeout'));
    // Bodies never completed: nothing was accepted.
    const bodyReplies = clients.slice(40).map((c) => c.received.split('\r\n')[0] ?? '');
    expect(bodyReplies.filter((r) => /^HTTP\/1\.1 2/.test(r))).toEqual([]);
    expect(await healthz(port)).toBe(200);
  });

  it('holds at most server.maxConnections: the oldest slow connections make room, /healthz still answers', async () => {
    // Timeouts far away: only the cap can drop anyone here.
    const server = await start('maxConnections: 20, headersTimeoutMs: 60000, requestTimeoutMs: 120000');
    const { port } = server;
    for (let i = 0; i < 30; i++) clients.push(await slowClient(port, HEADER_HEAD, HEADER_DRIP));
    for (let i = 0; i < 30; i++) clients.push(await slowClient(port, BODY_HEAD, '{'));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await healthz(port));

    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(server.http.connections.peak()).toBeLessThanOrEqual(20);
    // 60 slow clients through 20 places: 40 made room, and the first health check another; a
    // later one finds the place its predecessor left, unless that one's close is still on its way.
    const dropped = server.http.connections.dropped();
    expect(dropped).toBeGreaterThanOrEqual(41);
    expect(dropped).toBeLessThanOrEqual(45);
    await Promise.all(clients.slice(0, dropped).map((c) => c.closed));
    // Oldest first: the dropped ones are the first to come, every later one is still held.
    expect(clients.map((c) => c.isClosed)).toEqual([...Array(dropped).fill(true), ...Array(60 - dropped).fill(false)]);
  });

  it('reads the limits from server in the config, with defaults, and refuses a header timeout past the request timeout', () => {
    const server = (yaml: string) => parseConfig(configYaml('http://127.0.0.1:1', yaml), { env: {} }).config.server;
    expect(server('')).toEqual({
      port: 0,
      host: '127.0.0.1',
      protectMetrics: false,
      maxConnections: 1000,
      headersTimeoutMs: 15_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      limits: {
        webhookBodyBytes: 2 * 2 ** 20,
        loginBodyBytes: 4096,
        bodiesInFlightBytes: 16 * 2 ** 20,
        bodyTimeoutSeconds: 10,
      },
      sessions: { ttlHours: 12 },
      webhooks: { maxEventAgeHours: 48 },
    });
    expect(() => server('headersTimeoutMs: 5000, requestTimeoutMs: 1000')).toThrow(ConfigError);
    expect(() => server('headersTimeoutMs: 5000, requestTimeoutMs: 1000')).toThrow(
      /server\.headersTimeoutMs.*must not exceed requestTimeoutMs/,
    );
    expect(() => server('maxConnections: 0')).toThrow(/server\.maxConnections/);
  });
});
