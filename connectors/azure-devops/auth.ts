// The credential a connection sends: an organization-scoped PAT (Basic), or a Microsoft Entra ID
// access token (Bearer) for Azure DevOps' resource, obtained through @azure/identity for a service
// principal (client secret or certificate) or the host's managed identity. Global PATs stopped
// working on 2026-12-01; Microsoft recommends Entra ID for services.
//
// A token is cached and renewed before it expires, on the connection's clock: at the token's
// `refreshAfterTimestamp` when Entra sends one, else five minutes before expiry (half its life for
// a short one). Concurrent callers share one request for it; a failed request is not remembered.
// Where the header may go is origins.ts's business, the same for both kinds. @azure/identity (and
// MSAL under it) is loaded on the first token, never for a PAT: a PAT connection — the Worker's
// included — does not evaluate it at all.
import type { Agent } from 'node:http';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { AuthError } from '../../src/core/errors.ts';
import { scrubSecrets } from '../secrets.ts';
import type { AdoAuth } from './config.ts';

/** Azure DevOps' application id in Microsoft Entra ID: the resource its tokens are issued for. */
export const ADO_RESOURCE_ID = '499b84ac-1321-427f-aa17-267ca6975798';
export const ADO_SCOPE = `${ADO_RESOURCE_ID}/.default`;
const RENEW_BEFORE_MS = 5 * 60_000;

export type AdoCredentialKind = 'pat' | 'service-principal' | 'managed-identity';

export interface AdoCredential {
  readonly kind: AdoCredentialKind;
  /** How messages name it: "the PAT", "the service principal's Entra token"… */
  readonly name: string;
  /** What a 401 tells the admin to check. */
  readonly rejectedHint: string;
  /** The Authorization header value, a token obtained or renewed first when due. */
  authorization(): Promise<string>;
  /**
   * The header as last obtained, for azure-devops-node-api's synchronous request handler;
   * `authorization()` is awaited before every call, so it is current.
   */
  current(): string;
  /** Text no message may carry: the PAT and its encodings, the client secret, tokens issued. */
  secrets(): string[];
  /** When the Entra token last obtained expires, on the connection's clock; null for a PAT or before the first. */
  expiresAt(): number | null;
}

export interface AdoCredentialDeps {
  connectionId: string;
  now: () => number;
  /**
   * The agent @azure/identity's requests use (a test's authority with a certificate of its own).
   * Production needs none: login.microsoftonline.com and the sovereign clouds have public CAs.
   */
  entraAgent?: Agent;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function createAdoCredential(auth: AdoAuth, deps: AdoCredentialDeps): AdoCredential {
  if ('pat' in auth) {
    const header = `Basic ${b64(`PAT:${auth.pat}`)}`;
    return {
      kind: 'pat',
      name: 'the PAT',
      rejectedHint: 'check that it is valid, not expired and issued for this organization (global PATs no longer work)',
      authorization: async () => header,
      current: () => header,
      secrets: () => [auth.pat, b64(`:${auth.pat}`), b64(`PAT:${auth.pat}`), encodeURIComponent(auth.pat)],
      expiresAt: () => null,
    };
  }
  const options = {
    ...('authorityHost' in auth && auth.authorityHost ? { authorityHost: auth.authorityHost } : {}),
    // A host other than Microsoft's has no instance metadata to discover.
    ...('authorityHost' in auth && auth.authorityHost ? { disableInstanceDiscovery: true } : {}),
    ...(deps.entraAgent ? { agent: deps.entraAgent } : {}),
    // Our own client retries the call that needed the token; one more layer of retries only delays the error.
    retryOptions: { maxRetries: 1 },
  };
  const kind: AdoCredentialKind = 'managedIdentity' in auth ? 'managed-identity' : 'service-principal';
  const secrets: string[] = [];
  if ('clientSecret' in auth) secrets.push(auth.clientSecret);
  if ('certificatePassword' in auth && auth.certificatePassword) secrets.push(auth.certificatePassword);
  const load = async (): Promise<TokenCredential> => {
    const { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } = await import(
      '@azure/identity'
    );
    if ('managedIdentity' in auth) {
      // The identity endpoint is the host's own (plain http on App Service, IMDS): no agent of ours.
      const { agent: _agent, ...mi } = options as typeof options & { agent?: Agent };
      return auth.clientId
        ? new ManagedIdentityCredential({ ...mi, clientId: auth.clientId })
        : new ManagedIdentityCredential(mi);
    }
    if ('clientSecret' in auth)
      return new ClientSecretCredential(auth.tenantId, auth.clientId, auth.clientSecret, options);
    if ('certificatePath' in auth) {
      return new ClientCertificateCredential(
        auth.tenantId,
        auth.clientId,
        { certificatePath: auth.certificatePath, certificatePassword: auth.certificatePassword },
        options,
      );
    }
    return new ClientCertificateCredential(
      auth.tenantId,
      auth.clientId,
      { certificate: auth.certificate, certificatePassword: auth.certificatePassword },
      options,
    );
  };
  // One credential object for the connection's life (its own caches live in it), made on first use.
  let made: Promise<TokenCredential> | null = null;
  const source: TokenCredential = {
    getToken: async (scopes, o) => {
      made ??= load();
      return (await made).getToken(scopes, o);
    },
  };
  return createTokenCredential(source, kind, secrets, deps);
}

/** The cache and renewal around any TokenCredential (exported for tests of the schedule alone). */
export function createTokenCredential(
  source: TokenCredential,
  kind: Exclude<AdoCredentialKind, 'pat'>,
  configuredSecrets: string[],
  deps: AdoCredentialDeps,
): AdoCredential {
  const name =
    kind === 'managed-identity' ? "the managed identity's Entra token" : "the service principal's Entra token";
  const setting =
    kind === 'managed-identity'
      ? 'auth.managedIdentity / auth.clientId'
      : 'auth.tenantId, auth.clientId and its secret or certificate';
  let token: { header: string; renewAt: number; expiresAt: number } | null = null;
  let pending: Promise<string> | null = null;
  const issued: string[] = [];
  const scrub = (s: string) => scrubSecrets(s, [...configuredSecrets, ...issued], '[redacted]');

  /**
   * When to renew and when it expires, on the connection's clock. The library's timestamps are on
   * the real clock; the difference (zero in production) carries them over to an injected one.
   */
  const scheduleOf = (t: AccessToken, obtainedAt: number) => {
    const offset = obtainedAt - Date.now();
    const expiresAt = t.expiresOnTimestamp + offset;
    const refreshAfter = t.refreshAfterTimestamp ? t.refreshAfterTimestamp + offset : null;
    if (refreshAfter && refreshAfter > obtainedAt) return { renewAt: refreshAfter, expiresAt };
    const life = expiresAt - obtainedAt;
    return { renewAt: Math.max(obtainedAt + life / 2, expiresAt - RENEW_BEFORE_MS), expiresAt };
  };

  const obtain = async (): Promise<string> => {
    let t: AccessToken | null;
    try {
      t = await source.getToken(ADO_SCOPE);
    } catch (err) {
      // @azure/identity's messages run to paragraphs with links: the first line says what Entra said.
      const first = String((err as Error)?.message ?? err).split('\n')[0]!;
      throw new AuthError(
        `Azure DevOps (${deps.connectionId}): could not obtain ${name} from Microsoft Entra ID: ${scrub(first).slice(0, 300)}; check ${setting}`,
        { tracker: 'azure-devops', connection: deps.connectionId },
      );
    }
    if (!t?.token) {
      throw new AuthError(
        `Azure DevOps (${deps.connectionId}): Microsoft Entra ID returned no token for ${name}; check ${setting}`,
        { tracker: 'azure-devops', connection: deps.connectionId },
      );
    }
    const obtainedAt = deps.now();
    issued.push(t.token);
    if (issued.length > 4) issued.shift();
    token = { header: `Bearer ${t.token}`, ...scheduleOf(t, obtainedAt) };
    return token.header;
  };

  return {
    kind,
    name,
    rejectedHint:
      kind === 'managed-identity'
        ? 'check that the managed identity is added to the organization as a user with access to the projects'
        : 'check that the service principal is added to the organization as a user with access to the projects',
    authorization() {
      if (token && deps.now() < token.renewAt) return Promise.resolve(token.header);
      if (!pending) {
        const p = obtain().finally(() => {
          if (pending === p) pending = null;
        });
        pending = p;
        p.catch(() => {});
      }
      // While a renewal is under way a token that has not expired yet still serves.
      if (token && deps.now() < token.expiresAt) return Promise.resolve(token.header);
      return pending;
    },
    current: () => token?.header ?? '',
    secrets: () => [...configuredSecrets, ...issued],
    expiresAt: () => token?.expiresAt ?? null,
  };
}
