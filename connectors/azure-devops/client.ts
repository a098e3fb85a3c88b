// The one door to Azure DevOps for a connection: azure-devops-node-api for location discovery and
// its authenticated HTTP client, wrapped in a per-connection p-queue, retries with jittered
// backoff, Retry-After / X-RateLimit-* pacing through one gate every concurrent call waits at
// (queued ones included), capped waits that close() and a pull's signal cut short, the credential
// (a PAT, or an Entra ID token: auth.ts) sent only within the organization (origins.ts), typed
// one-line errors and request counters.
//
// Why not the SDK's typed methods (queryByWiql, getWorkItemsBatch…): they drop response headers,
// so a Retry-After on a 200 or a falling X-RateLimit-Remaining would be invisible, and they turn a
// GET 404 into `null`. We keep the SDK's discovery (`vsoClient.getVersioningData`, which issues the
// OPTIONS `/_apis/{area}` requests) and its HttpClient (node http), and read the response ourselves.
import type { RequestOptions } from 'node:http';
import { WebApi } from 'azure-devops-node-api';
import type { IRequestHandler } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces';
import type { WorkItemTrackingApi } from 'azure-devops-node-api/WorkItemTrackingApi';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import {
  AuthError,
  ConflictError,
  ConnectorError,
  type ConnectorErrorOptions,
  NotFoundError,
  RateLimitError,
  SchemaError,
} from '../../src/core/errors.ts';
import { parseJson } from '../../src/core/json.ts';
import { describeNetworkError } from '../http/net-errors.ts';
import {
  abortableSleep,
  capWait,
  createPacer,
  createSignalScope,
  DEFAULT_MAX_RETRY_AFTER_SECONDS,
  parseRetryAfter,
  raceAbort,
  realSleep,
  requestSignal,
  type Sleep,
} from '../http/pacing.ts';
import { TooManyRedirectsError } from '../http/redirects.ts';
import { scrubSecrets } from '../secrets.ts';
import type { ConnectorStats } from '../types.ts';
import type { ReplySource } from '../validate.ts';
import type { AdoCredential } from './auth.ts';
import { endpointLabel } from './endpoint.ts';
import { createFetchTransport } from './fetch/transport.ts';
import { LOCATIONS } from './locations.ts';
import { CredentialOriginError, checkOrigin, createOrgPolicy } from './origins.ts';

export const TRACKER = 'azure-devops';

export interface AdoCall {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
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
  /** What every request carries (auth.ts): a PAT, or an Entra ID token renewed before it expires. */
  credential: AdoCredential;
  connectionId: string;
  limits: { concurrency: number; requestsPerSecond: number; maxRetryAfterSeconds?: number };
  log: Logger;
  retry?: { maxRetries?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Below this fraction of X-RateLimit-Limit remaining, requests are spread until the reset. */
  slowdownBelow?: number;
  /** Every wait goes through this; it receives the signal that close() and a pull's signal abort. */
  sleep?: Sleep;
  now?: () => number;
  /** A request without an answer for this long fails as a timeout (default 30 s). */
  timeoutMs?: number;
  /**
   * How requests travel: through azure-devops-node-api (default), or through fetch where
   * node:http is only an emulation (Cloudflare Workers). Retries, pacing and errors are the same.
   */
  transport?: 'sdk' | 'fetch';
}

export interface AdoClient {
  call(c: AdoCall): Promise<AdoReply>;
  /** Which connection answers: what validateReply (connectors/validate.ts) names in its errors. */
  readonly source: ReplySource;
  stats(): ConnectorStats;
  /** Runs `fn` with `signal` over every call it makes: when it aborts, their waits and requests end. */
  withSignal<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T>;
  /** Ends every wait and request of this connection at once; later calls fail. */
  close(): Promise<void>;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The answer of location discovery, not of the call itself. */
  discovery?: boolean;
}

function header(h: Raw['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The PAT scope a call needs, named in a 401/403 (the scope names of the PAT dialog). */
function scopeFor(c: AdoCall): string {
  if (c.area === 'hooks') return 'Service Hooks (Read & write)';
  if (c.area === 'Location') return 'any scope';
  const reads =
    c.method === 'GET' || c.locationId === LOCATIONS.wiql.id || c.locationId === LOCATIONS.workItemsBatch.id;
  return reads ? 'Work Items (Read)' : 'Work Items (Read & write)';
}

/** Where an SDK request is going: typed-rest-client gives handlers the node:http options only. */
function targetOf(o: RequestOptions): URL {
  const agent = (o.agent || undefined) as { protocol?: string; defaultPort?: number } | undefined;
  // https.Agent says so; a tunnelling agent (a proxy) for https has defaultPort 443.
  const secure = agent?.protocol === 'https:' || agent?.defaultPort === 443;
  const raw = String(o.hostname ?? o.host ?? '');
  const host = raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw;
  return new URL(`${secure ? 'https' : 'http'}://${host}:${o.port ?? (secure ? 443 : 80)}${o.path ?? '/'}`);
}

export function createAdoClient(opts: AdoClientOptions): AdoClient {
  const sleep = opts.sleep ?? realSleep;
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxRetries = opts.retry?.maxRetries ?? 5;
  const baseDelayMs = opts.retry?.baseDelayMs ?? 500;
  const maxDelayMs = opts.retry?.maxDelayMs ?? 30_000;
  const maxWaitS = opts.limits.maxRetryAfterSeconds ?? DEFAULT_MAX_RETRY_AFTER_SECONDS;
  const slowdownBelow = opts.slowdownBelow ?? 0.1;
  const counters: ConnectorStats = { requests: 0, throttled: 0, retries: 0, byEndpoint: {} };
  const queue = new PQueue({
    concurrency: opts.limits.concurrency,
    // Below 1 request per second, one request per 1/rps seconds rather than one per second.
    intervalCap: Math.max(1, Math.floor(opts.limits.requestsPerSecond)),
    interval: opts.limits.requestsPerSecond < 1 ? Math.ceil(1000 / opts.limits.requestsPerSecond) : 1000,
  });
  // Azure DevOps' budget is per user and organization: one gate for the whole connection.
  const pacer = createPacer({ now, sleep });
  const GATE = 'connection';
  // Below `slowdownBelow` of the TSTU budget remaining, requests leave one at a time, this far
  // apart, so what remains lasts until the budget resets: concurrent calls released together by
  // the gate would otherwise spend the last TSTUs at once and run into the 429 we are avoiding.
  let spacingMs = 0;
  let nextSlot = 0;
  // TSTUs a request costs, as the largest drop of X-RateLimit-Remaining between two answers shows
  // (a drop is one request's charge less what drained meanwhile, so this errs high, never low).
  let lastRemaining: number | null = null;
  let costPerRequest = 1;
  const scope = createSignalScope();
  const closing = new AbortController();
  const policy = createOrgPolicy(opts.orgUrl);
  const host = new URL(opts.orgUrl).host;
  const prefix = `Azure DevOps (${opts.connectionId})`;
  const errOpts = (httpStatus?: number, cause?: unknown): ConnectorErrorOptions => ({
    tracker: TRACKER,
    connection: opts.connectionId,
    httpStatus,
    cause,
  });
  const credential = opts.credential;
  // Read each time: an Entra credential adds every token it obtains.
  const scrub = (s: string) => scrubSecrets(s, credential.secrets(), '[redacted]');
  const warnings: Record<string, number> = {};
  const warn = (message: string) => {
    warnings[message] = (warnings[message] ?? 0) + 1;
  };
  const refused = (c: AdoCall, e: CredentialOriginError) =>
    new ConnectorError(
      `${prefix}: ${c.what}: ${e.message} (a resource location or redirect of the service named it)`,
      errOpts(),
    );
  const closedError = () => new ConnectorError(`${prefix}: the connection is closed`, errOpts());
  const abortedBy = (signal: AbortSignal): unknown => (closing.signal.aborted ? closedError() : signal.reason);

  // Every request the SDK sends — its resource-area and location discovery and every redirect it
  // follows included — goes through the auth handler: the one place that sees them all, so it is
  // where the destination is checked (before the PAT is added), and where we count.
  const auth: IRequestHandler = {
    prepareRequest(o) {
      checkOrigin(policy, targetOf(o));
      counters.requests++;
      const label = endpointLabel(o.method ?? 'GET', o.path ?? '/');
      counters.byEndpoint[label] = (counters.byEndpoint[label] ?? 0) + 1;
      o.headers = { ...o.headers, Authorization: credential.current(), 'X-TFS-FedAuthRedirect': 'Suppress' };
    },
    canHandleAuthentication: () => false,
    handleAuthentication: () => Promise.reject(new Error('not supported')),
  };
  const webApi = new WebApi(opts.orgUrl, auth, { socketTimeout: timeoutMs, maxRedirects: 5 });
  let witPromise: Promise<WorkItemTrackingApi> | null = null;
  const wit = () => {
    if (!witPromise) {
      const p = webApi.getWorkItemTrackingApi().then((api) => {
        // The resource areas answer decides where work item tracking lives: refuse a foreign one
        // by name here, before the SDK asks it anything (the handler would refuse it too).
        checkOrigin(policy, new URL(api.baseUrl));
        return api;
      });
      witPromise = p;
      p.catch(() => {
        if (witPromise === p) witPromise = null;
      });
    }
    return witPromise;
  };

  /**
   * Reads the throttling headers of any response (a 200 included) and moves the connection's
   * gate, so every call — those queued and those already waiting — holds until then. True when
   * the response told us to slow down (counted once as throttled).
   */
  const observe = (h: Raw['headers']): boolean => {
    const at = now();
    const retryAfter = parseRetryAfter(header(h, 'retry-after'), at);
    const delay = Number(header(h, 'x-ratelimit-delay') ?? 0);
    const limit = Number(header(h, 'x-ratelimit-limit') ?? Number.NaN);
    const remaining = Number(header(h, 'x-ratelimit-remaining') ?? Number.NaN);
    const reset = Number(header(h, 'x-ratelimit-reset') ?? Number.NaN);
    let wait = 0;
    if (limit > 0 && remaining >= 0 && reset > 0) {
      if (lastRemaining !== null && remaining < lastRemaining)
        costPerRequest = Math.max(costPerRequest, Math.min(limit / 4, lastRemaining - remaining));
      lastRemaining = remaining;
      // At least what the requests in flight may cost: those already sent spend it whatever we decide.
      const threshold =
        slowdownBelow > 0 ? Math.max(limit * slowdownBelow, (opts.limits.concurrency + 1) * costPerRequest) : 0;
      // The budget drains at (limit - remaining) TSTUs over the time to the reset: one request per
      // that share of a TSTU holds the level where it is (a request costing about one TSTU). The
      // further below the threshold, the slower: the level settles near it whatever requests cost.
      const toReset = Math.max(0, reset * 1000 - at);
      const sustainable = toReset / Math.max(1, limit - remaining);
      spacingMs =
        remaining < threshold ? Math.min(maxDelayMs, Math.ceil(sustainable * (threshold / Math.max(1, remaining)))) : 0;
    } else if (header(h, 'x-ratelimit-limit') === undefined) {
      // Azure DevOps sends the budget's headers as usage nears it: an answer without them is not near.
      spacingMs = 0;
    }
    if (retryAfter !== null) {
      const capped = capWait(retryAfter, maxWaitS * 1000);
      if (capped.capped) {
        warn(
          `Azure DevOps asked to wait longer than limits.maxRetryAfterSeconds (${maxWaitS} s); waited ${maxWaitS} s`,
        );
        opts.log.warn(
          { connection: opts.connectionId, askedMs: retryAfter },
          'azure-devops: Retry-After above the cap',
        );
      }
      wait = capped.ms;
    } else if (delay > 0) {
      // The service is already holding our requests back: send the next ones no sooner.
      wait = Math.min(maxDelayMs, Math.ceil(delay * 1000));
    } else if (spacingMs > 0) {
      // Spread what is left of the budget over the time until it resets, instead of running into a 429.
      wait = spacingMs;
    }
    if (wait > 0) {
      pacer.hold(null, at + wait);
      opts.log.debug({ connection: opts.connectionId, waitMs: wait }, 'azure-devops: pacing requests');
    }
    const slowedDown = wait > 0 || delay > 0;
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
          authorization: () => credential.authorization(),
          closing: closing.signal,
          timeoutMs,
          onRequest: (label) => {
            counters.requests++;
            counters.byEndpoint[label] = (counters.byEndpoint[label] ?? 0) + 1;
          },
        })
      : null;

  const send = async (c: AdoCall, signal: AbortSignal): Promise<Raw> => {
    if (fetchSend) return fetchSend(c, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]));
    // typed-rest-client takes no signal: the call ends when the signal aborts, and its socket by
    // the socket timeout.
    return raceAbort(
      (async () => {
        // The SDK's request handler is synchronous: the token is obtained (or renewed) here first.
        await credential.authorization();
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
      })(),
      signal,
    );
  };

  const messageOf = (raw: Raw): string => {
    try {
      const b = JSON.parse(raw.text) as { message?: unknown };
      if (typeof b.message === 'string') return scrub(b.message).replace(/\s+/g, ' ').trim();
    } catch {
      /* not JSON: fall through */
    }
    return raw.text ? scrub(raw.text.slice(0, 200)).replace(/\s+/g, ' ').trim() : '';
  };

  const toError = (c: AdoCall, raw: Raw): ConnectorError => {
    const detail = messageOf(raw);
    const msg = `${prefix}: ${c.what} failed with HTTP ${raw.status}${detail ? `: ${detail}` : ''}`;
    const eo = errOpts(raw.status);
    if (raw.status === 401) {
      return new AuthError(
        `${prefix}: ${host} rejected ${credential.name} (401 on ${c.what}); ${credential.rejectedHint}`,
        eo,
      );
    }
    if (raw.status === 403) {
      return new AuthError(
        credential.kind === 'pat'
          ? `${prefix}: ${host} refused ${c.what} (403): the PAT lacks the "${scopeFor(c)}" scope or the account lacks the permission${detail ? `: ${detail}` : ''}`
          : `${prefix}: ${host} refused ${c.what} (403): the ${credential.kind.replace('-', ' ')} lacks the permission in the organization or project${detail ? `: ${detail}` : ''}`,
        eo,
      );
    }
    if (raw.status === 404) {
      // Location discovery is what every organization answers: a 404 there says the URL is not one.
      if (raw.discovery) {
        return new NotFoundError(
          `${prefix}: ${c.what} failed: ${host} answered 404 to location discovery: is \`orgUrl\` an Azure DevOps organization?`,
          eo,
        );
      }
      return new NotFoundError(msg, eo);
    }
    if (raw.status === 409 || raw.status === 412) return new ConflictError(msg, eo);
    if (raw.status === 429) {
      return new RateLimitError(msg, {
        ...eo,
        retryAfterMs: parseRetryAfter(header(raw.headers, 'retry-after'), now()) ?? 0,
      });
    }
    return new ConnectorError(msg, eo);
  };

  const attemptOnce = async (c: AdoCall, signal: AbortSignal): Promise<Raw | { network: unknown }> => {
    try {
      return await send(c, signal);
    } catch (err) {
      if (signal.aborted) throw abortedBy(signal);
      // Entra ID would not issue a token: already one line naming the settings to check.
      if (err instanceof AuthError) throw err;
      if (err instanceof CredentialOriginError) throw refused(c, err);
      if (err instanceof TooManyRedirectsError)
        throw new ConnectorError(`${prefix}: ${c.what}: ${err.message}`, errOpts());
      const e = err as { statusCode?: number; message?: string; responseHeaders?: Raw['headers'] };
      // typed-rest-client refuses an https → http redirect itself, before any handler sees it.
      if (typeof e.message === 'string' && e.message.startsWith('Redirect from HTTPS to HTTP')) {
        throw new ConnectorError(
          `${prefix}: ${c.what}: refused a redirect from https to plain http (the credential is never sent in the clear)`,
          errOpts(),
        );
      }
      // Discovery found no such resource: the server answered, but not as an organization does.
      if (typeof e.message === 'string' && /^(Failed to find api location|no location )/.test(e.message)) {
        throw new NotFoundError(
          `${prefix}: ${c.what} failed: ${host} lists no "${c.area}" API in location discovery: is \`orgUrl\` an Azure DevOps organization?`,
          errOpts(),
        );
      }
      // typed-rest-client throws for a failed discovery request; keep its status.
      if (typeof e.statusCode === 'number') {
        return {
          status: e.statusCode,
          headers: e.responseHeaders ?? {},
          text: scrub(e.message ?? ''),
          discovery: true,
        };
      }
      return { network: err };
    }
  };

  const attempts = async (c: AdoCall, signal: AbortSignal): Promise<AdoReply> => {
    for (let attempt = 0; ; attempt++) {
      await pacer.ready(GATE, signal);
      if (spacingMs > 0) {
        // A slot of our own, taken synchronously so concurrent callers line up behind each other.
        const t = now();
        const at = Math.max(t, nextSlot);
        nextSlot = at + spacingMs;
        if (at > t) await abortableSleep(sleep, at - t, signal);
      }
      const raw = await attemptOnce(c, signal);
      if ('network' in raw) {
        const problem = describeNetworkError(raw.network, { url: opts.orgUrl, setting: 'orgUrl', timeoutMs });
        if (problem.transient && attempt < maxRetries && !c.createsSomething) {
          counters.retries++;
          await abortableSleep(sleep, backoff(attempt), signal);
          continue;
        }
        // A fresh cause: node's errors may carry request options, and those carry the Authorization header.
        throw new ConnectorError(
          `${prefix}: ${c.what} failed: ${scrub(problem.message)}`,
          errOpts(undefined, new Error(problem.code ?? 'network error')),
        );
      }
      const slowedDown = observe(raw.headers);
      const ok = (raw.status >= 200 && raw.status < 300) || (c.accept ?? []).includes(raw.status);
      if (ok) {
        let body: unknown = null;
        if (raw.text) {
          try {
            body = parseJson(raw.text);
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
        if (header(raw.headers, 'retry-after') === undefined) await abortableSleep(sleep, backoff(attempt), signal);
        continue;
      }
      throw toError(c, raw);
    }
  };

  const call = async (c: AdoCall): Promise<AdoReply> => {
    if (closing.signal.aborted) throw closedError();
    const signal = requestSignal(closing.signal, scope);
    try {
      return await queue.add(() => attempts(c, signal), { signal });
    } catch (err) {
      throw signal.aborted ? abortedBy(signal) : err;
    }
  };

  return {
    call,
    source: { tracker: TRACKER, connection: opts.connectionId },
    withSignal: (signal, fn) => scope.run(signal, fn),
    stats: () => ({ ...counters, byEndpoint: { ...counters.byEndpoint }, warnings: { ...warnings } }),
    async close() {
      closing.abort();
      queue.clear();
      await queue.onIdle();
    },
  };
}
