// Databases for benchmarks and the soak: in-memory PGlite, or a throwaway database on the Postgres
// named by BENCH_DATABASE_URL (default the local test server), created here and dropped on close.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openDatabase } from '../../db/client.ts';

export const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/test';

export type DbKind = 'pglite' | 'postgres';

export interface BenchDatabase extends Database {
  kind: DbKind;
  /** The URL a child process can open (Postgres only: PGlite is one process's own). */
  url: string;
}

export async function openBenchDatabase(kind: DbKind, baseUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_PG) {
  if (kind === 'pglite') {
    // A data directory on disk, as `pmo-sync` uses by default (./.pmo-sync/db): in memory, PGlite
    // copies each table file whenever it grows, which at 150,000 items cost more time and
    // memory than the sync itself.
    const dir = await mkdtemp(join(tmpdir(), 'pmo-bench-pglite-'));
    const db = await openDatabase(dir);
    await db.migrate();
    return benchDatabase(db, kind, dir, () => rm(dir, { recursive: true, force: true }));
  }
  const name = `pmo_bench_${randomBytes(6).toString('hex')}`;
  const { default: postgres } = await import('postgres');
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase(url.toString(), { maxConnections: 8 });
  await db.migrate();
  return benchDatabase(db, kind, url.toString(), async () => {
    // BENCH_KEEP_DATABASE=1 keeps it, to EXPLAIN a scenario's queries afterwards; drop it by hand.
    if (process.env.BENCH_KEEP_DATABASE === '1') process.stderr.write(`kept database ${name}\n`);
    else await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });
}

/** The database with its kind and URL; closing it (once, however often called) then runs `dispose`. */
function benchDatabase(db: Database, kind: DbKind, url: string, dispose: () => Promise<unknown>): BenchDatabase {
  const close = db.close;
  let closed: Promise<void> | undefined;
  db.close = () => {
    closed ??= (async () => {
      await close().catch(() => {});
      await dispose();
    })();
    return closed;
  };
  return Object.assign(db, { kind, url });
}

/** True when the Postgres server answers (the suite skips Postgres scenarios otherwise, and says so). */
export async function postgresReachable(baseUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_PG): Promise<boolean> {
  const { default: postgres } = await import('postgres');
  const sql = postgres(baseUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}
