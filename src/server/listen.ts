// The HTTP listener of `serve` and the demo. It is bound before anything else starts, so a busy
// port ends the command before a loop, a cron job or a tracker request exists; until the app is
// ready it answers /healthz and a 503 for everything else. It holds the Node server's limits:
// header, request and keep-alive timeouts, and a cap on open connections.
import type { Server } from 'node:http';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { PmoSyncError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { problemResponse } from '../http/problem.ts';
import { type ConnectionGuard, guardConnections } from './connections.ts';

export interface HttpLimits {
  /** Open connections at most; past it the oldest connection not being answered is dropped. */
  maxConnections: number;
  /** A client must have sent its request headers within this time. */
  headersTimeoutMs: number;
  /** …and its whole request, body included. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

export type HttpHandler = (request: Request, env: HttpBindings) => Response | Promise<Response>;

/** The port could not be bound: one line naming the port, the address, the cause and the fix. */
export class ListenError extends PmoSyncError {
  readonly code: string;
  constructor(message: string, code: string, cause: unknown) {
    super(message, { cause });
    this.name = 'ListenError';
    this.code = code;
  }
}

export interface BoundHttp {
  readonly server: Server;
  readonly port: number;
  readonly host: string;
  /** What a person opens: localhost for a wildcard address. */
  readonly url: string;
  readonly connections: ConnectionGuard;
  /** Answers with the app from now on. */
  serve(handler: HttpHandler): void;
  /** Stops accepting; requests in progress get `graceMs` to finish, then their connections are dropped. */
  close(graceMs?: number): Promise<void>;
}

export interface BindOptions {
  port: number;
  host: string;
  limits: HttpLimits;
  log: Logger;
}

/** How long requests in progress may take to finish once the server stops. */
const CLOSE_GRACE_MS = 3_000;

function starting(request: Request): Response {
  // The process is alive while it starts: liveness must not fail a slow migration.
  if (new URL(request.url).pathname === '/healthz') return Response.json({ status: 'ok' });
  return problemResponse(503, 'pmo-sync is starting; try again in a few seconds.', {
    headers: { 'retry-after': '5' },
  });
}

export function listenErrorMessage(err: NodeJS.ErrnoException, host: string, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `port ${port} is in use (EADDRINUSE) on ${host}: set server.port or --port`;
    case 'EACCES':
      return `port ${port} on ${host} needs privileges (EACCES): use a port above 1023 (server.port or --port)`;
    case 'EADDRNOTAVAIL':
      return `address ${host} is not on this machine (EADDRNOTAVAIL): set server.host to one of its addresses or 0.0.0.0`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${host} does not resolve (${err.code}): set server.host to an address of this machine or 0.0.0.0`;
    default:
      return `could not listen on ${host}:${port} (${err.code ?? 'error'}): ${err.message}`;
  }
}

export async function bindHttp(opts: BindOptions): Promise<BoundHttp> {
  const { limits, log } = opts;
  let handler: HttpHandler = starting;
  const server = createAdaptorServer({
    fetch: (request, env) => handler(request, env as HttpBindings),
    serverOptions: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node looks for expired headers and requests at this interval (30 s by default, longer
      // than a short timeout): a quarter of the shorter timeout, at most a second apart.
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
      ),
    },
  }) as Server;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  const connections = guardConnections(server, { max: limits.maxConnections, log });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new ListenError(listenErrorMessage(err, opts.host, opts.port), err.code ?? 'error', err));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts.port, opts.host);
  });
  // After binding, errors are about accepting (EMFILE when descriptors run out): log, keep serving.
  server.on('error', (err) => log.error({ err }, 'HTTP server error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const shown = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
  const host = shown.includes(':') ? `[${shown}]` : shown;
  let closing: Promise<void> | null = null;
  return {
    server,
    port,
    host: opts.host,
    url: `http://${host}:${port}`,
    connections,
    serve(h) {
      handler = h;
    },
    close(graceMs = CLOSE_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
