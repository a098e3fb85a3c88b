// What Jira Cloud says about its rate limits on an answer, read once per response: the reason
// of a 429 (which limit, hence which scope to hold), when the limit resets, and whether the
// points quota is nearly spent, so the transport slows down before Jira has to refuse anything.
// Jira sends the policy headers in final, `Beta-` and `X-Beta-` forms (the 2026 points quota
// first shipped as beta headers); every form is read, the final one preferred.
import { parseRateLimitField, parseResetAt, parseRetryAfter, type RateLimitItem } from '../http/pacing.ts';

/** Which of Jira's three independent limits an answer is about. */
export type JiraLimitScope = 'quota' | 'burst' | 'issue-write';

export interface JiraRateLimit {
  /** RateLimit-Reason as sent (`jira-quota-tenant-based`…); null when absent. */
  reason: string | null;
  scope: JiraLimitScope | null;
  /** Jira flagged that less than a fifth of the quota is left (X-RateLimit-NearLimit: true). */
  nearLimit: boolean;
  /** X-RateLimit-Limit / X-RateLimit-Remaining, when sent. */
  limit: number | null;
  remaining: number | null;
  /** Milliseconds until the limit resets: the latest of Retry-After, X-RateLimit-Reset and RateLimit `t`. */
  waitMs: number | null;
  /** The points quota in force (RateLimit-Policy `q` over `w` seconds) and what is left of it (RateLimit `r`, `t`). */
  quota: { points: number | null; windowS: number | null; left: number | null; resetS: number | null } | null;
}

/** Names Jira's reason values carry, mapped to the scope a client must hold. */
export function scopeOfReason(reason: string | null): JiraLimitScope | null {
  if (!reason) return null;
  if (/quota/i.test(reason)) return 'quota';
  if (/per-issue|on-write/i.test(reason)) return 'issue-write';
  if (/burst/i.test(reason)) return 'burst';
  return null;
}

/** A header in its final form or, failing that, its `X-`, `Beta-` or `X-Beta-` form. */
function pick(h: Headers, name: string): string | null {
  const bare = name.replace(/^x-/i, '');
  for (const n of [name, `x-${bare}`, `beta-${bare}`, `x-beta-${bare}`]) {
    const v = h.get(n);
    if (v !== null) return v;
  }
  return null;
}

const count = (v: string | null): number | null => (v !== null && /^\s*\d{1,15}\s*$/.test(v) ? Number(v) : null);

/** The quota item of a RateLimit field: the one named like a quota, else the only one. */
function quotaItem(items: RateLimitItem[]): RateLimitItem | null {
  return items.find((i) => /quota/i.test(i.name)) ?? (items.length === 1 ? items[0]! : null);
}

export function readJiraRateLimit(h: Headers, now: number): JiraRateLimit {
  const reason = pick(h, 'ratelimit-reason')?.trim().slice(0, 100) || null;
  const policy = quotaItem(parseRateLimitField(pick(h, 'ratelimit-policy')));
  const current = quotaItem(parseRateLimitField(pick(h, 'ratelimit')));
  const quota =
    policy || current
      ? {
          points: policy?.params.q ?? null,
          windowS: policy?.params.w ?? null,
          left: current?.params.r ?? null,
          resetS: current?.params.t ?? null,
        }
      : null;
  const waits = [
    parseRetryAfter(h.get('retry-after'), now),
    parseResetAt(pick(h, 'x-ratelimit-reset'), now),
    // `t` only says when the quota resets: it is a wait only on an answer that refused us.
    scopeOfReason(reason) === 'quota' && quota?.resetS != null ? quota.resetS * 1000 : null,
  ].filter((w): w is number => w !== null);
  return {
    reason,
    scope: scopeOfReason(reason),
    nearLimit: /^\s*true\s*$/i.test(pick(h, 'x-ratelimit-nearlimit') ?? ''),
    limit: count(h.get('x-ratelimit-limit')),
    remaining: count(h.get('x-ratelimit-remaining')),
    waitMs: waits.length ? Math.max(...waits) : null,
    quota,
  };
}

/** Share of the quota under which the transport paces itself even without Jira's NearLimit flag. */
export const NEAR_LIMIT_SHARE = 0.2;

/** The answer says the points quota is nearly spent. */
export function isNearLimit(rl: JiraRateLimit): boolean {
  if (rl.nearLimit) return true;
  const q = rl.quota;
  return !!q && q.points !== null && q.points > 0 && q.left !== null && q.left <= q.points * NEAR_LIMIT_SHARE;
}
