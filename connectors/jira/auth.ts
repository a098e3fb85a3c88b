// Who the Jira transport is and where it may say so. Four ways in: a classic API token (basic
// auth against the site), a scoped API token (basic auth, but only through Atlassian's gateway at
// `apiUrl`/ex/jira/{cloudId}), a fixed bearer token, and OAuth 2.0 (3LO) whose access tokens
// expire within the hour and whose refresh tokens rotate on every use. The credential goes to one
// origin only — the site, or the gateway for scoped tokens and OAuth — and the token server gets
// the client secret and refresh token only. The cloud id is read from the site's public
// /_edge/tenant_info (no credential sent) when the config does not name it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AuthError, ConnectorError, type ConnectorErrorOptions } from '../../src/core/errors.ts';
import { describeNetworkError } from '../http/net-errors.ts';
import { fetchWithinPolicy } from '../http/redirects.ts';
import { scrubSecrets } from '../secrets.ts';
import type { JiraConnection } from './config.ts';

/**
 * Where a connection keeps its newest refresh token (the kv table in the app). Atlassian rotates
 * the refresh token on every refresh and the one in the config stops working, so a restart must
 * start from the stored one. `configured` fingerprints the config's token the stored one grew
 * from: when an admin puts a new token in the config, that one wins again.
 */
export interface JiraTokenStore {
  load(connection: string): Promise<{ refreshToken: string; configured: string } | null>;
  save(connection: string, value: { refreshToken: string; configured: string }): Promise<void>;
}

/** A store that forgets on restart: tests, and runs without a database. */
export function createMemoryTokenStore(): JiraTokenStore & { saved: () => number } {
  const m = new Map<string, { refreshToken: string; configured: string }>();
  let saves = 0;
  return {
    load: async (c) => m.get(c) ?? null,
    save: async (c, v) => {
      saves += 1;
      m.set(c, { ...v });
    },
    saved: () => saves,
  };
}

export interface JiraCredentials {
  kind: 'basic' | 'scoped' | 'bearer' | 'oauth';
  /** The origin requests (and the credential) go to. */
  origin: URL;
  /** The URL API paths are resolved against: the site, or `apiUrl`/ex/jira/{cloudId}. */
  apiBase(signal: AbortSignal): Promise<string>;
  /** The Authorization header value for the next request. */
  header(signal: AbortSignal): Promise<string>;
  /**
   * A request with `sent` was answered 401. True when a new credential was obtained (OAuth: the
   * access token was refreshed) and the request is worth sending once more.
   */
  renew(sent: string, signal: AbortSignal): Promise<boolean>;
  /** Every secret value to scrub from messages (grows as OAuth tokens rotate). */
  secrets(): string[];
  /** "the API token for bot@acme.com": how messages name the credential. */
  describe: string;
  /** The setting to change when the credential is refused. */
  setting: string;
  /** When the access token last obtained expires (OAuth); null when unknown or none was obtained. */
  expiresAt(): number | null;
}

const TenantInfo = z.object({ cloudId: z.string().regex(/^[\w-]{1,64}$/) });

const TokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1).optional(),
});

const TokenError = z.object({ error: z.string().max(100), error_description: z.string().max(300).optional() });

/** Refresh this long before an access token's expiry, so no request is sent with one about to lapse. */
const EXPIRY_MARGIN_MS = 60_000;

export const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

export interface CredentialDeps {
  connection: string;
  config: Pick<JiraConnection, 'baseUrl' | 'auth' | 'apiUrl' | 'authUrl'>;
  /** Where requests for the site go (tests: a simulator). */
  siteUrl: string;
  tokenStore?: JiraTokenStore;
  now: () => number;
  timeoutMs: number;
}

export function createJiraCredentials(deps: CredentialDeps): JiraCredentials {
  const { auth } = deps.config;
  const site = new URL(deps.siteUrl);
  const gateway = new URL(deps.config.apiUrl || 'https://api.atlassian.com');
  const errOpts = (httpStatus?: number, cause?: unknown): ConnectorErrorOptions => ({
    tracker: 'jira',
    connection: deps.connection,
    httpStatus,
    cause,
  });
  const secrets: string[] = [];
  const scrub = (s: string) => scrubSecrets(s, secrets, '***');

  let cloudId: Promise<string> | null = null;
  /** The cloud id, read once from the site (again after a failure). No credential goes with it. */
  const resolveCloudId = (configured: string | undefined, signal: AbortSignal): Promise<string> => {
    if (configured) return Promise.resolve(configured);
    cloudId ??= (async () => {
      const url = new URL('/_edge/tenant_info', site);
      let res: Response;
      try {
        ({ response: res } = await fetchWithinPolicy(
          fetch,
          url,
          {
            headers: { Accept: 'application/json' },
            signal: AbortSignal.any([signal, AbortSignal.timeout(deps.timeoutMs)]),
          },
          {
            check(target) {
              if (target.origin !== site.origin)
                throw new ConnectorError(
                  `GET _edge/tenant_info: ${site.host} redirected to ${target.host}; set auth.cloudId (or auth.oauth.cloudId) of connection "${deps.connection}" to the site's cloud id`,
                  errOpts(),
                );
            },
          },
        ));
      } catch (cause) {
        if (cause instanceof ConnectorError) throw cause;
        const p = describeNetworkError(cause, { url: url.toString(), setting: 'baseUrl', timeoutMs: deps.timeoutMs });
        throw new ConnectorError(`GET _edge/tenant_info: ${p.message}`, errOpts(undefined, cause));
      }
      const parsed = res.ok ? TenantInfo.safeParse(await res.json().catch(() => null)) : null;
      if (!parsed?.success)
        throw new ConnectorError(
          `${site.host} did not tell its cloud id (GET /_edge/tenant_info answered ${res.status}); is baseUrl a Jira Cloud site? Or set auth.cloudId of connection "${deps.connection}"`,
          errOpts(res.status),
        );
      return parsed.data.cloudId;
    })();
    cloudId.catch(() => {
      cloudId = null;
    });
    return cloudId;
  };
  const viaGateway = async (configured: string | undefined, signal: AbortSignal) =>
    new URL(`/ex/jira/${encodeURIComponent(await resolveCloudId(configured, signal))}`, gateway).toString();

  if ('email' in auth) {
    const basic = `Basic ${Buffer.from(`${auth.email}:${auth.apiToken}`).toString('base64')}`;
    secrets.push(auth.apiToken, basic.slice(6));
    const scoped = auth.scoped === true;
    return {
      kind: scoped ? 'scoped' : 'basic',
      origin: scoped ? gateway : site,
      apiBase: (signal) => (scoped ? viaGateway(auth.cloudId, signal) : Promise.resolve(site.toString())),
      header: async () => basic,
      renew: async () => false,
      secrets: () => secrets,
      describe: `the ${scoped ? 'scoped ' : ''}API token for ${auth.email}`,
      setting: 'auth.apiToken',
      expiresAt: () => null,
    };
  }
  if ('bearerToken' in auth) {
    secrets.push(auth.bearerToken);
    return {
      kind: 'bearer',
      origin: site,
      apiBase: async () => site.toString(),
      header: async () => `Bearer ${auth.bearerToken}`,
      renew: async () => false,
      secrets: () => secrets,
      describe: 'the bearer token',
      setting: 'auth.bearerToken',
      expiresAt: () => null,
    };
  }

  const oauth = auth.oauth;
  const tokenUrl = new URL('/oauth/token', deps.config.authUrl || 'https://auth.atlassian.com');
  const configured = fingerprint(oauth.refreshToken);
  secrets.push(oauth.clientSecret, oauth.refreshToken);
  let access: { token: string; expiresAt: number } | null = null;
  let refreshing: Promise<string> | null = null;

  async function currentRefreshToken(): Promise<string> {
    const stored = await deps.tokenStore?.load(deps.connection);
    // A stored token grown from another configured one is stale: the admin consented again.
    return stored && stored.configured === configured ? stored.refreshToken : oauth.refreshToken;
  }

  async function refresh(signal: AbortSignal): Promise<string> {
    const refreshToken = await currentRefreshToken();
    if (!secrets.includes(refreshToken)) secrets.push(refreshToken);
    let res: Response;
    try {
      ({ response: res } = await fetchWithinPolicy(
        fetch,
        tokenUrl,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({
            grant_type: 'refresh_token',
            client_id: oauth.clientId,
            client_secret: oauth.clientSecret,
            refresh_token: refreshToken,
          }),
          signal: AbortSignal.any([signal, AbortSignal.timeout(deps.timeoutMs)]),
        },
        {
          // The token server gets the client secret: it is the only place it may go.
          check(target) {
            if (target.origin !== tokenUrl.origin)
              throw new ConnectorError(
                `POST oauth/token: ${tokenUrl.host} redirected to ${target.host}, another origin; the client secret goes to ${tokenUrl.origin} only`,
                errOpts(),
              );
          },
        },
      ));
    } catch (cause) {
      if (cause instanceof ConnectorError) throw cause;
      const p = describeNetworkError(cause, {
        url: tokenUrl.toString(),
        setting: 'authUrl',
        timeoutMs: deps.timeoutMs,
      });
      throw new ConnectorError(`POST oauth/token: ${scrub(p.message)}`, errOpts(undefined, cause));
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const e = TokenError.safeParse(body);
      const why = e.success
        ? `${e.data.error}${e.data.error_description ? `: ${e.data.error_description}` : ''}`
        : `HTTP ${res.status}`;
      // A 401 (or invalid_client) is about the app, not the refresh token: blaming the token would
      // send the admin through consent again for a mistyped secret.
      if (res.status === 401 || (e.success && e.data.error === 'invalid_client'))
        throw new AuthError(
          `Atlassian refused the OAuth client credentials of connection "${deps.connection}" (${scrub(why)}); check auth.oauth.clientId and auth.oauth.clientSecret against the app in the Atlassian developer console`,
          errOpts(res.status),
        );
      throw new AuthError(
        `Atlassian refused the OAuth refresh token of connection "${deps.connection}" (${scrub(why)}): it has expired or was revoked; consent again and set auth.oauth.refreshToken`,
        errOpts(res.status),
      );
    }
    const t = TokenAnswer.safeParse(body);
    if (!t.success) throw new ConnectorError('POST oauth/token: the answer has no access_token', errOpts(res.status));
    secrets.push(t.data.access_token);
    if (t.data.refresh_token && t.data.refresh_token !== refreshToken) {
      secrets.push(t.data.refresh_token);
      // Saved before the access token is used: the old refresh token no longer works, so the
      // new one must outlive this process.
      await deps.tokenStore?.save(deps.connection, { refreshToken: t.data.refresh_token, configured });
    }
    access = { token: t.data.access_token, expiresAt: deps.now() + t.data.expires_in * 1000 };
    return access.token;
  }

  /** One refresh at a time: concurrent requests share it (a second would spend the rotated token). */
  const refreshOnce = (signal: AbortSignal) => {
    refreshing ??= refresh(signal).finally(() => {
      refreshing = null;
    });
    return refreshing;
  };

  return {
    kind: 'oauth',
    origin: gateway,
    apiBase: (signal) => viaGateway(oauth.cloudId, signal),
    async header(signal) {
      if (access && access.expiresAt - EXPIRY_MARGIN_MS > deps.now()) return `Bearer ${access.token}`;
      return `Bearer ${await refreshOnce(signal)}`;
    },
    async renew(sent, signal) {
      // Another request may have refreshed already: then the new token is worth one more try.
      if (access && sent !== `Bearer ${access.token}`) return true;
      access = null;
      await refreshOnce(signal);
      return true;
    },
    secrets: () => secrets,
    describe: 'the OAuth access token',
    setting: 'auth.oauth.refreshToken',
    expiresAt: () => access?.expiresAt ?? null,
  };
}
