// Atlassian's side of the 2026 credentials, simulated: the site's public /_edge/tenant_info (its
// cloud id), the API gateway's /ex/jira/{cloudId} prefix (the only way in for scoped API tokens
// and OAuth access tokens), the OAuth 2.0 (3LO) token endpoint with rotating refresh tokens (a
// used refresh token stops working at once), access tokens that expire on the simulator's clock,
// and dynamic webhooks (/rest/api/3/webhook) that lapse 30 days after their last refresh.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { badRequest, HttpError } from './read-api.ts';
import type { JiraSimStore } from './store.ts';

export interface SimOAuth {
  clientId: string;
  clientSecret: string;
  /** The refresh token the consent flow handed out; each refresh replaces it. */
  refreshToken: string;
  /** Access token lifetime (Atlassian: 3600 s). */
  accessTokenTtlS?: number;
}

export interface SimGatewayOptions {
  cloudId?: string;
  oauth?: SimOAuth;
  /** Scoped API tokens: accepted through /ex/jira/{cloudId} only, never on the site URL. */
  scopedTokens?: { email: string; apiToken: string }[];
}

/** Dynamic webhooks expire this long after registration or their last refresh. */
export const DYNAMIC_WEBHOOK_TTL_MS = 30 * 24 * 3_600_000;

interface DynamicHook {
  id: number;
  /** The store webhook that does the delivering while this one lives. */
  storeId: number;
  jqlFilter: string;
  events: string[];
  url: string;
  expiresAt: number;
}

export function createGateway(opts: SimGatewayOptions, deps: { now: () => number; store: JiraSimStore }) {
  const cloudId = opts.cloudId ?? 'a1b2c3d4-0000-4000-8000-00000000c10d';
  const access = new Map<string, number>();
  let refreshToken = opts.oauth?.refreshToken ?? null;
  const refreshes: { at: number; rotatedFrom: string }[] = [];
  const dynamic = new Map<number, DynamicHook>();
  let nextDynamic = 1;

  /** Dynamic webhooks past their expiry stop delivering, as Jira's do. */
  function expire(): void {
    for (const h of dynamic.values())
      if (h.expiresAt <= deps.now()) {
        deps.store.removeWebhook(h.storeId);
        dynamic.delete(h.id);
      }
  }

  return {
    cloudId,
    /** `/ex/jira/{cloudId}/rest/…` → `/rest/…`, or null when the path is not through the gateway. */
    strip(path: string): { path: string } | null {
      const m = /^\/ex\/jira\/([^/]+)(\/.*)$/.exec(path);
      if (!m) return null;
      if (decodeURIComponent(m[1]!) !== cloudId)
        throw new HttpError(404, { errorMessages: ['No site with this cloud id.'], errors: {} });
      return { path: m[2]! };
    },
    /**
     * What the Authorization header is worth here: 'ok', 'expired' (a once-valid OAuth access
     * token), or 'unknown' (leave it to the site's own checks). Gateway credentials only count
     * through the gateway.
     */
    check(req: IncomingMessage, viaGateway: boolean): 'ok' | 'expired' | 'unknown' {
      const h = req.headers.authorization ?? '';
      const bearer = /^Bearer (.+)$/.exec(h)?.[1];
      if (bearer && access.has(bearer)) {
        if (!viaGateway) return 'unknown';
        return access.get(bearer)! > deps.now() ? 'ok' : 'expired';
      }
      const scoped = opts.scopedTokens?.some(
        (t) => h === `Basic ${Buffer.from(`${t.email}:${t.apiToken}`).toString('base64')}`,
      );
      return scoped && viaGateway ? 'ok' : 'unknown';
    },
    /** POST /oauth/token (grant_type=refresh_token): a new access token and a rotated refresh token. */
    token(body: Record<string, unknown>): { status: number; body: unknown } {
      const o = opts.oauth;
      const refuse = (error: string, description: string) => ({
        status: 403,
        body: { error, error_description: description },
      });
      if (!o) return { status: 404, body: { error: 'not_found' } };
      if (body.grant_type !== 'refresh_token') return refuse('unsupported_grant_type', 'Only refresh_token here.');
      if (body.client_id !== o.clientId || body.client_secret !== o.clientSecret)
        return { status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } };
      if (!refreshToken || body.refresh_token !== refreshToken)
        return refuse('invalid_grant', 'Unknown or invalid refresh token.');
      const token = `at-${randomUUID()}`;
      const ttl = o.accessTokenTtlS ?? 3600;
      access.set(token, deps.now() + ttl * 1000);
      refreshes.push({ at: deps.now(), rotatedFrom: refreshToken });
      refreshToken = `rt-${randomUUID()}`;
      return {
        status: 200,
        body: {
          access_token: token,
          expires_in: ttl,
          token_type: 'Bearer',
          refresh_token: refreshToken,
          scope: 'read:jira-work write:jira-work manage:jira-webhook offline_access',
        },
      };
    },
    /** The refresh token that works now (tests compare it with what the client kept). */
    currentRefreshToken: () => refreshToken,
    refreshCount: () => refreshes.length,
    /** Makes every access token issued so far expire now (as an hour passing would). */
    expireAccessTokens() {
      for (const k of access.keys()) access.set(k, deps.now());
    },
    /** The dynamic webhook API, or null when `path` is not part of it. */
    webhooks(method: string, path: string, b: Record<string, unknown>): { status: number; body?: unknown } | null {
      expire();
      const json = (h: DynamicHook) => ({
        id: h.id,
        jqlFilter: h.jqlFilter,
        events: h.events,
        expirationDate: new Date(h.expiresAt).toISOString(),
      });
      if (path === '/rest/api/3/webhook' && method === 'GET') {
        const values = [...dynamic.values()].map(json);
        return { status: 200, body: { startAt: 0, maxResults: 100, total: values.length, isLast: true, values } };
      }
      if (path === '/rest/api/3/webhook' && method === 'POST') {
        const url = b.url;
        const list = b.webhooks;
        if (typeof url !== 'string' || !Array.isArray(list) || list.length === 0)
          throw badRequest('url and webhooks are required');
        const webhookRegistrationResult = (list as { events?: unknown; jqlFilter?: unknown }[]).map((w) => {
          if (typeof w.jqlFilter !== 'string' || !Array.isArray(w.events) || !w.events.length)
            return { errors: ['jqlFilter and events are required'] };
          const events = w.events.map(String);
          const stored = deps.store.registerWebhook({
            url,
            name: 'dynamic',
            events,
            filters: { 'issue-related-events-section': w.jqlFilter },
          });
          if (opts.oauth) stored.jwtSecret = opts.oauth.clientSecret;
          const h: DynamicHook = {
            id: nextDynamic++,
            storeId: stored.id,
            jqlFilter: w.jqlFilter,
            events,
            url,
            expiresAt: deps.now() + DYNAMIC_WEBHOOK_TTL_MS,
          };
          dynamic.set(h.id, h);
          return { createdWebhookId: h.id };
        });
        return { status: 200, body: { webhookRegistrationResult } };
      }
      if (path === '/rest/api/3/webhook/refresh' && method === 'PUT') {
        const ids = Array.isArray(b.webhookIds) ? b.webhookIds.map(Number) : [];
        const expiresAt = deps.now() + DYNAMIC_WEBHOOK_TTL_MS;
        for (const id of ids) {
          const h = dynamic.get(id);
          if (h) h.expiresAt = expiresAt;
        }
        return { status: 200, body: { expirationDate: new Date(expiresAt).toISOString() } };
      }
      if (path === '/rest/api/3/webhook' && method === 'DELETE') {
        const ids = Array.isArray(b.webhookIds) ? b.webhookIds.map(Number) : [];
        for (const id of ids) {
          const h = dynamic.get(id);
          if (h) deps.store.removeWebhook(h.storeId);
          dynamic.delete(id);
        }
        return { status: 202 };
      }
      return null;
    },
    dynamicWebhooks: () => {
      expire();
      return [...dynamic.values()].map((h) => ({ ...h }));
    },
  };
}
export type SimGateway = ReturnType<typeof createGateway>;
