// In-memory PGlite databases for tests, started from the run's migrated template
// (test/helpers/templates.ts) where test/global-setup.ts made one: PGlite's own initdb, run for
// every new in-memory database, is what costs.
import { openAsBlob } from 'node:fs';
import { inject } from 'vitest';
import { type Database, type OpenOptions, openDatabase } from '../../db/client.ts';

/**
 * openDatabase, with memory:// started from the template: for code under test that opens its
 * database itself (the CLI's deps). Undefined template (a config without the global setup): a
 * new cluster, as in production.
 */
export async function openDatabaseFromTemplate(url: string | undefined, opts: OpenOptions = {}): Promise<Database> {
  const template = /^memory:\/\//i.test(url?.trim() ?? '') ? inject('pgliteTemplate') : undefined;
  return openDatabase(url, template ? { ...opts, loadDataDir: await openAsBlob(template) } : opts);
}

/** A migrated in-memory PGlite database of its own. */
export async function openPglite(): Promise<Database> {
  const db = await openDatabaseFromTemplate('memory://');
  // A copy of the template is up to date already; this checks so in a few statements.
  await db.migrate();
  return db;
}
