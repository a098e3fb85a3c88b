// What `pmo-sync doctor` asks of a tracker, shared by both trackers' checks: the shape of one
// checklist line, and a probe that reads the tracker's API the way the checks need it: one
// attempt per request (a checklist reports what it finds, it does not retry its way past it),
// the answer's headers kept (rate-limit headroom is read from them), and the credential sent only
// to the configured origin (a redirect is reported, never followed).
import { describeNetworkError } from './http/net-errors.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the checklist. `fix` is set on every `fail` and `warn`. */
export interface DoctorCheck {
  /** A connection id, or `database` / `config`. */
  scope: string;
  /** What was checked: `credentials`, `permission: comment`, `field health (customfield_12346)`… */
  check: string;
  status: CheckStatus;
  /** What was found, in a few words. */
  detail: string;
  fix?: string;
}

export interface ProbeReply {
  status: number;
  /** The parsed JSON body; null when there is none or it is not JSON. */
  body: unknown;
  headers: Headers;
}

export interface ProbeOptions {
  baseUrl: string;
  /** The Authorization header value; null when doctor cannot build one for this kind of auth. */
  authorization: string | null;
  /** The config key holding the URL, named when the tracker cannot be reached (`baseUrl`, `orgUrl`). */
  setting: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface Probe {
  get(path: string, query?: Record<string, string>): Promise<ProbeReply>;
  /** A POST that only reads (a WIQL query). */
  post(path: string, body: unknown, query?: Record<string, string>): Promise<ProbeReply>;
  /** Every answer's status and headers in order, for the rate-limit check. */
  answers(): { status: number; headers: Headers }[];
}

/** A probe request that got no usable answer: the network, a timeout or a redirect. */
export class ProbeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProbeError';
  }
}

export function createProbe(opts: ProbeOptions): Probe {
  const doFetch = opts.fetch ?? fetch;
  const base = new URL(opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
  const seen: { status: number; headers: Headers }[] = [];
  const send = async (method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: unknown) => {
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.authorization) headers.authorization = opts.authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000),
      });
    } catch (err) {
      const problem = describeNetworkError(err, {
        url,
        setting: opts.setting,
        timeoutMs: opts.timeoutMs ?? 20_000,
      });
      throw new ProbeError(problem.message, { cause: err });
    }
    seen.push({ status: res.status, headers: res.headers });
    if (res.status >= 300 && res.status < 400) {
      const to = res.headers.get('location') ?? 'elsewhere';
      await res.body?.cancel();
      throw new ProbeError(`${url.pathname} answered ${res.status}, redirecting to ${safeHost(to, url)}`);
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // A sign-in page instead of JSON is an answer too: the checks read the status.
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    get: (path, query = {}) => send('GET', path, query),
    post: (path, body, query = {}) => send('POST', path, query, body),
    answers: () => [...seen],
  };
}

/** The host a redirect points at, never its query (which may carry a token). */
function safeHost(location: string, from: URL): string {
  try {
    return new URL(location, from).host;
  } catch {
    return 'an unreadable location';
  }
}

/** When a JWT bearer token (OAuth, Entra ID) expires; null for opaque tokens (API tokens, PATs). */
export function jwtExpiry(token: string): number | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** When the bearer token in an Authorization header expires, if it is a JWT; null otherwise. */
export function headerExpiry(authorization: string | null): number | null {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return m ? jwtExpiry(m[1]!) : null;
}

/** A credential that expires within this is reported as a warning. */
export const EXPIRY_WARNING_MS = 7 * 24 * 3600 * 1000;

/** The expiry part of the credentials line, for a token whose expiry can be read. */
export function expiryCheck(scope: string, expiresAt: number | null, now: number, fix: string): DoctorCheck | null {
  if (expiresAt === null) return null;
  const when = new Date(expiresAt).toISOString();
  if (expiresAt <= now)
    return { scope, check: 'credentials expiry', status: 'fail', detail: `the token expired at ${when}`, fix };
  if (expiresAt - now < EXPIRY_WARNING_MS)
    return { scope, check: 'credentials expiry', status: 'warn', detail: `the token expires at ${when}`, fix };
  return { scope, check: 'credentials expiry', status: 'ok', detail: `the token is valid until ${when}` };
}

/** The message a tracker put in an error body, if any (Jira's errorMessages, Azure DevOps' message). */
export function trackerMessage(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { errorMessages?: unknown; message?: unknown; errors?: unknown };
  if (Array.isArray(b.errorMessages) && b.errorMessages.length > 0) return String(b.errorMessages[0]).slice(0, 200);
  if (typeof b.message === 'string') return b.message.slice(0, 200);
  if (b.errors && typeof b.errors === 'object') {
    const first = Object.values(b.errors as Record<string, unknown>)[0];
    if (typeof first === 'string') return first.slice(0, 200);
  }
  return null;
}

/** The connection's webhook endpoint on pmo-sync's public URL (what `webhooks install` registers). */
export function webhookUrl(publicUrl: string, kind: string, connection: string): string {
  return `${publicUrl.replace(/\/$/, '')}/webhooks/${kind}/${connection}`;
}

/** The request's answer, or the ProbeError that took its place (any other error is a bug: thrown). */
export async function settle(request: Promise<ProbeReply>): Promise<ProbeReply | ProbeError> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof ProbeError) return err;
    throw err;
  }
}

/** `GET myself answered 403: <the tracker's message>`. */
export function answerText(what: string, r: { status: number; body: unknown }): string {
  const msg = trackerMessage(r.body);
  return `${what} answered ${r.status}${msg ? `: ${msg}` : ''}`;
}

/** How one tracker speaks about its limits, for the rate-limit line. */
export interface RateLimitDialect {
  tracker: string;
  /** Why a 429 was sent and until when, from its headers. */
  refusal(headers: Headers): string;
  /** The tracker says it is slowing this account down, or is about to. */
  slowing(headers: Headers): boolean;
  /** `TSTUs` for Azure DevOps; omitted: requests. */
  unit?: string;
  /** The guide that says how to get more headroom. */
  guide: string;
}

/** Below this share of the limit left, headroom is reported as a warning. */
const LOW_HEADROOM = 0.2;

/**
 * Rate-limit headroom from what the tracker said on the answers doctor received: a 429 fails
 * the line, a slowdown or less than a fifth of the limit left warns. `X-RateLimit-Limit` and
 * `X-RateLimit-Remaining` are both trackers' names.
 */
export function rateLimitCheck(probe: Probe, scope: string, d: RateLimitDialect): DoctorCheck {
  const answers = probe.answers();
  const limited = answers.find((a) => a.status === 429);
  if (limited)
    return {
      scope,
      check: 'rate limit',
      status: 'fail',
      detail: `${d.tracker} is refusing requests now (${d.refusal(limited.headers)})`,
      fix: 'lower limits.requestsPerSecond of this connection, or move other integrations on this account off peak hours',
    };
  const last = [...answers].reverse().find((a) => a.headers.get('x-ratelimit-limit'));
  const slowing = answers.some((a) => d.slowing(a.headers));
  if (!last && !slowing)
    return { scope, check: 'rate limit', status: 'ok', detail: `${d.tracker} reported no rate-limit pressure` };
  const limit = Number(last?.headers.get('x-ratelimit-limit'));
  const remaining = Number(last?.headers.get('x-ratelimit-remaining'));
  const share = Number.isFinite(limit) && limit > 0 && Number.isFinite(remaining) ? remaining / limit : null;
  const figures = share === null ? '' : `${remaining} of ${limit} ${d.unit ?? 'requests'} left`;
  if (slowing || (share !== null && share < LOW_HEADROOM))
    return {
      scope,
      check: 'rate limit',
      status: 'warn',
      detail: `${d.tracker} is slowing this account down${figures ? ` (${figures})` : ''}`,
      fix: `lower limits.requestsPerSecond, or give pmo-sync an identity of its own (${d.guide})`,
    };
  return { scope, check: 'rate limit', status: 'ok', detail: `headroom: ${figures}` };
}
