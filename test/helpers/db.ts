// Test databases: in-memory PGlite always, and a fresh schema on the real Postgres named by
// TEST_DATABASE_URL when it is set. Each call gets an isolated database.
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { type Database, openDatabase } from '../../db/client.ts';

export interface TestDbTarget {
  name: 'pglite' | 'postgres';
  open(): Promise<Database>;
}

/** The database kinds every shared DB suite runs on: PGlite, plus Postgres when configured. */
export function dbTargets(): TestDbTarget[] {
  const targets: TestDbTarget[] = [{ name: 'pglite', open: () => openMigrated('memory://') }];
  const pgUrl = process.env.TEST_DATABASE_URL;
  if (pgUrl) targets.push({ name: 'postgres', open: () => openIsolatedPostgres(pgUrl) });
  return targets;
}

async function openMigrated(url: string): Promise<Database> {
  const db = await openDatabase(url);
  await db.migrate();
  return db;
}

/** A throwaway database on the server (CREATE DATABASE), dropped when the test file ends. */
export async function openIsolatedPostgres(
  baseUrl: string,
  options: { migrate?: boolean } = {},
): Promise<Database & { url: string }> {
  const name = `pmo_test_${randomBytes(6).toString('hex')}`;
  const { default: postgres } = await import('postgres');
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase(url.toString(), { maxConnections: 5 });
  if (options.migrate !== false) await db.migrate();
  const close = db.close;
  let closed: Promise<void> | undefined;
  db.close = () => {
    closed ??= (async () => {
      await close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    })();
    return closed;
  };
  afterAll(async () => {
    await db.close().catch(() => {});
  });
  return Object.assign(db, { url: url.toString() });
}
