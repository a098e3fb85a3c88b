// The polite HTTP layer under jira.js. jira.js knows Jira's endpoints (paths, parameters, bodies);
// this transport decides when, how often and where they are sent: per-connection concurrency and
// request-rate caps (p-queue), Jira's per-issue write limit, Retry-After held per endpoint and
// method (Jira's burst limit's scope) for every request to it — queued ones included — and for
// the whole connection on a quota answer (until the hourly points quota resets), a slower pace
// once Jira says the quota is nearly spent, Jira's burst limit per endpoint and method kept to,
// capped waits, backoff with jitter, redirects followed only within the credential's origin
// (the site, or Atlassian's gateway), typed one-line errors without secrets, and counters.
import { createCloudClient } from 'jira.js';
import type { Client, SendRequestOptions } from 'jira.js/core';
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
  parseResetAt,
  parseRetryAfter,
  realSleep,
  requestSignal,
  type Sleep,
} from '../http/pacing.ts';
import { fetchWithinPolicy, TooManyRedirectsError } from '../http/redirects.ts';
import { scrubSecrets } from '../secrets.ts';
import type { ConnectorStats } from '../types.ts';
import { createJiraCredentials, type JiraTokenStore } from './auth.ts';
import type { JiraConnection } from './config.ts';
import { isNearLimit, type JiraRateLimit, readJiraRateLimit } from './rate-limit.ts';

/** Knobs tests turn; production uses the defaults. */
export interface JiraTuning {
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** Per-issue write limit (Jira Cloud: 20 writes / 2 s and 100 / 30 s per issue). */
  issueWriteLimits?: { max: number; windowMs: number }[];
  /** Every wait goes through this; it receives the signal that close() and a pull's signal abort. */
  sleep?: Sleep;
  now?: () => number;
  random?: () => number;
}

export interface TransportOptions {
  connection: string;
  /** Where site requests go: the configured site, or a simulator standing in for it. */
  baseUrl: string;
  auth: JiraConnection['auth'];
  /** Atlassian's gateway and token server (scoped tokens, OAuth); Atlassian's own when unset. */
  apiUrl?: string;
  authUrl?: string;
  /** Where a rotated OAuth refresh token is kept across restarts. */
  tokenStore?: JiraTokenStore;
  limits: Pick<
    JiraConnection['limits'],
    'concurrency' | 'requestsPerSecond' | 'maxRetryAfterSeconds' | 'maxQuotaPauseSeconds' | 'burstPerSecond'
  >;
  log: Logger;
  tuning?: JiraTuning;
}

/** Jira's documented burst limits per endpoint, by method (requests per second). */
export const BURST_PER_SECOND: Record<string, number> = { GET: 100, POST: 100, PUT: 50, DELETE: 50 };

/** Default cap on a quota pause: the points quota is hourly, plus a margin for clock skew. */
export const DEFAULT_MAX_QUOTA_PAUSE_SECONDS = 3_900;

export const ISSUE_WRITE_LIMITS = [
  { max: 20, windowMs: 2_000 },
  { max: 100, windowMs: 30_000 },
];

/** POSTs that only read: safe to send again after a 5xx or a dropped connection. */
const READ_POSTS = new Set(['search/jql', 'search/approximate-count', 'issue/bulkfetch', 'changelog/bulkfetch']);

interface Sent {
  method: string;
  label: string;
  idempotent: boolean;
  issueKey: string | null;
}

/** `PUT /rest/api/3/issue/PAY-1/comment/10` → `PUT issue/{key}/comment/{id}`, plus what it touches. */
export function describeRequest(method: string, url: string): Sent {
  const path = url.split('?')[0]!.replace(/^\/?rest\/(api\/[23]|webhooks\/1\.0|agile\/1\.0)\//, '');
  const issue = /^issue\/([^/]+)(\/|$)/.exec(path);
  const isBulk = issue?.[1] === 'bulkfetch' || issue?.[1] === 'bulk';
  const shape = path
    .replace(/^issue\/(?!bulkfetch$|bulk$)[^/]+/, 'issue/{key}')
    .replace(/\/comment\/[^/]+/, '/comment/{id}')
    .replace(/^webhook\/\d+/, 'webhook/{id}')
    .replace(/^(board|filter)\/\d+/, '$1/{id}');
  const m = method.toUpperCase();
  const write = m !== 'GET' && m !== 'HEAD' && !READ_POSTS.has(path);
  return {
    method: m,
    label: `${m} ${shape}`,
    idempotent: m !== 'POST' || READ_POSTS.has(path),
    issueKey: write && issue && !isBulk ? decodeURIComponent(issue[1]!) : null,
  };
}

/** The Jira permission an endpoint needs, named in a 403 (Jira's own names). */
export function permissionFor(label: string): string | null {
  if (/^(GET|POST|PUT|DELETE) webhook/.test(label)) return 'Administer Jira (global)';
  if (label === 'POST issue/{key}/comment') return 'Add comments';
  if (label === 'PUT issue/{key}/comment/{id}') return 'Edit own comments';
  if (label === 'DELETE issue/{key}/comment/{id}') return 'Delete own comments';
  if (label === 'PUT issue/{key}') return 'Edit issues';
  if (label.startsWith('GET issue/') || label.startsWith('POST search/') || label.endsWith('/bulkfetch')) {
    return 'Browse projects';
  }
  return null;
}

function buildUrl(base: string, url: string, params?: Record<string, unknown>): string {
  // Relative to the base's path: through the gateway every path lives under /ex/jira/{cloudId}.
  const u = new URL(url.replace(/^\/+/, ''), base.endsWith('/') ? base : `${base}/`);
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) {
      if (v.length) u.searchParams.set(k, v.join(','));
    } else u.searchParams.set(k, String(v));
  }
  return u.toString();
}

/**
 * How long Jira asked us to wait: Retry-After (seconds or a date) and X-RateLimit-Reset (an ISO
 * 8601 instant), whichever ends later; null when it said neither.
 */
function askedWaitMs(res: Response, now: number): number | null {
  const after = parseRetryAfter(res.headers.get('retry-after'), now);
  const reset = parseResetAt(res.headers.get('x-ratelimit-reset'), now);
  if (after === null) return reset;
  return reset === null ? after : Math.max(after, reset);
}

/** A 401 that says the credential expired (Atlassian's `invalid_token` / "expired" wording), not that it is wrong. */
function saysExpired(res: Response, body: string): boolean {
  const challenge = res.headers.get('www-authenticate') ?? '';
  return /expired/i.test(challenge) || /expired/i.test(body.slice(0, 500));
}

export interface JiraTransport extends Client {
  stats(): ConnectorStats;
  /**
   * Runs `fn` with `signal` over every request it causes (jira.js cannot pass one): when it
   * aborts, their waits, queued turns and requests end at once, rejecting with its reason.
   */
  withSignal<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T>;
  /** Ends every wait and request of this connection at once; later calls fail. */
  close(): Promise<void>;
}

/** What a queued request finds when a 429 moved its endpoint's gate while it waited its turn. */
const GATE_MOVED = Symbol('gate moved');

interface Throttle {
  /** How long the gate was closed for (capped, before jitter). */
  waitMs: number;
  reason: string;
}

export function createJiraTransport(opts: TransportOptions): JiraTransport {
  const t = opts.tuning ?? {};
  const maxAttempts = t.maxAttempts ?? 5;
  const baseDelay = t.baseDelayMs ?? 500;
  const maxDelay = t.maxDelayMs ?? 30_000;
  const timeoutMs = t.timeoutMs ?? 30_000;
  const sleep = t.sleep ?? realSleep;
  const now = t.now ?? Date.now;
  const random = t.random ?? Math.random;
  const writeLimits = t.issueWriteLimits ?? ISSUE_WRITE_LIMITS;
  const maxWaitS = opts.limits.maxRetryAfterSeconds ?? DEFAULT_MAX_RETRY_AFTER_SECONDS;
  const maxQuotaS = Math.max(maxWaitS, opts.limits.maxQuotaPauseSeconds ?? DEFAULT_MAX_QUOTA_PAUSE_SECONDS);
  const burst: Record<string, number | undefined> = { ...BURST_PER_SECOND };
  for (const [m, n] of Object.entries(opts.limits.burstPerSecond ?? {})) if (n !== undefined) burst[m] = n;
  const rps = opts.limits.requestsPerSecond;
  // One request every 1000/rps ms rather than rps at the top of each second: no self-made bursts.
  const queue = new PQueue({
    concurrency: opts.limits.concurrency,
    interval: Math.max(1, Math.ceil(1000 / rps)),
    intervalCap: Math.max(1, Math.round(rps / 1000)),
  });
  const creds = createJiraCredentials({
    connection: opts.connection,
    config: { baseUrl: opts.baseUrl, auth: opts.auth, apiUrl: opts.apiUrl ?? '', authUrl: opts.authUrl ?? '' },
    siteUrl: opts.baseUrl,
    tokenStore: opts.tokenStore,
    now,
    timeoutMs,
  });
  const site = creds.origin;
  const credential = creds.describe;
  /** The setting that names where requests go: the gateway's, or the site's. */
  const originSetting = creds.kind === 'scoped' || creds.kind === 'oauth' ? 'apiUrl' : 'baseUrl';
  const stats: ConnectorStats = { requests: 0, throttled: 0, retries: 0, byEndpoint: {} };
  const quota = { pauses: 0, nearLimitSlowdowns: 0, pausedUntil: null as string | null, reason: null as string | null };
  /** Near the quota: when the next request may leave, and the points one request costs (a moving average). */
  const near = { nextAt: 0, lastLeft: null as number | null, costPerRequest: 1, measured: false, sinceLast: 0 };
  /** Per endpoint and method: the burst bucket's tokens as of `at`. */
  const buckets = new Map<string, { tokens: number; at: number }>();
  const writesByIssue = new Map<string, { t: number }[]>();
  const pacer = createPacer({ now, sleep });
  const scope = createSignalScope();
  const closing = new AbortController();

  const redact = (s: string) => scrubSecrets(s, creds.secrets(), '***');
  const errOpts = (httpStatus?: number, cause?: unknown): ConnectorErrorOptions => ({
    tracker: 'jira',
    connection: opts.connection,
    httpStatus,
    cause,
  });
  const backoff = (attempt: number) => Math.round(random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1)));
  const closedError = () => new ConnectorError('the Jira connection is closed', errOpts());
  /** Once the request's signal has aborted: close() makes it a closed-connection error, a caller's abort its reason. */
  const abortedBy = (signal: AbortSignal): unknown => (closing.signal.aborted ? closedError() : signal.reason);
  const warnings: Record<string, number> = {};
  const warn = (message: string) => {
    warnings[message] = (warnings[message] ?? 0) + 1;
  };

  /**
   * The credential goes to the configured site only: same origin, or the same host upgraded from
   * http to https. A redirect elsewhere is refused before anything (body, Authorization) is sent.
   */
  const redirectPolicy = (sent: Sent) => ({
    check(target: URL) {
      const upgrade = site.protocol === 'http:' && target.protocol === 'https:' && target.hostname === site.hostname;
      if (target.origin === site.origin || upgrade) return;
      throw new ConnectorError(
        `${sent.label}: Jira at ${site.host} redirected to ${target.protocol}//${target.host}, another origin; pmo-sync sends the request and ${credential} to ${site.origin} only (if the ${originSetting === 'baseUrl' ? 'site' : 'gateway'} moved, set ${originSetting} to its new URL)`,
        errOpts(),
      );
    },
  });

  /**
   * Waits for room under the per-issue write limit and reserves it. The reservation is stamped
   * again when the answer arrives: Jira counts the write when it reaches Jira, which is no later
   * than that, so our window never opens before Jira's does.
   */
  async function waitForIssueSlot(key: string, signal: AbortSignal): Promise<{ t: number }> {
    for (;;) {
      const at = now();
      const longest = Math.max(...writeLimits.map((l) => l.windowMs));
      const slots = (writesByIssue.get(key) ?? []).filter((x) => x.t > at - longest);
      writesByIssue.set(key, slots);
      let wait = 0;
      for (const l of writeLimits) {
        const inWindow = slots
          .filter((x) => x.t > at - l.windowMs)
          .map((x) => x.t)
          .sort((a, b) => a - b);
        if (inWindow.length >= l.max) wait = Math.max(wait, inWindow[inWindow.length - l.max]! + l.windowMs - at);
      }
      if (wait <= 0) {
        const slot = { t: at };
        slots.push(slot);
        return slot;
      }
      stats.throttled += 1;
      await abortableSleep(sleep, wait, signal);
    }
  }

  async function errorFor(res: Response, sent: Sent, wait: number | null): Promise<ConnectorError> {
    const text = await res.text().catch(() => '');
    let detail = '';
    try {
      const j = JSON.parse(text) as { errorMessages?: string[]; errors?: Record<string, string>; message?: string };
      detail = [
        ...(j.errorMessages ?? []),
        ...Object.entries(j.errors ?? {}).map(([k, v]) => `${k}: ${v}`),
        j.message ?? '',
      ]
        .filter(Boolean)
        .join('; ');
    } catch {
      detail = text.slice(0, 200);
    }
    detail = detail.replace(/\s+/g, ' ').trim();
    const tail = detail ? `: ${redact(detail)}` : '';
    const s = res.status;
    if (s === 401) {
      const fix = `set ${creds.setting} of connection "${opts.connection}"`;
      if (saysExpired(res, text))
        return new AuthError(
          `Jira at ${site.host} rejected ${credential} (401 on ${sent.label}): it has expired; ${creds.kind === 'oauth' ? 'the refresh did not help, consent again and ' : 'create a new one and '}${fix}`,
          errOpts(s),
        );
      return new AuthError(
        `Jira at ${site.host} rejected ${credential} (401 on ${sent.label}); check that it is valid and not expired (${fix})`,
        errOpts(s),
      );
    }
    if (s === 403) {
      const permission = permissionFor(sent.label);
      const lacks = permission ? `the "${permission}" permission` : 'the permission';
      return new AuthError(
        `Jira at ${site.host} refused ${sent.label} for ${credential} (403): the account lacks ${lacks}${tail}`,
        errOpts(s),
      );
    }
    if (s === 404) {
      // An endpoint every Jira Cloud site has: a 404 says the URL is not one.
      if (!sent.label.includes('{')) {
        return new NotFoundError(
          `Jira at ${site.host} answered 404 for ${sent.label}: is \`baseUrl\` a Jira Cloud site?`,
          errOpts(s),
        );
      }
      return new NotFoundError(`${sent.label}: not found in Jira${tail}`, errOpts(s));
    }
    if (s === 409) return new ConflictError(`${sent.label}: conflict${tail}`, errOpts(s));
    if (s === 429) {
      return new RateLimitError(`${sent.label}: Jira is still rate limiting after ${maxAttempts} attempts${tail}`, {
        ...errOpts(s),
        retryAfterMs: wait ?? 0,
      });
    }
    return new ConnectorError(`${sent.label} failed with HTTP ${s}${tail}`, errOpts(s));
  }

  /**
   * A 429 (or a 503 with Retry-After) closes its endpoint's gate — the connection's, for a quota —
   * for the wait Jira asked for, capped. Null for any other answer.
   */
  function throttleOf(res: Response, rl: JiraRateLimit, sent: Sent, attempt: number): Throttle | null {
    const asked = rl.waitMs;
    if (res.status !== 429 && !(res.status === 503 && asked !== null)) return null;
    const reason = rl.reason ?? '';
    const isQuota = rl.scope === 'quota';
    // The points quota resets on the hour: waiting less only earns a second 429.
    const capS = isQuota ? maxQuotaS : maxWaitS;
    const wait = capWait(asked ?? backoff(attempt + 2), capS * 1000);
    if (wait.capped) {
      const setting = isQuota ? 'limits.maxQuotaPauseSeconds' : 'limits.maxRetryAfterSeconds';
      warn(`${sent.label}: Jira asked to wait longer than ${setting} (${capS} s); waited ${capS} s`);
      opts.log.warn({ endpoint: sent.label, askedMs: asked, capMs: wait.ms }, 'jira Retry-After above the cap');
    }
    // Retry-After is a minimum: jitter only ever adds to it, so a crowd of clients spreads out.
    // A quota is the whole connection's; a burst limit is one endpoint and method's.
    const until = now() + wait.ms + Math.round(random() * Math.min(1000, baseDelay));
    // A per-issue write limit is the issue's: writes to other issues go on.
    const issueScoped = rl.scope === 'issue-write' && sent.issueKey !== null;
    pacer.hold(isQuota ? null : issueScoped ? issueGate(sent.issueKey!) : sent.label, until);
    if (isQuota) {
      quota.pauses += 1;
      quota.pausedUntil = new Date(until).toISOString();
      quota.reason = reason;
      opts.log.warn({ reason, until: quota.pausedUntil }, 'jira points quota spent: connection paused until the reset');
    }
    return { waitMs: wait.ms, reason };
  }

  /** The gates a request waits for: its endpoint and method's, and for a write, its issue's. */
  const issueGate = (key: string) => `issue ${key}`;
  const gatesOf = (sent: Sent) => (sent.issueKey ? [sent.label, issueGate(sent.issueKey)] : [sent.label]);

  /**
   * Once Jira says the points quota is nearly spent, the rest is spread over the time to its
   * reset (one request's points at a time) instead of spent at full speed into a 429. Without
   * numbers to go by, requests go at a quarter of the configured rate.
   */
  function paceNearLimit(rl: JiraRateLimit): void {
    const left = rl.quota?.left ?? null;
    if (left !== null) {
      if (near.lastLeft !== null && near.sinceLast > 0 && left < near.lastLeft) {
        const cost = (near.lastLeft - left) / near.sinceLast;
        // The first measure replaces the guess; later ones move the average.
        near.costPerRequest = near.measured ? 0.7 * near.costPerRequest + 0.3 * cost : cost;
        near.measured = true;
      }
      near.lastLeft = left;
      near.sinceLast = 0;
    }
    if (!isNearLimit(rl)) return;
    const resetS = rl.quota?.resetS ?? null;
    const spacing =
      left !== null && resetS !== null
        ? Math.ceil((resetS * 1000) / Math.max(1, left / Math.max(1, near.costPerRequest)))
        : Math.ceil(4000 / rps);
    const at = now();
    near.nextAt = Math.max(near.nextAt, at) + Math.min(spacing, maxQuotaS * 1000);
    quota.nearLimitSlowdowns += 1;
    pacer.hold(null, near.nextAt);
  }

  /**
   * Keeps each endpoint and method under Jira's burst limit, a token bucket as Jira's is: a
   * second's worth may go at once, then the method's rate. False when this request must wait.
   */
  function takeBurstSlot(sent: Sent): boolean {
    const perSecond = burst[sent.method];
    if (!perSecond) return true;
    const at = now();
    const b = buckets.get(sent.label) ?? { tokens: perSecond, at };
    b.tokens = Math.min(perSecond, b.tokens + ((at - b.at) * perSecond) / 1000);
    b.at = at;
    buckets.set(sent.label, b);
    if (b.tokens < 1) {
      pacer.hold(sent.label, at + Math.ceil(((1 - b.tokens) * 1000) / perSecond));
      return false;
    }
    b.tokens -= 1;
    return true;
  }

  /**
   * Sends one attempt once its endpoint's gate (and the connection's) is open. The gate is waited
   * for outside the queue, so a paused endpoint holds no concurrency slot other endpoints need,
   * and checked again inside it, so a request queued before a 429 arrived does not leave early.
   * A 429 closes the gate before the slot is given up, so the next queued request already sees it.
   */
  async function dispatch(
    url: string,
    init: RequestInit,
    sent: Sent,
    attempt: number,
    signal: AbortSignal,
  ): Promise<{ res: Response; throttle: Throttle | null }> {
    for (;;) {
      for (const gate of gatesOf(sent)) await pacer.ready(gate, signal);
      const out = await queue.add(
        async () => {
          if (gatesOf(sent).some((g) => pacer.openAt(g) > now()) || !takeBurstSlot(sent)) return GATE_MOVED;
          stats.requests += 1;
          near.sinceLast += 1;
          stats.byEndpoint[sent.label] = (stats.byEndpoint[sent.label] ?? 0) + 1;
          const { response } = await fetchWithinPolicy(
            fetch,
            url,
            { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) },
            redirectPolicy(sent),
          );
          const rl = readJiraRateLimit(response.headers, now());
          paceNearLimit(rl);
          return { res: response, throttle: throttleOf(response, rl, sent, attempt) };
        },
        { signal },
      );
      if (out !== GATE_MOVED) return out;
    }
  }

  async function attempts<T>(sent: Sent, url: string, init: RequestInit, signal: AbortSignal): Promise<T> {
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      const slot = sent.issueKey ? await waitForIssueSlot(sent.issueKey, signal) : null;
      let res: Response;
      let throttle: Throttle | null;
      let authorization = '';
      try {
        // Asked per attempt: an OAuth access token may have been refreshed meanwhile.
        authorization = await creds.header(signal);
        const headers = { ...(init.headers as Record<string, string>), Authorization: authorization };
        ({ res, throttle } = await dispatch(url, { ...init, headers }, sent, attempt, signal));
        if (slot) slot.t = now();
      } catch (cause) {
        if (signal.aborted) throw abortedBy(signal);
        if (cause instanceof ConnectorError) throw cause;
        if (cause instanceof TooManyRedirectsError) {
          throw new ConnectorError(`${sent.label}: Jira at ${site.host}: ${cause.message}`, errOpts());
        }
        const problem = describeNetworkError(cause, { url, setting: 'baseUrl', timeoutMs });
        // A dropped connection may have reached Jira: only calls that are safe twice go again.
        if (problem.transient && sent.idempotent && attempt < maxAttempts) {
          stats.retries += 1;
          opts.log.debug(
            { endpoint: sent.label, attempt, code: problem.code },
            'jira request failed in transit; retrying',
          );
          await abortableSleep(sleep, backoff(attempt), signal);
          continue;
        }
        throw new ConnectorError(`${sent.label}: ${redact(problem.message)}`, errOpts(undefined, cause));
      }
      if (res.ok) {
        if (res.status === 204) return undefined as T;
        const text = await res.text();
        if (text.length === 0) return undefined as T;
        try {
          return parseJson(text) as T;
        } catch {
          throw new SchemaError(sent.label, [{ path: '', message: 'response is not JSON' }], errOpts(res.status));
        }
      }
      if (throttle) {
        stats.throttled += 1;
        // A 429 is refused before Jira does anything, so even a non-idempotent call is safe to resend.
        // The gate throttleOf() closed is where the retry waits.
        if (attempt < maxAttempts && (res.status === 429 || sent.idempotent)) {
          await res.body?.cancel();
          stats.retries += 1;
          opts.log.debug(
            { endpoint: sent.label, status: res.status, reason: throttle.reason, waitMs: throttle.waitMs },
            'jira asked us to slow down',
          );
          continue;
        }
        throw await errorFor(res, sent, throttle.waitMs);
      }
      // An expired OAuth access token is refreshed once; the request was refused, so sending it again is safe.
      if (res.status === 401 && !renewed && (await creds.renew(authorization, signal))) {
        await res.body?.cancel();
        renewed = true;
        stats.retries += 1;
        continue;
      }
      const asked = askedWaitMs(res, now());
      if (res.status >= 500 && sent.idempotent && attempt < maxAttempts) {
        await res.body?.cancel();
        stats.retries += 1;
        await abortableSleep(sleep, asked === null ? backoff(attempt) : capWait(asked, maxWaitS * 1000).ms, signal);
        continue;
      }
      throw await errorFor(res, sent, asked);
    }
  }

  async function sendRequest<T>(req: SendRequestOptions<T>): Promise<T> {
    if (closing.signal.aborted) throw closedError();
    const signal = requestSignal(closing.signal, scope);
    const sent = describeRequest(req.method ?? 'GET', req.url);
    const headers: Record<string, string> = { Accept: 'application/json', ...(req.headers as Record<string, string>) };
    const hasBody = req.body !== undefined && req.body !== null;
    if (hasBody) headers['Content-Type'] = 'application/json';
    const init: RequestInit = { method: sent.method, headers, body: hasBody ? JSON.stringify(req.body) : undefined };
    try {
      const url = buildUrl(
        await creds.apiBase(signal),
        req.url,
        req.searchParams as Record<string, unknown> | undefined,
      );
      return await attempts<T>(sent, url, init, signal);
    } catch (err) {
      throw signal.aborted ? abortedBy(signal) : err;
    }
  }

  return {
    sendRequest,
    withSignal: (signal, fn) => scope.run(signal, fn),
    stats: () => ({ ...stats, byEndpoint: { ...stats.byEndpoint }, warnings: { ...warnings }, quota: { ...quota } }),
    async close() {
      closing.abort();
      queue.clear();
      await queue.onIdle();
    },
  };
}

/** jira.js's endpoint catalogue over our transport. */
export function createJiraApi(transport: JiraTransport) {
  return createCloudClient(transport);
}
export type JiraApi = ReturnType<typeof createJiraApi>;
