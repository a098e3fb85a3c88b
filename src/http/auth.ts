// Bearer-token authentication for `/api/*` and the scope check for admin routes. Tokens are the
// ones `pmo-sync token create` issues; the dashboard signs in with the same tokens (cookie).
import type { MiddlewareHandler } from 'hono';
import type { Db } from '../../db/client.ts';
import { type TokenScope, verifyToken } from '../auth/tokens.ts';
import type { Caller } from './context.ts';
import './context.ts';
import { HttpProblem } from './problem.ts';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="pmo-sync"' };

/** The token in an `Authorization: Bearer …` header, or null when there is none. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m ? m[1]! : null;
}

export async function authenticate(db: Db, token: string | null | undefined): Promise<Caller | null> {
  // Bound the lookup: a huge header is not a token, and hashing it would only cost us.
  if (!token || token.length > 512) return null;
  const found = await verifyToken(db, token);
  return found ? { tokenId: found.id, scope: found.scope } : null;
}

export function requireToken(db: Db): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = bearerToken(header);
    if (!token) {
      throw new HttpProblem(401, 'Send an API token as "Authorization: Bearer <token>".', { headers: CHALLENGE });
    }
    const caller = await authenticate(db, token);
    if (!caller) {
      throw new HttpProblem(401, 'The API token is unknown or revoked.', {
        headers: { 'www-authenticate': 'Bearer realm="pmo-sync", error="invalid_token"' },
      });
    }
    c.set('caller', caller);
    await next();
  };
}

export function requireScope(scope: TokenScope): MiddlewareHandler {
  return async (c, next) => {
    if (scope === 'admin' && c.var.caller?.scope !== 'admin') {
      throw new HttpProblem(403, 'This route needs a token with the admin scope.');
    }
    await next();
  };
}
