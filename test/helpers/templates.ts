// Migrated template databases, made once per test run by test/global-setup.ts so that each test
// database is a copy rather than a new cluster migrated from nothing: an in-memory PGlite starts
// from a dump of a migrated one (its own initdb is what costs), and a Postgres test database is
// created from a migrated template database.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MIGRATIONS_FOLDER, openDatabase } from '../../db/client.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** A tar file of a migrated PGlite data directory (PGlite's dumpDataDir). */
    pgliteTemplate: string | undefined;
    /** A migrated database on the server at `server`, to CREATE DATABASE … TEMPLATE from. */
    postgresTemplate: { server: string; name: string } | undefined;
  }
}

/** The migrations as a short hash: a template made from other migrations is never used. */
export function migrationsHash(): string {
  const h = createHash('sha256');
  const files = [
    'meta/_journal.json',
    ...readdirSync(MIGRATIONS_FOLDER)
      .filter((f) => f.endsWith('.sql'))
      .sort(),
  ];
  for (const f of files)
    h.update(f)
      .update('\0')
      .update(readFileSync(join(MIGRATIONS_FOLDER, f)))
      .update('\0');
  return h.digest('hex').slice(0, 16);
}

/**
 * The path of a tar file holding a migrated PGlite data directory, made in `dir` if missing and
 * kept there for later runs: its name carries the migrations' hash and PGlite's version, and
 * making it removes the templates of other versions.
 */
export async function pgliteTemplate(dir: string): Promise<string> {
  const pkg = join(dirname(MIGRATIONS_FOLDER), '..', 'node_modules', '@electric-sql', 'pglite', 'package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  const name = `pglite-${version}-${migrationsHash()}.tar`;
  const file = join(dir, name);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  // Written aside and renamed: a run beside this one never reads half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writePgliteTemplate(partial);
  renameSync(partial, file);
  for (const other of readdirSync(dir)) {
    if (other !== name && other.startsWith('pglite-') && !other.endsWith('.partial')) rmSync(join(dir, other));
  }
  return file;
}

/** Writes a dump of a migrated in-memory PGlite to `file`. */
async function writePgliteTemplate(file: string): Promise<void> {
  const database = await openDatabase('memory://');
  try {
    await database.migrate();
    // drizzle keeps the driver's client as `$client`: here PGlite's, which can dump itself.
    const client = (database.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
    writeFileSync(file, Buffer.from(await (await client.dumpDataDir('none')).arrayBuffer()));
  } finally {
    await database.close();
  }
}

/**
 * The name of a migrated template database on `baseUrl`'s server, made if missing. It is kept
 * for later runs (one per set of migrations; dropping it is always safe) and made under an
 * advisory lock, built under another name and renamed, so that concurrent runs and a run that
 * died half-way never see a half-migrated one. Nobody may connect to it: a template with a
 * session open cannot be copied.
 */
export async function ensurePostgresTemplate(baseUrl: string): Promise<string> {
  const name = `pmo_test_template_${migrationsHash()}`;
  const building = `${name}_building`;
  const { default: postgres } = await import('postgres');
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin`select pg_advisory_lock(hashtext('pmo-sync test template'))`;
    const [found] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!found) {
      await admin.unsafe(`drop database if exists ${building} with (force)`);
      await admin.unsafe(`create database ${building}`);
      const url = new URL(baseUrl);
      url.pathname = `/${building}`;
      // migrate() holds its lock on one connection and migrates on another.
      const db = await openDatabase(url.toString(), { maxConnections: 2 });
      try {
        await db.migrate();
      } finally {
        await db.close();
      }
      await admin.unsafe(`alter database ${building} with allow_connections false`);
      await admin.unsafe(`alter database ${building} rename to ${name}`);
    }
    return name;
  } finally {
    await admin.end();
  }
}
