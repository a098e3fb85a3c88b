// Postgres through postgres.js. Kept apart from the PGlite driver so runtimes without a file
// system (Cloudflare Workers through Hyperdrive) can use it alone.
import type { Sql } from 'postgres';
import { JSON_OIDS, parseJson } from '../src/core/json.ts';
import * as schema from './schema.ts';
import { type Database, type Db, lockKey, redactUrl } from './types.ts';

/** Serialises migrations across replicas that start at once. */
const MIGRATE_LOCK = 72_011_001;

export interface PostgresOptions {
  /** postgres.js pool size. */
  maxConnections?: number;
  /** Folder of drizzle-kit migrations; migrate() is unavailable without it. */
  migrationsFolder?: string;
}

export async function openPostgres(url: string, opts: PostgresOptions = {}): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const sql: Sql = postgres(url, {
    max: opts.maxConnections ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    // Session settings for pmo-sync's own statements; the URL's query (`?work_mem=16MB`) wins.
    // JIT compiled the rollup aggregate for 1.2 of its 3.6 s at 150,000 items, and its sorts
    // spilled to disk at the default 4 MB of work memory.
    connection: { jit: 'off', work_mem: '64MB' },
  });
  // json and jsonb through parseJson: V8's JSON.parse can misread escaped keys (src/core/json.ts).
  for (const oid of JSON_OIDS) sql.options.parsers[oid] = parseJson;
  const db = drizzle({ client: sql, schema }) as unknown as Db;
  return {
    db,
    driver: 'postgres',
    location: redactUrl(url),
    migrate: async () => {
      // Session advisory locks belong to one connection: hold it on a reserved one.
      const conn = await sql.reserve();
      try {
        await conn`select pg_advisory_lock(${MIGRATE_LOCK})`;
        if (!opts.migrationsFolder)
          throw new Error(
            'no migrations folder in this runtime: run `pmo-sync migrate` from a machine with the package',
          );
        const { migrate } = await import('drizzle-orm/postgres-js/migrator');
        await migrate(db as never, { migrationsFolder: opts.migrationsFolder });
      } finally {
        await conn`select pg_advisory_unlock(${MIGRATE_LOCK})`.catch(() => {});
        conn.release();
      }
    },
    tryLock: async (name) => {
      const key = lockKey(name).toString();
      const conn = await sql.reserve();
      const [row] = await conn`select pg_try_advisory_lock(${key}::bigint) as ok`;
      if (!row?.ok) {
        conn.release();
        return null;
      }
      return async () => {
        try {
          await conn`select pg_advisory_unlock(${key}::bigint)`;
        } finally {
          conn.release();
        }
      };
    },
    close: async () => {
      await sql.end({ timeout: 5 });
    },
  };
}
