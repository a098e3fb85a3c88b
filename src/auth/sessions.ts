// Dashboard sessions. Signing in with an API token opens a session; the browser's cookie holds
// only the session's random id, never the token, so a stolen cookie dies with the session and
// never works against the API. Only the id's SHA-256 is stored (the id is long and random, so a
// plain hash is enough, as for tokens). A session ends when it expires, on sign-out, or when the
// token it was opened with is revoked.
import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { apiTokens, dashboardSessions } from '../../db/schema.ts';
import { hashToken, type TokenScope } from './tokens.ts';

const PREFIX = 'pmos_';
/** `pmos_` and 32 random bytes in base64url. */
const SESSION_ID = /^pmos_[A-Za-z0-9_-]{43}$/;

export interface Session {
  id: string;
  expiresAt: Date;
}

export async function createSession(db: Db, input: { tokenId: number; now: Date; ttlMs: number }): Promise<Session> {
  const id = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(input.now.getTime() + input.ttlMs);
  // Housekeeping on the rare write: sessions that can no longer be used go.
  await db
    .delete(dashboardSessions)
    .where(
      or(
        lt(dashboardSessions.expiresAt, input.now.toISOString()),
        lt(dashboardSessions.revokedAt, input.now.toISOString()),
      ),
    );
  await db.insert(dashboardSessions).values({
    sessionHash: hashToken(id),
    tokenId: input.tokenId,
    createdAt: input.now.toISOString(),
    expiresAt: expiresAt.toISOString(),
  });
  return { id, expiresAt };
}

/** Who the session belongs to, while it is open and its token is not revoked; null otherwise. */
export async function verifySession(
  db: Db,
  id: string | undefined,
  now: Date,
): Promise<{ tokenId: number; scope: TokenScope } | null> {
  if (!id || !SESSION_ID.test(id)) return null;
  const [row] = await db
    .select({ tokenId: apiTokens.id, scope: apiTokens.scope })
    .from(dashboardSessions)
    .innerJoin(apiTokens, eq(apiTokens.id, dashboardSessions.tokenId))
    .where(
      and(
        eq(dashboardSessions.sessionHash, hashToken(id)),
        isNull(dashboardSessions.revokedAt),
        gt(dashboardSessions.expiresAt, now.toISOString()),
        isNull(apiTokens.revokedAt),
      ),
    );
  return row ? { tokenId: row.tokenId, scope: row.scope as TokenScope } : null;
}

/** Ends a session (sign-out); false when it was unknown or already ended. */
export async function revokeSession(db: Db, id: string | undefined, now: Date): Promise<boolean> {
  if (!id || !SESSION_ID.test(id)) return false;
  const rows = await db
    .update(dashboardSessions)
    .set({ revokedAt: now.toISOString() })
    .where(and(eq(dashboardSessions.sessionHash, hashToken(id)), isNull(dashboardSessions.revokedAt)))
    .returning({ id: dashboardSessions.id });
  return rows.length > 0;
}
