// The one door to Azure DevOps for a connection: azure-devops-node-api for location discovery and
// its authenticated HTTP client, wrapped in a per-connection p-queue, retries with jittered
// backoff, Retry-After / X-RateLimit-* pacing, typed errors and request counters.
//
// Why not the SDK's typed methods (queryByWiql, getWorkItemsBatch…): they drop response headers,
// so a Retry-After on a 200 or a falling X-RateLimit-Remaining would be invisible, and they turn a
// GET 404 into `null`. We keep the SDK's discovery (`vsoClient.getVersioningData`, which issues the
// OPTIONS `/_apis/{area}` requests) and its HttpClient (PAT handler, node http), and read the
// response ourselves.
import { getPersonalAccessTokenHandler, WebApi } from 'azure-devops-node-api';
import type { WorkItemTrackingApi } from 'azure-devops-node-api/WorkItemTrackingApi';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { z } from 'zod';
import {
  AuthError,
  ConflictError,
  ConnectorError,
  type ConnectorErrorOptions,
  NotFoundError,
  RateLimitError,
  SchemaError,
} from '../../src/errors.ts';
import type { ConnectorStats } from '../types.ts';
import { endpointLabel } from './endpoint.ts';
import { createFetchTransport } from './fetch/transport.ts';

export const TRACKER = 'azure-devops';

export interface AdoCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  area: 'wit' | 'Location' | 'hooks' | 'core';
  locationId: string;
  apiVersion: string;
  routeValues?: Record<string, string | number>;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  contentType?: string;
  /** Statuses the caller handles itself (a 404 on a lookup) instead of receiving an error. */
  accept?: readonly number[];
  /** What the call does, for error messages: "read work item 12". */
  what: string;
  /**
   * A create that must not happen twice (a comment, a subscription): after a 5xx or a network
   * failure it may have happened, so it is not retried here; only a 429 (refused before any
   * work) is. The caller's next attempt finds what was created, by marker or URL.
   */
  createsSomething?: boolean;
}

export interface AdoReply {
  status: number;
  body: unknown;
}

export interface AdoClientOptions {
  orgUrl: string;
  pat: string;
  connectionId: string;
  limits: { concurrency: number; requestsPerSecond: number };
  log: Logger;
  retry?: { maxRetries?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Below this fraction of X-RateLimit-Limit remaining, requests are spread until the reset. */
  slowdownBelow?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * How requests travel: through azure-devops-node-api (default), or through fetch where
   * node:http is only an emulation (Cloudflare Workers). Retries, pacing and errors are the same.
   */
  transport?: 'sdk' | 'fetch';
}

export interface AdoClient {
  call(c: AdoCall): Promise<AdoReply>;
  /** Validates a reply body, throwing SchemaError with the failing paths. */
  parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S>;
  stats(): ConnectorStats;
  close(): Promise<void>;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function header(h: Raw['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(v: string | undefined, now: number): number | null {
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

export function createAdoClient(opts: AdoClientOptions): AdoClient {
  const sleep = opts.sleep ?? realSleep;
  const maxRetries = opts.retry?.maxRetries ?? 5;
  const baseDelayMs = opts.retry?.baseDelayMs ?? 500;
  const maxDelayMs = opts.retry?.maxDelayMs ?? 30_000;
  const slowdownBelow = opts.slowdownBelow ?? 0.1;
  const counters: ConnectorStats = { requests: 0, throttled: 0, retries: 0, byEndpoint: {} };
  const queue = new PQueue({
    concurrency: opts.limits.concurrency,
    // Below 1 request per second, one request per 1/rps seconds rather than one per second.
    intervalCap: Math.max(1, Math.floor(opts.limits.requestsPerSecond)),
    interval: opts.limits.requestsPerSecond < 1 ? Math.ceil(1000 / opts.limits.requestsPerSecond) : 1000,
  });
  const errOpts = (httpStatus?: number, cause?: unknown): ConnectorErrorOptions => ({
    tracker: TRACKER,
    connection: opts.connectionId,
    httpStatus,
    cause,
  });
  const secretForms = [opts.pat, Buffer.from(`:${opts.pat}`).toString('base64'), encodeURIComponent(opts.pat)];
  const scrub = (s: string) => secretForms.reduce((acc, f) => (f ? acc.split(f).join('[redacted]') : acc), s);

  // Every request the SDK sends (its resource-area and location discovery included) goes through
  // the auth handler: wrapping it is the one place that sees them all, so it is where we count.
  const pat = getPersonalAccessTokenHandler(opts.pat);
  const countingAuth: typeof pat = Object.assign(Object.create(pat) as typeof pat, {
    prepareRequest(o: Parameters<typeof pat.prepareRequest>[0]) {
      counters.requests++;
      const label = endpointLabel(o.method ?? 'GET', o.path ?? '/');
      counters.byEndpoint[label] = (counters.byEndpoint[label] ?? 0) + 1;
      pat.prepareRequest(o);
    },
  });
  const webApi = new WebApi(opts.orgUrl, countingAuth);
  let witPromise: Promise<WorkItemTrackingApi> | null = null;
  const wit = () => {
    if (!witPromise) {
      const p = webApi.getWorkItemTrackingApi();
      witPromise = p;
      p.catch(() => {
        if (witPromise === p) witPromise = null;
      });
    }
    return witPromise;
  };

  let notBefore = 0;
  const waitGate = async () => {
    const target = notBefore;
    const wait = target - Date.now();
    if (wait <= 0) return;
    await sleep(wait);
    // Everyone who waited for this instant has waited; an injected clock may not have moved.
    if (notBefore === target) notBefore = 0;
  };

  /**
   * Reads the throttling headers of any response (a 200 included) and sets when the next request
   * may go. True when the response told us to slow down (counted once as throttled).
   */
  const observe = (h: Raw['headers']): boolean => {
    const now = Date.now();
    const retryAfter = parseRetryAfter(header(h, 'retry-after'), now);
    const delay = Number(header(h, 'x-ratelimit-delay') ?? 0);
    const limit = Number(header(h, 'x-ratelimit-limit') ?? Number.NaN);
    const remaining = Number(header(h, 'x-ratelimit-remaining') ?? Number.NaN);
    const reset = Number(header(h, 'x-ratelimit-reset') ?? Number.NaN);
    let until = 0;
    if (retryAfter !== null) until = now + retryAfter;
    else if (limit > 0 && remaining >= 0 && remaining < limit * slowdownBelow && reset > 0) {
      // Spread what is left of the budget over the time until it resets, instead of running into a 429.
      const window = Math.max(0, reset * 1000 - now);
      until = now + Math.min(maxDelayMs, Math.ceil(window / Math.max(1, remaining)));
    }
    if (until > notBefore) {
      notBefore = until;
      opts.log.debug({ connection: opts.connectionId, waitMs: until - now }, 'azure-devops: pacing requests');
    }
    const slowedDown = until > now || delay > 0;
    if (slowedDown) counters.throttled++;
    return slowedDown;
  };

  const backoff = (attempt: number) => {
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  };

  const fetchSend =
    opts.transport === 'fetch'
      ? createFetchTransport({
          orgUrl: opts.orgUrl,
          pat: opts.pat,
          onRequest: (label) => {
            counters.requests++;
            counters.byEndpoint[label] = (counters.byEndpoint[label] ?? 0) + 1;
          },
        })
      : null;

  const send = async (c: AdoCall): Promise<Raw> => {
    if (fetchSend) return fetchSend(c);
    const api = await wit();
    const route: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.routeValues ?? {})) route[k] = String(v);
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.query ?? {})) query[k] = String(v);
    const ver = await api.vsoClient.getVersioningData(c.apiVersion, c.area, c.locationId, route, query);
    const headers: Record<string, string> = { Accept: `application/json;api-version=${ver.apiVersion}` };
    let data = '';
    if (c.body !== undefined) {
      headers['Content-Type'] = c.contentType ?? 'application/json';
      data = JSON.stringify(c.body);
    }
    if (!ver.requestUrl) throw new Error(`no location ${c.locationId} in area ${c.area}`);
    const res = await api.http.request(c.method, ver.requestUrl, data, headers);
    return { status: res.message.statusCode ?? 0, headers: res.message.headers, text: await res.readBody() };
  };

  const messageOf = (raw: Raw): string => {
    try {
      const b = JSON.parse(raw.text) as { message?: unknown };
      if (typeof b.message === 'string') return scrub(b.message);
    } catch {
      /* not JSON: fall through */
    }
    return raw.text ? scrub(raw.text.slice(0, 200)) : '';
  };

  const toError = (c: AdoCall, raw: Raw): ConnectorError => {
    const detail = messageOf(raw);
    const msg = `Azure DevOps (${opts.connectionId}): ${c.what} failed with HTTP ${raw.status}${detail ? `: ${detail}` : ''}`;
    const eo = errOpts(raw.status);
    if (raw.status === 401 || raw.status === 403) {
      return new AuthError(`${msg} (check the PAT's scopes and expiry)`, eo);
    }
    if (raw.status === 404) return new NotFoundError(msg, eo);
    if (raw.status === 409 || raw.status === 412) return new ConflictError(msg, eo);
    if (raw.status === 429) {
      return new RateLimitError(msg, {
        ...eo,
        retryAfterMs: parseRetryAfter(header(raw.headers, 'retry-after'), Date.now()) ?? 0,
      });
    }
    return new ConnectorError(msg, eo);
  };

  const attemptOnce = async (c: AdoCall): Promise<Raw | { network: Error }> => {
    try {
      return await send(c);
    } catch (err) {
      const e = err as { statusCode?: number; message?: string; code?: string; responseHeaders?: Raw['headers'] };
      // typed-rest-client throws for a failed discovery request; keep its status.
      if (typeof e.statusCode === 'number') {
        return { status: e.statusCode, headers: e.responseHeaders ?? {}, text: scrub(e.message ?? '') };
      }
      // A fresh Error: node's errors may carry request options, and those carry the Authorization header.
      return { network: new Error(scrub(e.code ?? e.message ?? 'network error')) };
    }
  };

  const call = (c: AdoCall): Promise<AdoReply> =>
    queue.add(async () => {
      for (let attempt = 0; ; attempt++) {
        await waitGate();
        const raw = await attemptOnce(c);
        if ('network' in raw) {
          if (attempt < maxRetries && !c.createsSomething) {
            counters.retries++;
            await sleep(backoff(attempt));
            continue;
          }
          throw new ConnectorError(
            `Azure DevOps (${opts.connectionId}): ${c.what} failed: ${raw.network.message}`,
            errOpts(undefined, raw.network),
          );
        }
        const slowedDown = observe(raw.headers);
        const ok = (raw.status >= 200 && raw.status < 300) || (c.accept ?? []).includes(raw.status);
        if (ok) {
          let body: unknown = null;
          if (raw.text) {
            try {
              body = JSON.parse(raw.text);
            } catch {
              throw new SchemaError(c.what, [{ path: '', message: 'body is not JSON' }], errOpts(raw.status));
            }
          }
          return { status: raw.status, body };
        }
        const retryable = raw.status === 429 || (raw.status >= 500 && !c.createsSomething);
        if (retryable && attempt < maxRetries) {
          counters.retries++;
          if (raw.status === 429 && !slowedDown) counters.throttled++;
          // observe() already moved the gate when Retry-After was sent; otherwise back off.
          if (header(raw.headers, 'retry-after') === undefined) await sleep(backoff(attempt));
          continue;
        }
        throw toError(c, raw);
      }
    });

  return {
    call,
    parse(schema, body, what) {
      const r = schema.safeParse(body);
      if (r.success) return r.data;
      throw new SchemaError(
        `Azure DevOps (${opts.connectionId}): ${what}`,
        r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        errOpts(),
      );
    },
    stats: () => ({ ...counters, byEndpoint: { ...counters.byEndpoint } }),
    async close() {
      queue.clear();
      await queue.onIdle();
    },
  };
}
