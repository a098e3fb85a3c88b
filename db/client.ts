// Opens the database named by a URL and applies migrations. One schema, two drivers:
//   none, a path or file://  → embedded PGlite on disk (default ./.pmo-sync/db)
//   memory://                → in-memory PGlite (tests, throwaway demos)
//   postgres:// postgresql:// → a real Postgres through postgres.js
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Sql } from 'postgres';
import { ConfigError } from '../src/errors.ts';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  /** Where the data lives, with any password removed: safe to log. */
  location: string;
  migrate(): Promise<void>;
  /**
   * Takes a session advisory lock named `name` without waiting: the release function, or null
   * when another session holds it. The lock dies with its session, so a crashed holder frees it.
   */
  tryLock(name: string): Promise<(() => Promise<void>) | null>;
  close(): Promise<void>;
}

/** A stable 64-bit lock key for a name (two int4 halves would also do; one bigint is simpler). */
export function lockKey(name: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const ch of Buffer.from(`pmo-sync:${name}`)) {
    h ^= BigInt(ch);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, h);
}

export const DEFAULT_DB_PATH = './.pmo-sync/db';
export const MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Serialises migrations across replicas that start at once. */
const MIGRATE_LOCK = 72_011_001;

export interface OpenOptions {
  cwd?: string;
  /** postgres.js pool size. */
  maxConnections?: number;
}

export async function openDatabase(url: string | undefined, opts: OpenOptions = {}): Promise<Database> {
  const target = url?.trim() || DEFAULT_DB_PATH;
  if (/^postgres(ql)?:\/\//i.test(target)) return openPostgres(target, opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target) && !/^(memory|file):\/\//i.test(target)) {
    throw new ConfigError([
      {
        path: 'database.url',
        message: `unsupported database URL scheme in ${redactUrl(target)} (use postgres://…, memory:// or a directory path)`,
      },
    ]);
  }
  return openPglite(target, opts);
}

async function openPglite(target: string, opts: OpenOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  let client: PGlite;
  let location: string;
  if (/^memory:\/\//i.test(target)) {
    client = new PGlite();
    location = 'memory://';
  } else {
    const dir = resolve(opts.cwd ?? process.cwd(), target.replace(/^file:\/\//i, ''));
    mkdirSync(dirname(dir), { recursive: true });
    client = new PGlite(dir);
    location = dir;
  }
  await client.waitReady;
  const held = new Set<string>();
  const db = drizzle({ client, schema }) as unknown as Db;
  return {
    db,
    driver: 'pglite',
    location,
    migrate: async () => {
      await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    },
    tryLock: async (name) => {
      // PGlite has one session, and advisory locks stack within a session: the set of held
      // names is what excludes this process's other passes.
      if (held.has(name)) return null;
      held.add(name);
      const key = lockKey(name).toString();
      await client.query(`select pg_advisory_lock(${key}::bigint)`);
      return async () => {
        held.delete(name);
        await client.query(`select pg_advisory_unlock(${key}::bigint)`);
      };
    },
    close: async () => {
      await client.close();
    },
  };
}

async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const sql: Sql = postgres(url, { max: opts.maxConnections ?? 10, onnotice: () => {}, connect_timeout: 10 });
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
        await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
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

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
