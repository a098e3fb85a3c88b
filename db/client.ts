// Opens the database named by a URL and applies migrations. One schema, two drivers:
//   none, a path or file://  → embedded PGlite on disk (default ./.pmo-sync/db)
//   memory://                → in-memory PGlite (tests, throwaway demos)
//   postgres:// postgresql:// → a real Postgres through postgres.js
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { ConfigError } from '../src/core/errors.ts';
import { JSON_OIDS, parseJson } from '../src/core/json.ts';
import { DatabaseError, describeSystemError, storageHint } from './errors.ts';
import { lockPgliteDir } from './pglite-lock.ts';
import { keepParserUnoptimized } from './pglite-parser.ts';
import * as schema from './schema.ts';
import { type Database, type Db, lockKey, redactUrl } from './types.ts';

export type { Database, Db, Schema } from './types.ts';
export { lockKey, redactUrl } from './types.ts';

export const DEFAULT_DB_PATH = './.pmo-sync/db';
export const MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface OpenOptions {
  cwd?: string;
  /** postgres.js pool size. */
  maxConnections?: number;
  /**
   * memory:// only: start from this dump of a data directory (PGlite's `dumpDataDir`) instead of
   * an empty cluster, which PGlite would make by running initdb in this process.
   */
  loadDataDir?: Blob;
}

export async function openDatabase(url: string | undefined, opts: OpenOptions = {}): Promise<Database> {
  const target = url?.trim() || DEFAULT_DB_PATH;
  if (/^postgres(ql)?:\/\//i.test(target)) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(target, { ...opts, migrationsFolder: MIGRATIONS_FOLDER });
  }
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

// The first sync must stay within the memory goal (bench/guard.json holds it in CI). Shared
// buffers are memory PGlite's WebAssembly heap touches and never gives back, while the data
// directory's files sit in the system's page cache anyway: keep the pool small. Postgres fills
// each new WAL segment with zeros first, and PGlite's file system layer (Emscripten's doWritev)
// copies every multi-buffer write into a fresh ArrayBuffer that lives until V8 next collects:
// without the zero fill a new segment is made by writing its last byte (Postgres's
// wal_init_zero, meant for copy-on-write file systems; WAL records carry their own checksums,
// so recovery does not rely on the zeros). Measurements: BENCHMARKS.md, "Memory".
const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'wal_init_zero=off'];
const INIT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'pglite-init.mjs');

/**
 * Runs initdb for a new data directory in a child process. In this process PGlite's initdb
 * instance would stay resident for good, carried by a long-running server; a child gives its
 * memory back when it exits.
 */
async function initPgliteDir(dir: string): Promise<void> {
  await new Promise<void>((done, fail) => {
    // Baseline code only: initdb parses thousands of statements once, so V8's optimizing
    // compiles (db/pglite-parser.ts) cost more memory and time than they save.
    // It starts the new database once with the settings it will be opened with.
    const args = ['--liftoff-only', INIT_SCRIPT, dir, ...PGLITE_SETTINGS];
    execFile(process.execPath, args, { timeout: 120_000 }, (err, _out, stderr) => {
      if (!err) return done();
      // The child reports what it caught as one JSON line (pglite-init.mjs).
      const last = stderr.trim().split('\n').pop() ?? '';
      let reported: unknown = last || err.message;
      try {
        reported = JSON.parse(last);
      } catch {
        // Not the child's report (it was killed, or Node itself failed): keep the text.
      }
      const { code, text } = describeSystemError(reported);
      fail(
        new DatabaseError(`cannot create the PGlite database in ${dir}: ${text}; ${storageHint(code)}`, {
          location: dir,
          code,
          cause: err,
        }),
      );
    });
  });
}

/** Directories made for a new data directory, so a failed creation can take them away again. */
interface MadeDirs {
  /** The highest directory this call created (removing it removes the rest), if any. */
  top: string | null;
  /** The data directory existed and was empty: a failed initdb's files are removed from it. */
  emptiedOnFailure: boolean;
}

/**
 * Creates the data directory and its missing parents one level at a time: Node's recursive
 * mkdir loops forever under /proc, and a level at a time tells which one failed and why.
 */
function makeDataDir(dir: string): MadeDirs {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(cur, { throwIfNoEntry: false });
    } catch (e) {
      // ENOTDIR: a parent further up is a file; the walk reaches it and says so.
      if ((e as { code?: string }).code !== 'ENOTDIR') throw storageError('cannot use', dir, e);
    }
    if (st) {
      if (!st.isDirectory()) {
        throw new DatabaseError(
          `cannot create the PGlite database in ${dir}: ${cur} is a file, not a directory; ${storageHint('ENOTDIR')}`,
          { location: dir, code: 'ENOTDIR' },
        );
      }
      break;
    }
    missing.unshift(cur);
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  const made: MadeDirs = { top: null, emptiedOnFailure: false };
  if (missing.length === 0) {
    made.emptiedOnFailure = readdirSync(dir).length === 0;
    return made;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      removeMade(dir, made);
      throw storageError('cannot create', dir, e, d);
    }
    made.top ??= d;
  }
  return made;
}

/** Takes away what makeDataDir made (and what initdb left in a directory that was empty). */
function removeMade(dir: string, made: MadeDirs): void {
  try {
    if (made.top) rmSync(made.top, { recursive: true, force: true });
    else if (made.emptiedOnFailure) {
      for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    }
  } catch {
    // Best effort: the error being reported matters more than a leftover we could not remove.
  }
}

function storageError(verb: string, dir: string, err: unknown, at?: string): DatabaseError {
  const { code, text } = describeSystemError(err);
  const where = at && at !== dir ? ` (at ${at})` : '';
  return new DatabaseError(`${verb} the PGlite database in ${dir}${where}: ${text}; ${storageHint(code)}`, {
    location: dir,
    code,
    cause: err,
  });
}

async function openPglite(target: string, opts: OpenOptions): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  let client: PGlite;
  let location: string;
  let unlock = () => {};
  const settings = {
    startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
    // json and jsonb through parseJson: V8's JSON.parse can misread escaped keys (src/core/json.ts).
    parsers: Object.fromEntries(JSON_OIDS.map((oid) => [oid, parseJson])),
  };
  if (/^memory:\/\//i.test(target)) {
    client = new PGlite({ ...settings, loadDataDir: opts.loadDataDir });
    location = 'memory://';
    keepParserUnoptimized(client);
    await client.waitReady;
  } else {
    const dir = resolve(opts.cwd ?? process.cwd(), target.replace(/^file:\/\//i, ''));
    location = dir;
    // A database that is not there yet is made here; if making or first opening it fails,
    // nothing half-made is left behind (a retry would otherwise find a directory without a
    // database in it, or an initdb cut short).
    const made = makeDataDir(dir);
    // Before initdb: two processes must not create or open one directory at once. What the
    // holder may be making is not ours to remove: only directories this call created go.
    try {
      unlock = lockPgliteDir(dir);
    } catch (e) {
      removeMade(dir, { top: made.top, emptiedOnFailure: false });
      throw e;
    }
    const fresh = !existsSync(join(dir, 'PG_VERSION'));
    try {
      if (fresh) await initPgliteDir(dir);
      client = new PGlite(dir, settings);
      keepParserUnoptimized(client);
      await client.waitReady;
    } catch (e) {
      unlock();
      if (fresh) removeMade(dir, made);
      throw e instanceof DatabaseError ? e : storageError('cannot open', dir, e);
    }
  }
  const held = new Set<string>();
  const db = drizzle({ client, schema }) as unknown as Db;
  return {
    db,
    driver: 'pglite',
    location,
    migrate: async () => {
      try {
        await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
      } catch (e) {
        throw location === 'memory://' ? e : storageError('cannot migrate', location, e);
      }
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
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}
