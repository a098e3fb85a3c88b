// A Microsoft Entra ID token service for the simulator: the v2.0 client-credentials endpoint a
// service principal's credential calls (`{authorityHost}/{tenant}/oauth2/v2.0/token`, after the
// tenant's OpenID configuration), checking the client secret or the certificate's signed
// assertion, and the App Service managed identity endpoint (`IDENTITY_ENDPOINT` with
// `X-IDENTITY-HEADER`) that @azure/identity's ManagedIdentityCredential calls when those variables
// are set. Tokens are opaque, for Azure DevOps' resource only, and expire on the simulator's clock.
//
// @azure/identity insists on an https authority, so the token endpoint serves TLS with a
// certificate made at start; `ca` is what a test's agent trusts. The identity endpoint is plain
// http, as the real one on localhost is.
import { createHash, createPublicKey, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export const ADO_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';

export interface EntraClient {
  clientId: string;
  secret?: string;
  /** PEM of the certificate whose key signs the client assertion. */
  certificate?: string;
}

export interface EntraSimOptions {
  tenantId?: string;
  clients?: EntraClient[];
  /** Client ids of user-assigned managed identities; the system-assigned one is always there. */
  managedIdentities?: string[];
  /** Lifetime of a token in seconds (default 3599, as Entra's). */
  tokenLifetimeSeconds?: number;
  now?: () => number;
}

export interface EntraTokenRequest {
  grant: 'client_credentials' | 'managed_identity';
  clientId: string;
  /** `secret`, `certificate`, or the managed identity. */
  proof: 'secret' | 'certificate' | 'identity';
  status: number;
}

export interface EntraSimulator {
  /** `https://127.0.0.1:<port>`: the connection's `auth.authorityHost`. */
  readonly authorityHost: string;
  readonly tenantId: string;
  /** PEM of the authority's certificate, for the agent that must trust it. */
  readonly ca: string;
  /** `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` for a managed identity. */
  readonly identityEndpoint: string;
  readonly identityHeader: string;
  tokenRequests(): EntraTokenRequest[];
  /** Whether `token` was issued here and has not expired (on the simulator's clock). */
  accepts(token: string): boolean;
  configure(o: Pick<EntraSimOptions, 'tokenLifetimeSeconds'>): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const b64url = (s: string) => Buffer.from(s, 'base64url');

/** Verifies a client assertion (RS256 or PS256 JWT) against the client's certificate. */
function assertionValid(jwt: string, certPem: string, clientId: string, audience: string): boolean {
  const parts = jwt.split('.');
  if (parts.length !== 3) return false;
  try {
    const header = JSON.parse(b64url(parts[0]!).toString('utf8')) as { alg?: string };
    const claims = JSON.parse(b64url(parts[1]!).toString('utf8')) as {
      aud?: string;
      iss?: string;
      sub?: string;
      exp?: number;
    };
    const key = createPublicKey(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'pem' }));
    const data = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = b64url(parts[2]!);
    const ok =
      header.alg === 'PS256'
        ? verify('sha256', data, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }, sig)
        : header.alg === 'RS256' && verify('sha256', data, key, sig);
    return ok && claims.iss === clientId && claims.sub === clientId && claims.aud === audience;
  } catch {
    return false;
  }
}

export async function startEntraSimulator(opts: EntraSimOptions = {}): Promise<EntraSimulator> {
  // selfsigned is a dev dependency: loaded only when a test asks for a token service.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const tenantId = opts.tenantId ?? '72f988bf-0000-4000-8000-00000000a11d';
  const clock = opts.now ?? Date.now;
  let lifetime = opts.tokenLifetimeSeconds ?? 3599;
  const clients = new Map((opts.clients ?? []).map((c) => [c.clientId, c]));
  const identities = new Set(opts.managedIdentities ?? []);
  const identityHeader = randomBytes(16).toString('hex');
  const tokens = new Map<string, number>();
  const requests: EntraTokenRequest[] = [];
  let authorityHost = '';

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const aadError = (res: ServerResponse, status: number, error: string, code: number, text: string) =>
    json(res, status, {
      error,
      error_description: `AADSTS${code}: ${text} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    });
  const issue = () => {
    const token = `sim-entra.${randomBytes(24).toString('base64url')}`;
    tokens.set(token, clock() + lifetime * 1000);
    return token;
  };

  const authority = createHttpsServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'https://x');
      const segs = u.pathname.split('/').filter(Boolean);
      const body = await readBody(req);
      if (segs[0] !== tenantId) {
        return aadError(res, 400, 'invalid_tenant', 90002, `Tenant '${segs[0] ?? ''}' not found.`);
      }
      const base = `${authorityHost}/${tenantId}`;
      if (req.method === 'GET' && u.pathname.endsWith('/v2.0/.well-known/openid-configuration')) {
        return json(res, 200, {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          issuer: `${base}/v2.0`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        });
      }
      if (req.method === 'POST' && u.pathname === `/${tenantId}/oauth2/v2.0/token`) {
        const form = new URLSearchParams(body);
        const clientId = form.get('client_id') ?? '';
        const assertion = form.get('client_assertion');
        const record: EntraTokenRequest = {
          grant: 'client_credentials',
          clientId,
          proof: assertion ? 'certificate' : 'secret',
          status: 200,
        };
        requests.push(record);
        const fail = (status: number, error: string, code: number, text: string) => {
          record.status = status;
          aadError(res, status, error, code, text);
        };
        if (form.get('grant_type') !== 'client_credentials')
          return fail(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
        const client = clients.get(clientId);
        if (!client)
          return fail(
            400,
            'unauthorized_client',
            700016,
            `Application with identifier '${clientId}' was not found in the directory.`,
          );
        if (form.get('scope') !== `${ADO_RESOURCE}/.default`)
          return fail(400, 'invalid_scope', 1002012, `The provided value for scope ${form.get('scope')} is not valid.`);
        const proven = assertion
          ? client.certificate !== undefined &&
            assertionValid(assertion, client.certificate, clientId, `${base}/oauth2/v2.0/token`)
          : client.secret !== undefined && form.get('client_secret') === client.secret;
        if (!proven) {
          return assertion
            ? fail(
                401,
                'invalid_client',
                700027,
                'The certificate with identifier used to sign the client assertion is not registered on application.',
              )
            : fail(
                401,
                'invalid_client',
                7000215,
                'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
              );
        }
        return json(res, 200, {
          token_type: 'Bearer',
          expires_in: lifetime,
          ext_expires_in: lifetime,
          access_token: issue(),
        });
      }
      return json(res, 404, { error: 'not_found' });
    })().catch((err: unknown) => json(res, 500, { error: 'server_error', error_description: String(err) }));
  });

  const identity = createHttpServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const clientId = u.searchParams.get('client_id') ?? '';
    const record: EntraTokenRequest = { grant: 'managed_identity', clientId, proof: 'identity', status: 200 };
    requests.push(record);
    const fail = (status: number, message: string) => {
      record.status = status;
      json(res, status, { statusCode: status, message, correlationId: randomUUID() });
    };
    if (req.headers['x-identity-header'] !== identityHeader)
      return fail(401, 'The identity header is missing or wrong.');
    if (u.searchParams.get('resource') !== ADO_RESOURCE) return fail(400, 'The resource is not valid.');
    if (clientId && !identities.has(clientId))
      return fail(400, `No user-assigned identity with client id ${clientId}.`);
    // expires_on is absolute, on the real clock: the library compares it with its own.
    return json(res, 200, {
      access_token: issue(),
      expires_on: String(Math.floor(Date.now() / 1000) + lifetime),
      resource: ADO_RESOURCE,
      token_type: 'Bearer',
      client_id: clientId || 'system-assigned',
    });
  });

  await new Promise<void>((resolve) => authority.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));
  authorityHost = `https://127.0.0.1:${(authority.address() as AddressInfo).port}`;
  const identityEndpoint = `http://127.0.0.1:${(identity.address() as AddressInfo).port}/msi/token`;

  const closeServer = (s: { close(cb: (e?: Error) => void): void; closeAllConnections(): void }) =>
    new Promise<void>((resolve, reject) => {
      s.closeAllConnections();
      s.close((e) => (e ? reject(e) : resolve()));
    });

  return {
    authorityHost,
    tenantId,
    ca: pems.cert,
    identityEndpoint,
    identityHeader,
    tokenRequests: () => requests.map((r) => ({ ...r })),
    accepts(token) {
      const exp = tokens.get(token);
      return exp !== undefined && clock() < exp;
    },
    configure(o) {
      if (o.tokenLifetimeSeconds !== undefined) lifetime = o.tokenLifetimeSeconds;
    },
    async close() {
      await Promise.all([closeServer(authority), closeServer(identity)]);
    },
  };
}

/** A certificate and its key as one PEM (what ClientCertificateCredential reads), for tests. */
export async function makeClientCertificate(): Promise<{ pem: string; certificate: string; thumbprint: string }> {
  const { generate } = await import('selfsigned');
  const p = await generate([{ name: 'commonName', value: 'pmo-sync test principal' }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  const der = new X509Certificate(p.cert).raw;
  return {
    pem: `${p.private}\n${p.cert}`,
    certificate: p.cert,
    thumbprint: createHash('sha1').update(der).digest('hex'),
  };
}
