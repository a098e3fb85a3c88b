// A PGlite database on disk: its directory is created by initdb in a child process (so the
// memory initdb touches leaves with it), then opened here with a small buffer pool.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { syncCursors } from '../../db/schema.ts';

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
