// The database handle every part of pmo-sync uses, whichever driver is behind it.
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema.ts';

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
  for (const ch of new TextEncoder().encode(`pmo-sync:${name}`)) {
    h ^= BigInt(ch);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, h);
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
