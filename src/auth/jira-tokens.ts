// The newest OAuth refresh token of each Jira connection, kept in the kv table: Atlassian rotates
// the refresh token on every use and the one in pmo-sync.yaml stops working after the first, so
// a restart (or another replica) must start from the stored one. Last write wins: every replica
// saves what Atlassian last handed it, and Atlassian keeps a just-rotated token valid briefly.
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { JiraTokenStore } from '../../connectors/jira/auth.ts';
import type { Db } from '../../db/client.ts';
import { kv } from '../../db/schema.ts';

const keyOf = (connection: string) => `jira-oauth-refresh:${connection}`;
const Stored = z.object({ refreshToken: z.string().min(1), configured: z.string() });

export function createKvTokenStore(db: Db): JiraTokenStore {
  return {
    async load(connection) {
      const [row] = await db
        .select()
        .from(kv)
        .where(eq(kv.key, keyOf(connection)));
      const parsed = Stored.safeParse(row?.value);
      return parsed.success ? parsed.data : null;
    },
    async save(connection, value) {
      await db
        .insert(kv)
        .values({ key: keyOf(connection), value })
        .onConflictDoUpdate({ target: kv.key, set: { value, updatedAt: sql`now()` } });
    },
  };
}
