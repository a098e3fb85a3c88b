// Jira webhook secrets that `webhooks install` generated (when the config names none) are kept
// in the database, so every replica verifies deliveries with the same secret.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { kv } from '../../db/schema.ts';
import type { Config, JiraConnection } from '../config/schema.ts';

const keyOf = (connection: string) => `webhook-secret:${connection}`;

/** Fills `webhookSecret` of Jira connections that have none from the stored generated secret. */
export async function applyStoredSecrets(db: Db, config: Config): Promise<string[]> {
  const applied: string[] = [];
  for (const c of config.connections) {
    if (c.kind !== 'jira' || c.webhookSecret) continue;
    const [row] = await db
      .select()
      .from(kv)
      .where(eq(kv.key, keyOf(c.id)));
    if (row && typeof row.value === 'string') {
      c.webhookSecret = row.value;
      applied.push(row.value);
    }
  }
  return applied;
}

/** The secret to register for a Jira connection: the configured one, else a stored or new one. */
export async function ensureWebhookSecret(
  db: Db,
  conn: JiraConnection,
): Promise<{ secret: string; generated: boolean }> {
  if (conn.webhookSecret) return { secret: conn.webhookSecret, generated: false };
  const [row] = await db
    .select()
    .from(kv)
    .where(eq(kv.key, keyOf(conn.id)));
  if (row && typeof row.value === 'string') return { secret: row.value, generated: false };
  const secret = randomBytes(32).toString('base64url');
  await db
    .insert(kv)
    .values({ key: keyOf(conn.id), value: secret })
    .onConflictDoNothing();
  const [stored] = await db
    .select()
    .from(kv)
    .where(eq(kv.key, keyOf(conn.id)));
  return { secret: String(stored?.value ?? secret), generated: true };
}
