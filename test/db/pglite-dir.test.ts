// A PGlite database on disk: its directory is created by initdb in a child process (so the
// memory initdb touches leaves with it), then opened here with a small buffer pool.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { DatabaseError } from '../../db/errors.ts';
import { queryRows } from '../../db/query.ts';
import { syncCursors } from '../../db/schema.ts';
import { configDir, runCli } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'pmo-pglite-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('PGlite data directory', () => {
  it('is created on first open, keeps its data and opens again', async () => {
    const dir = join(root, 'nested', 'db');
    const first = await openDatabase(dir);
    try {
      expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
      await first.migrate();
      await first.db.insert(syncCursors).values({ connection: 'jira-main', cursor: '2026-11-22T05:00:00.000Z' });
      const [settings] = await queryRows<{ shared_buffers: string }>(first.db, sql`show shared_buffers`);
      expect(settings?.shared_buffers).toBe('16MB');
      const [wal] = await queryRows<{ wal_init_zero: string }>(first.db, sql`show wal_init_zero`);
      expect(wal?.wal_init_zero).toBe('off');
    } finally {
      await first.close();
    }
    const second = await openDatabase(`file://${dir}`);
    try {
      await second.migrate();
      const rows = await second.db.select().from(syncCursors).where(eq(syncCursors.connection, 'jira-main'));
      expect(rows.map((r) => r.cursor)).toEqual(['2026-11-22T05:00:00.000Z']);
    } finally {
      await second.close();
    }
  });

  it('names the directory when it cannot be created', async () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'not a directory');
    await expect(openDatabase(join(blocker, 'db'))).rejects.toThrow(/a-file/);
  });
});

/** What openDatabase threw, as the fields a user sees. */
async function openFailure(path: string): Promise<{ message: string; exitCode: number }> {
  try {
    const d = await openDatabase(path);
    await d.close();
  } catch (e) {
    expect(e).toBeInstanceOf(DatabaseError);
    const err = e as DatabaseError;
    return { message: err.message, exitCode: err.exitCode };
  }
  throw new Error(`expected opening ${path} to fail`);
}

describe('PGlite storage failures (as root, so chmod alone would not deny)', () => {
  it('a path under a regular file: one line naming the file, exit 2, nothing made', async () => {
    const parent = join(root, 'under-file');
    mkdirSync(parent);
    writeFileSync(join(parent, 'blocker'), 'x');
    expect(await openFailure(join(parent, 'blocker', 'deeper', 'db'))).toEqual({
      message: `cannot create the PGlite database in ${join(parent, 'blocker', 'deeper', 'db')}: ${join(parent, 'blocker')} is a file, not a directory; part of that path is a file, not a directory: set database.url to a directory path`,
      exitCode: 2,
    });
    expect(readdirSync(parent)).toEqual(['blocker']);
  });

  it('a directory that cannot be made (under /proc): the path and the system error, exit 2, no hang', async () => {
    const { message, exitCode } = await openFailure('/proc/pmo-sync-test/db');
    expect({ message, exitCode }).toEqual({
      message:
        "cannot create the PGlite database in /proc/pmo-sync-test/db (at /proc/pmo-sync-test): ENOENT: no such file or directory, mkdir '/proc/pmo-sync-test'; a directory cannot be created there: set database.url to a directory on a writable disk",
      exitCode: 2,
    });
  });

  it('prints one line and exits 2 through the CLI', async () => {
    const parent = join(root, 'cli-under-file');
    mkdirSync(parent);
    writeFileSync(join(parent, 'f'), 'x');
    const dir = configDir(
      `database: { url: ${join(parent, 'f', 'db')} }\nconnections:\n  - { id: j, kind: jira, baseUrl: https://acme.atlassian.net, auth: { email: a@b.test, apiToken: long-test-token }, scope: { projects: [PAY] } }\n`,
    );
    const r = await runCli(['migrate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringContaining(
        `cannot create the PGlite database in ${join(parent, 'f', 'db')}: ${join(parent, 'f')} is a file`,
      ),
    ]);
    expect(readdirSync(parent)).toEqual(['f']);
  });

  // A read-only and a full file system, made with tmpfs mounts: root ignores chmod, not these.
  const mounts: string[] = [];
  const mount = (size: string, ro = false): string | null => {
    const at = mkdtempSync(join(tmpdir(), 'pmo-mnt-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${ro ? ',ro' : ''}`, 'tmpfs', at], { stdio: 'ignore' });
    } catch {
      rmSync(at, { recursive: true, force: true });
      return null;
    }
    mounts.push(at);
    return at;
  };
  afterAll(() => {
    for (const at of mounts) {
      try {
        execFileSync('umount', [at], { stdio: 'ignore' });
        rmSync(at, { recursive: true, force: true });
      } catch {
        // left for the system's tmp cleaning
      }
    }
  });
  // Mounting needs root (CI and the dev machines run tests as root); elsewhere these two say so.
  const canMount = (() => {
    const probe = mount('64k');
    return probe !== null;
  })();

  it.skipIf(!canMount)('a read-only file system: the path and EROFS, exit 2, nothing made', async () => {
    const ro = mount('1m', true)!;
    expect(await openFailure(join(ro, 'nested', 'db'))).toEqual({
      message: `cannot create the PGlite database in ${join(ro, 'nested', 'db')} (at ${join(ro, 'nested')}): EROFS: read-only file system, mkdir '${join(ro, 'nested')}'; the file system is read-only: set database.url to a writable directory`,
      exitCode: 2,
    });
  });

  it.skipIf(!canMount)(
    'a full disk: the path and ENOSPC (not "[object Object]"), exit 1, nothing half-made',
    async () => {
      const small = mount('2m')!;
      mkdirSync(join(small, 'kept'));
      expect(await openFailure(join(small, 'kept', 'new', 'db'))).toEqual({
        message: `cannot create the PGlite database in ${join(small, 'kept', 'new', 'db')}: no space left on device (ENOSPC); free some space there, or set database.url to a directory on another disk`,
        exitCode: 1,
      });
      // The directories made for it are gone; the one that was there stays.
      expect(readdirSync(small)).toEqual(['kept']);
      expect(readdirSync(join(small, 'kept'))).toEqual([]);
      // An empty directory the user made stays, emptied of initdb's leftovers.
      expect(await openFailure(join(small, 'kept'))).toMatchObject({ exitCode: 1 });
      expect(readdirSync(join(small, 'kept'))).toEqual([]);
    },
  );
});
