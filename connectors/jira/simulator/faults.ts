// What can go wrong, on purpose: latency, Jira's three rate limits (burst per endpoint, tenant
// quota, per-issue writes), injected 5xx, hung requests, reset connections, and scripted faults
// for deterministic tests. Random faults draw from a seeded generator, so a run can be replayed.

import type { BurstPerMethod, PointsQuota } from './points.ts';

export interface RateWindow {
  limit: number;
  windowMs: number;
  retryAfterSec?: number;
}

export interface WebhookFaults {
  /** Share of deliveries sent twice with the same identifier. */
  duplicateRate?: number;
  /** Share of deliveries never sent. */
  dropRate?: number;
  /** Share of deliveries held back by `lateMs` (so they arrive after later ones). */
  lateRate?: number;
  lateMs?: number;
}

export interface JiraSimFaults {
  /** Added before every answer. */
  latencyMs: number;
  /** Per endpoint label: more than `limit` requests in `windowMs` → 429 `jira-burst-based`. */
  burst: RateWindow | null;
  /** Whole tenant: more than `limit` requests in `windowMs` → 429 `jira-quota-tenant-based`. */
  quota: RateWindow | null;
  /** Jira's 2026 hourly points quota per tenant, with its headers on every answer (points.ts). */
  points: PointsQuota | null;
  /** Burst buckets per endpoint and method, requests per second (Jira: `JIRA_BURST_DEFAULTS`). */
  burstPerMethod: BurstPerMethod | null;
  /** Per-issue writes (Jira: 20 / 2 s and 100 / 30 s) → 429 `jira-per-issue-on-write`; `[]` disables. */
  issueWriteLimits: RateWindow[];
  /** Share of requests answered 500/503. */
  serverErrorRate: number;
  /** Share of requests that hang until `hangMs` passes, then drop the connection. */
  timeoutRate: number;
  hangMs: number;
  /** Share of requests whose connection is reset without an answer. */
  resetRate: number;
  /** How long a new issue stays invisible to search. */
  searchLagMs: number;
  webhooks: WebhookFaults;
}

export const DEFAULT_FAULTS: JiraSimFaults = {
  latencyMs: 0,
  burst: null,
  quota: null,
  points: null,
  burstPerMethod: null,
  issueWriteLimits: [
    { limit: 20, windowMs: 2_000, retryAfterSec: 2 },
    { limit: 100, windowMs: 30_000, retryAfterSec: 30 },
  ],
  serverErrorRate: 0,
  timeoutRate: 0,
  hangMs: 60_000,
  resetRate: 0,
  searchLagMs: 0,
  webhooks: {},
};

/** One scripted failure for the next matching request(s). */
export interface ScriptedFault {
  /** Endpoint label (`POST search/jql`, `PUT issue/{key}`); any endpoint when omitted. */
  endpoint?: string;
  /** HTTP status to answer, or a transport failure. */
  kind: number | 'reset' | 'timeout';
  retryAfterSec?: number;
  reason?: string;
  /** A body to send instead of Jira's error body (e.g. a 200 that breaks the schema). */
  body?: unknown;
  /** Headers added to (or replacing) the answer's, e.g. an `X-RateLimit-Reset` of a test's choosing. */
  headers?: Record<string, string>;
  times?: number;
}

export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'status'; status: number; headers: Record<string, string>; body: unknown }
  | { kind: 'reset' }
  | { kind: 'timeout' };

/** mulberry32: small, fast, good enough to make fault patterns reproducible. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tooMany(reason: string, retryAfterSec: number, now: number, message: string): FaultDecision {
  return {
    kind: 'status',
    status: 429,
    headers: {
      'Retry-After': String(retryAfterSec),
      'RateLimit-Reason': reason,
      'X-RateLimit-Reset': new Date(now + retryAfterSec * 1000).toISOString(),
    },
    body: { errorMessages: [message], errors: {} },
  };
}

export function createFaults(seed: number, now: () => number) {
  let config: JiraSimFaults = structuredClone(DEFAULT_FAULTS);
  let rng = createRng(seed);
  const scripted: ScriptedFault[] = [];
  const byEndpoint = new Map<string, number[]>();
  const tenant: number[] = [];
  const writes = new Map<string, number[]>();

  const hits = (list: number[], windowMs: number, at: number) => {
    while (list.length && list[0]! <= at - windowMs) list.shift();
    return list.length;
  };

  /** Decides the fate of one request before it is served. */
  function decide(label: string, issueWriteKey: string | null): FaultDecision {
    const at = now();
    const idx = scripted.findIndex((f) => !f.endpoint || f.endpoint === label);
    if (idx >= 0) {
      const f = scripted[idx]!;
      f.times = (f.times ?? 1) - 1;
      if (f.times <= 0) scripted.splice(idx, 1);
      if (f.kind === 'reset' || f.kind === 'timeout') return { kind: f.kind };
      if (f.kind === 429) {
        const d = tooMany(f.reason ?? 'jira-burst-based', f.retryAfterSec ?? 1, at, 'Rate limit exceeded.');
        if (d.kind === 'status' && f.body !== undefined) d.body = f.body;
        if (d.kind === 'status') Object.assign(d.headers, f.headers);
        return d;
      }
      const headers: Record<string, string> = {
        ...(f.retryAfterSec !== undefined ? { 'Retry-After': String(f.retryAfterSec) } : {}),
        ...f.headers,
      };
      return {
        kind: 'status',
        status: f.kind,
        headers,
        body: f.body ?? { errorMessages: [`Injected HTTP ${f.kind}`], errors: {} },
      };
    }
    if (config.quota) {
      if (hits(tenant, config.quota.windowMs, at) >= config.quota.limit) {
        return tooMany(
          'jira-quota-tenant-based',
          config.quota.retryAfterSec ?? 60,
          at,
          'API quota exhausted for this tenant.',
        );
      }
      tenant.push(at);
    }
    if (config.burst) {
      const list = byEndpoint.get(label) ?? [];
      byEndpoint.set(label, list);
      if (hits(list, config.burst.windowMs, at) >= config.burst.limit) {
        return tooMany('jira-burst-based', config.burst.retryAfterSec ?? 1, at, 'Rate limit exceeded.');
      }
      list.push(at);
    }
    if (issueWriteKey && config.issueWriteLimits.length) {
      const list = writes.get(issueWriteKey) ?? [];
      writes.set(issueWriteKey, list);
      const longest = Math.max(...config.issueWriteLimits.map((w) => w.windowMs));
      hits(list, longest, at);
      const broken = config.issueWriteLimits.find((w) => list.filter((x) => x > at - w.windowMs).length >= w.limit);
      if (broken)
        return tooMany('jira-per-issue-on-write', broken.retryAfterSec ?? 2, at, 'Too many updates to this issue.');
      list.push(at);
    }
    if (config.resetRate && rng() < config.resetRate) return { kind: 'reset' };
    if (config.timeoutRate && rng() < config.timeoutRate) return { kind: 'timeout' };
    if (config.serverErrorRate && rng() < config.serverErrorRate) {
      const status = rng() < 0.5 ? 500 : 503;
      return { kind: 'status', status, headers: {}, body: { errorMessages: ['Internal server error'], errors: {} } };
    }
    return { kind: 'none' };
  }

  return {
    decide,
    get: () => config,
    set(patch: Partial<JiraSimFaults>, newSeed?: number) {
      config = { ...config, ...structuredClone(patch) };
      if (newSeed !== undefined) rng = createRng(newSeed);
    },
    reset() {
      config = structuredClone(DEFAULT_FAULTS);
      scripted.length = 0;
    },
    failNext(f: ScriptedFault) {
      scripted.push({ ...f });
    },
    random: () => rng(),
  };
}
export type JiraSimFaultControl = ReturnType<typeof createFaults>;
