// How a tracker connection waits, shared by the Jira and Azure DevOps transports: Retry-After
// read and capped, gates that hold one endpoint (or the whole connection) until an instant so
// every request to it waits — queued ones included — and sleeps that an AbortSignal cuts short,
// so closing a connection never waits out a tracker's pause.
import { AsyncLocalStorage } from 'node:async_hooks';

/** A sleep that ends early, rejecting with the signal's reason, when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * `sleep(ms)` cut short when `signal` aborts, whatever the sleep does with the signal: an
 * injected test sleep need not know about signals for close() to end a wait at once.
 */
export function abortableSleep(sleep: Sleep, ms: number, signal: AbortSignal): Promise<void> {
  return raceAbort(sleep(ms, signal), signal);
}

/** `work`, or the signal's reason as soon as it aborts (the work itself is left to finish). */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => {});
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  const v = value?.trim();
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // An HTTP date names its day and month; Date.parse alone would read "-5" as a year.
  const at = /[a-z]{3}/i.test(v) ? Date.parse(v) : Number.NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** An absolute instant (ISO 8601, as Jira's X-RateLimit-Reset) as milliseconds from now; null when unreadable. */
export function parseResetAt(value: string | null | undefined, now: number): number | null {
  const v = value?.trim();
  if (!v || !/^\d{4}-\d{2}-\d{2}T/.test(v)) return null;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Default cap on any wait a tracker asks for (Retry-After, a quota reset): 10 minutes. */
export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 600;

/**
 * A wait the tracker asked for, capped: a hostile or broken answer (1,900,000 s) must not park a
 * sync for weeks while it holds the schedule lock. `capped` says the cap was hit.
 */
export function capWait(askedMs: number, maxMs: number): { ms: number; capped: boolean } {
  return askedMs > maxMs ? { ms: maxMs, capped: true } : { ms: askedMs, capped: false };
}

export interface Pacer {
  /** No request to `key` (with `null`: to any key) leaves before `until` (clock ms). Holds only ever lengthen. */
  hold(key: string | null, until: number): void;
  /** When a request to `key` may leave next (clock ms; at or before now when it may go at once). */
  openAt(key: string): number;
  /** Resolves once a request to `key` may leave; rejects with the signal's reason if it aborts first. */
  ready(key: string, signal: AbortSignal): Promise<void>;
}

/**
 * Gates per key (Jira: endpoint and method, its burst limit's scope) and one for the whole
 * connection (a quota, Azure DevOps' per-user budget). `ready` checks again after every sleep,
 * because a 429 that arrives while a request waits may move its gate further out.
 */
export function createPacer(deps: { now: () => number; sleep: Sleep }): Pacer {
  let all = 0;
  const byKey = new Map<string, number>();
  const openAt = (key: string) => Math.max(all, byKey.get(key) ?? 0);
  return {
    hold(key, until) {
      if (key === null) all = Math.max(all, until);
      else byKey.set(key, Math.max(byKey.get(key) ?? 0, until));
    },
    openAt,
    async ready(key, signal) {
      for (;;) {
        signal.throwIfAborted();
        const now = deps.now();
        const wait = openAt(key) - now;
        if (wait <= 0) {
          // Expired gates are forgotten, so the map holds only endpoints that are paused now.
          if ((byKey.get(key) ?? Number.POSITIVE_INFINITY) <= now) byKey.delete(key);
          return;
        }
        await abortableSleep(deps.sleep, wait, signal);
      }
    },
  };
}

/**
 * Carries a caller's AbortSignal (a pull's) to the requests it causes, through code that has no
 * way to pass one (jira.js's endpoint methods, the reader's page chain).
 */
export function createSignalScope() {
  const store = new AsyncLocalStorage<AbortSignal>();
  return {
    run<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
      return signal ? store.run(signal, fn) : fn();
    },
    current: (): AbortSignal | undefined => store.getStore(),
  };
}
export type SignalScope = ReturnType<typeof createSignalScope>;

/** The signal a request obeys: the connection's (aborted by close()) and its caller's, if any. */
export function requestSignal(closing: AbortSignal, scope: SignalScope): AbortSignal {
  const caller = scope.current();
  return caller ? AbortSignal.any([closing, caller]) : closing;
}

/** One item of a RateLimit / RateLimit-Policy structured field: `"tenant-app-quota";q=100100;w=3600`. */
export interface RateLimitItem {
  name: string;
  params: Record<string, number>;
}

/**
 * The IETF RateLimit / RateLimit-Policy fields (draft-ietf-httpapi-ratelimit-headers), as
 * Atlassian sends them: a list of quoted policy names with numeric parameters. Anything that
 * is not a name with numbers is skipped, never guessed at; at most 8 items are read.
 */
export function parseRateLimitField(value: string | null | undefined): RateLimitItem[] {
  if (!value) return [];
  const out: RateLimitItem[] = [];
  for (const part of value.slice(0, 2000).split(',').slice(0, 8)) {
    const [head, ...rest] = part.split(';').map((s) => s.trim());
    const name = /^"([^"]{1,100})"$/.exec(head ?? '')?.[1] ?? /^[a-z][\w.-]{0,99}$/i.exec(head ?? '')?.[0];
    if (!name) continue;
    const params: Record<string, number> = {};
    for (const p of rest) {
      const m = /^([a-z][\w-]{0,20})=(\d{1,15})$/i.exec(p);
      if (m) params[m[1]!.toLowerCase()] = Number(m[2]);
    }
    out.push({ name, params });
  }
  return out;
}
