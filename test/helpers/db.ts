// Test databases: in-memory PGlite (pglite.ts), and a throwaway database on the real Postgres
// named by TEST_DATABASE_URL. Each call gets an isolated, migrated database: a copy of the run's
// template (test/helpers/templates.ts) where test/global-setup.ts made one, else migrated here.
//
// Which targets a run covers: test/helpers/targets.ts (PMO_TEST_TARGETS). This module is how a
// test reaches Postgres: in a Postgres-only run vitest.config.ts runs only the files importing it.
import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { type Database, openDatabase } from '../../db/client.ts';
import { openPglite } from './pglite.ts';
import { covers, postgresUrl } from './targets.ts';

export { covers, postgresUrl } from './targets.ts';

export interface TestDbTarget {
  name: 'pglite' | 'postgres';
  open(): Promise<Database>;
}

/** The database kinds every shared DB suite runs on: those this run covers (targets.ts). */
export function dbTargets(): TestDbTarget[] {
  const targets: TestDbTarget[] = [];
  if (covers('pglite')) targets.push({ name: 'pglite', open: openPglite });
  const pgUrl = postgresUrl();
  if (pgUrl) targets.push({ name: 'postgres', open: () => openIsolatedPostgres(pgUrl) });
  return targets;
}

/** A throwaway database on the server (CREATE DATABASE), dropped when the test file ends. */
export async function openIsolatedPostgres(
  baseUrl: string,
  options: { migrate?: boolean } = {},
): Promise<Database & { url: string }> {
  const name = `pmo_test_${randomBytes(6).toString('hex')}`;
  const { default: postgres } = await import('postgres');
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  const migrate = options.migrate !== false;
  const template = inject('postgresTemplate');
  const copy = migrate && template?.server === baseUrl;
  await admin.unsafe(copy ? `create database ${name} template ${template.name}` : `create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase(url.toString(), { maxConnections: 5 });
  if (migrate) await db.migrate();
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
