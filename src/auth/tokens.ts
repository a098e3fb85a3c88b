// REST API tokens: shown once at creation, stored only as a SHA-256 hash. A token is long and
// random, so a plain hash (no salt, no slow KDF) is enough and lets lookups use an index.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { apiTokens } from '../../db/schema.ts';
import { UsageError } from '../core/errors.ts';

export const TOKEN_SCOPES = ['read', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface TokenInfo {
  id: number;
  name: string;
  scope: TokenScope;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createToken(
  db: Db,
  input: { scope: string; name?: string },
): Promise<{ id: number; token: string }> {
  if (!TOKEN_SCOPES.includes(input.scope as TokenScope)) {
    throw new UsageError(`--scope must be one of ${TOKEN_SCOPES.join(', ')}, not "${input.scope}"`);
  }
  const token = `pmo_${randomBytes(32).toString('base64url')}`;
  const [row] = await db
    .insert(apiTokens)
    .values({ name: input.name ?? `${input.scope} token`, scope: input.scope, tokenHash: hashToken(token) })
    .returning({ id: apiTokens.id });
  return { id: row!.id, token };
}

/** The token's identity when it is valid and not revoked; null otherwise. */
export async function verifyToken(db: Db, token: string): Promise<{ id: number; scope: TokenScope } | null> {
  if (!token.startsWith('pmo_')) return null;
  const [row] = await db
    .select({ id: apiTokens.id, scope: apiTokens.scope, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)));
  if (!row) return null;
  // Last use to the minute is enough for audit, and spares a write on every request.
  if (!row.lastUsedAt || Date.now() - Date.parse(row.lastUsedAt) > 60_000) {
    await db.update(apiTokens).set({ lastUsedAt: new Date().toISOString() }).where(eq(apiTokens.id, row.id));
  }
  return { id: row.id, scope: row.scope as TokenScope };
}

export async function listTokens(db: Db): Promise<TokenInfo[]> {
  const rows = await db.select().from(apiTokens).orderBy(apiTokens.id);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    scope: r.scope as TokenScope,
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt,
    revokedAt: r.revokedAt,
  }));
}

export async function revokeToken(db: Db, id: number): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date().toISOString() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}
