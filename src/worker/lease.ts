// Named locks as leases in the kv table. Node replicas hold session advisory locks, but through
// Hyperdrive's transaction-mode pool a session lock would stay on whichever pooled connection
// took it; a lease row needs no session, and a Worker that dies mid-job frees it when it expires.
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';

export function withLeaseLocks(database: Database, opts: { leaseMs: number; holder: string }): Database {
  const { db } = database;
  return {
    ...database,
    async tryLock(name) {
      const key = `lock:${name}`;
      const taken = await queryRows<{ key: string }>(
        db,
        sql`
        insert into kv (key, value, updated_at)
        values (${key}, ${JSON.stringify({ holder: opts.holder })}::jsonb, now())
        on conflict (key) do update set value = excluded.value, updated_at = now()
          where kv.updated_at < now() - (${opts.leaseMs} * interval '1 millisecond')
        returning key`,
      );
      if (taken.length === 0) return null;
      return async () => {
        await db.execute(sql`delete from kv where key = ${key} and value->>'holder' = ${opts.holder}`);
      };
    },
  };
}
