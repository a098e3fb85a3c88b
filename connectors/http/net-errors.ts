// What went wrong below HTTP, said in one line a person can act on: the host, the cause (DNS,
// refused, TLS, timeout, dropped) and the setting to check. Undici's fetch reports every one of
// these as "fetch failed" with the real error in `cause` (AggregateError when several addresses
// were tried); node:http (azure-devops-node-api) puts the code on the error itself.

export interface NetworkProblem {
  /** One line, no secret: "acme.atlassian.net refused the connection (ECONNREFUSED); …". */
  message: string;
  /** Worth another attempt (a refused or dropped connection may be a restart); false for DNS names that do not exist and TLS failures. */
  transient: boolean;
  code: string | undefined;
}

export interface NetworkContext {
  url: string | URL;
  /** The config key holding the URL, named in the advice (`baseUrl`, `orgUrl`). */
  setting: string;
  /** The request timeout, named when it was hit. */
  timeoutMs: number;
}

const CERT_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ESOCKETTIMEDOUT']);
const CONNECT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);
const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);

interface Found {
  code: string | undefined;
  message: string;
  timeout: boolean;
}

/** The innermost error that says something: a code, or a timeout. */
function rootCause(err: unknown): Found {
  let message = '';
  let timeout = false;
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const x = e as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (x.name === 'TimeoutError') timeout = true;
    // typed-rest-client's own socket timeout.
    if (typeof x.message === 'string' && /^Request timeout:/.test(x.message)) timeout = true;
    if (typeof x.message === 'string' && x.message && x.message !== 'fetch failed') message ||= x.message;
    if (typeof x.code === 'string' && x.code && !x.code.startsWith('ABORT')) {
      return { code: x.code, message: typeof x.message === 'string' ? x.message : message, timeout };
    }
    queue.push(x.cause);
    if (Array.isArray(x.errors)) queue.push(...x.errors);
  }
  return { code: undefined, message, timeout };
}

const isTls = (f: Found) =>
  !!f.code &&
  (f.code.startsWith('ERR_SSL_') ||
    f.code.startsWith('ERR_TLS_') ||
    f.code === 'EPROTO' ||
    /\b(SSL|TLS)\b|handshake|wrong version number/i.test(f.message));

export function describeNetworkError(err: unknown, ctx: NetworkContext): NetworkProblem {
  const url = new URL(ctx.url);
  const host = url.host;
  const f = rootCause(err);
  const code = f.code;
  const tag = code ? ` (${code})` : '';
  const say = (message: string, transient: boolean): NetworkProblem => ({ message, transient, code });
  if (f.timeout || (code && TIMEOUT_CODES.has(code))) {
    return say(
      `${host} did not answer within ${ctx.timeoutMs} ms (timeout); check that ${ctx.setting} is the tracker and that it is up`,
      true,
    );
  }
  if (code === 'ENOTFOUND') {
    return say(
      `${url.hostname} does not resolve (DNS lookup failed, ENOTFOUND); check the host name in ${ctx.setting}`,
      false,
    );
  }
  if (code === 'EAI_AGAIN') {
    return say(`the DNS lookup of ${url.hostname} failed for now (EAI_AGAIN); check the network and DNS`, true);
  }
  if (code === 'ECONNREFUSED') {
    return say(
      `${host} refused the connection (ECONNREFUSED); check the host and port in ${ctx.setting} and that the service is up`,
      true,
    );
  }
  if (code && CERT_CODES.has(code)) {
    return say(
      `TLS error with ${host}: its certificate is not accepted${tag}; check ${ctx.setting}, or set NODE_EXTRA_CA_CERTS for a private CA`,
      false,
    );
  }
  if (isTls(f)) {
    return say(
      `TLS handshake with ${host} failed${tag}; is ${ctx.setting} an https URL of a TLS server (not plain http)?`,
      false,
    );
  }
  if (code && CONNECT_CODES.has(code)) {
    return say(`cannot connect to ${host}${tag}; check the network, proxy and firewall`, true);
  }
  if (code && DROPPED_CODES.has(code)) return say(`${host} dropped the connection${tag}`, true);
  const what = f.message ? `: ${f.message.split('\n')[0]!.slice(0, 200)}` : '';
  return say(`the request to ${host} failed${what}${tag}`, true);
}
