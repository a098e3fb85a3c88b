// Dynamic webhooks of an OAuth 2.0 (3LO) app carry no X-Hub-Signature: Jira signs each delivery
// with a JWT in `Authorization: Bearer …`, HS256 keyed on the app's client secret. Verified here
// on the header alone (the token's signature, its algorithm, its expiry), never trusting the
// algorithm the token names beyond HS256. `signDeliveryJwt` is the simulator's side of it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from '../../src/core/errors.ts';
import type { WebhookRequest } from '../types.ts';

/** Clocks may disagree this much about a token's expiry. */
const SKEW_S = 60;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

export function signDeliveryJwt(secret: string, claims: Record<string, unknown>): string {
  const head = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** Throws unless `Authorization: Bearer <jwt>` is an unexpired HS256 token signed with `secret`. */
export function verifyDeliveryJwt(req: WebhookRequest, secret: string, nowMs: number): void {
  const token = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(req.headers.get('authorization')?.trim() ?? '')?.[1];
  if (!token || token.length > 8192) throw new WebhookVerificationError('missing or malformed bearer token');
  const [h, p, sig] = token.split('.') as [string, string, string];
  let header: { alg?: unknown };
  let claims: { exp?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    throw new WebhookVerificationError('malformed bearer token');
  }
  if (header?.alg !== 'HS256') throw new WebhookVerificationError('bearer token is not HS256');
  const want = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== want.length || !timingSafeEqual(given, want))
    throw new WebhookVerificationError('bearer token signature does not match');
  if (typeof claims?.exp !== 'number' || claims.exp + SKEW_S < nowMs / 1000)
    throw new WebhookVerificationError('bearer token has expired');
}
