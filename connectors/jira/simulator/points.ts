// Jira Cloud's 2026 limits, as the simulator enforces them: an hourly points quota per tenant
// (1 point per request, +1 per core object read, +2 per identity object, a write 1 point in all)
// announced on every answer with RateLimit-Policy / RateLimit and X-RateLimit-NearLimit, and
// burst buckets per endpoint and method (Jira's defaults: GET/POST 100/s, PUT/DELETE 50/s).
// Headers come in their final form, or in the Beta- / X-Beta- forms Jira first shipped.

export interface PointsQuota {
  /** Points per window (Jira's default tiers are tens of thousands per hour). */
  perHour: number;
  /** Window length; default one hour, windows aligned to the hour as Jira's are. */
  windowMs?: number;
  /** Share of the quota under which answers carry X-RateLimit-NearLimit: true (default 0.2). */
  nearLimitShare?: number;
  /** Send the Beta- / X-Beta- header forms instead of the final ones. */
  beta?: boolean;
  /** Which quota: the tenant's (default) or the app's global one across tenants. */
  scope?: 'tenant' | 'global';
}

/** Requests per second per endpoint and method; a method left out is not limited. */
export type BurstPerMethod = Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', number>>;

export const JIRA_BURST_DEFAULTS: BurstPerMethod = { GET: 100, POST: 100, PUT: 50, DELETE: 50 };

/** POSTs that only read (they cost like reads). */
const READ_POSTS = new Set([
  'POST search/jql',
  'POST search/approximate-count',
  'POST issue/bulkfetch',
  'POST changelog/bulkfetch',
]);

/** Keys of an answer whose arrays are core objects (issues, comments, changelogs, webhooks). */
const CORE_LISTS = ['issues', 'comments', 'issueChangeLogs', 'values'];

/** Points one answer costs, by Jira's published rule. */
export function pointsFor(label: string, body: unknown): number {
  const method = label.split(' ')[0];
  if (method !== 'GET' && !READ_POSTS.has(label)) return 1;
  let objects = 0;
  let identities = 0;
  if (Array.isArray(body)) objects += body.length;
  else if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const k of CORE_LISTS) if (Array.isArray(b[k])) objects += (b[k] as unknown[]).length;
    if (label === 'GET issue/{key}' || label === 'GET issue/{key}/comment/{id}') objects += 1;
    if (label === 'GET myself') identities += 1;
  }
  return 1 + objects + 2 * identities;
}

export function createPointsMeter(
  now: () => number,
  settings: () => { points: PointsQuota | null; burstPerMethod: BurstPerMethod | null },
) {
  let quota: PointsQuota | null = null;
  let windowStart = 0;
  let used = 0;
  let spent = 0;
  const byEndpoint: Record<string, number> = {};
  const buckets = new Map<string, { tokens: number; at: number }>();

  const windowMs = () => quota?.windowMs ?? 3_600_000;
  const roll = () => {
    const start = Math.floor(now() / windowMs()) * windowMs();
    if (start !== windowStart) {
      windowStart = start;
      used = 0;
    }
  };
  const name = (final: string, beta: string) => (quota?.beta ? beta : final);
  const policy = () => (quota?.scope === 'global' ? 'global-app-quota' : 'tenant-app-quota');
  const reason = () => (quota?.scope === 'global' ? 'jira-quota-global-based' : 'jira-quota-tenant-based');

  /** Quota headers for an answer, from the points left now. */
  function quotaHeaders(): Record<string, string> {
    if (!quota) return {};
    roll();
    const left = Math.max(0, quota.perHour - used);
    const resetS = Math.ceil((windowStart + windowMs() - now()) / 1000);
    const h: Record<string, string> = {
      [name('RateLimit-Policy', 'Beta-RateLimit-Policy')]: `"${policy()}";q=${quota.perHour};w=${windowMs() / 1000}`,
      [name('RateLimit', 'Beta-RateLimit')]: `"${policy()}";r=${left};t=${resetS}`,
    };
    if (left <= quota.perHour * (quota.nearLimitShare ?? 0.2)) {
      h[name('X-RateLimit-NearLimit', 'X-Beta-RateLimit-NearLimit')] = 'true';
      h[name('RateLimit-Reason', 'X-Beta-RateLimit-Reason')] = reason();
    }
    return h;
  }

  return {
    /** A 429 for this request (its headers and body), or null when it may be served. */
    refuse(label: string): { headers: Record<string, string>; message: string } | null {
      const at = now();
      quota = settings().points;
      const burst = settings().burstPerMethod;
      if (quota) {
        roll();
        if (used >= quota.perHour) {
          const reset = windowStart + windowMs();
          return {
            headers: {
              ...quotaHeaders(),
              'Retry-After': String(Math.ceil((reset - at) / 1000)),
              [name('RateLimit-Reason', 'X-Beta-RateLimit-Reason')]: reason(),
              [name('X-RateLimit-Reset', 'X-Beta-RateLimit-Reset')]: new Date(reset).toISOString(),
              'X-RateLimit-Limit': String(quota.perHour),
              'X-RateLimit-Remaining': '0',
            },
            message: 'API points quota exhausted for this tenant.',
          };
        }
      }
      const rate = burst?.[label.split(' ')[0] as keyof BurstPerMethod];
      if (rate) {
        const b = buckets.get(label) ?? { tokens: rate, at };
        b.tokens = Math.min(rate, b.tokens + ((at - b.at) * rate) / 1000);
        b.at = at;
        buckets.set(label, b);
        if (b.tokens < 1) {
          const waitMs = Math.ceil(((1 - b.tokens) * 1000) / rate);
          return {
            headers: {
              'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
              'RateLimit-Reason': 'jira-burst-based',
              'X-RateLimit-Reset': new Date(at + waitMs).toISOString(),
              'X-RateLimit-Limit': String(rate),
              'X-RateLimit-Remaining': '0',
            },
            message: 'Rate limit exceeded.',
          };
        }
        b.tokens -= 1;
      }
      return null;
    },
    /** Charges an answer's points and returns the headers it carries. A refused request costs nothing. */
    charge(label: string, body: unknown): Record<string, string> {
      quota = settings().points;
      const cost = pointsFor(label, body);
      spent += cost;
      byEndpoint[label] = (byEndpoint[label] ?? 0) + cost;
      if (!quota) return {};
      roll();
      used += cost;
      return quotaHeaders();
    },
    /** Points charged since the simulator started (or the last reset), quota or not. */
    spent: () => spent,
    /** Points charged by endpoint label. */
    spentByEndpoint: () => ({ ...byEndpoint }),
    resetSpent() {
      spent = 0;
      for (const k of Object.keys(byEndpoint)) delete byEndpoint[k];
    },
  };
}
export type PointsMeter = ReturnType<typeof createPointsMeter>;
