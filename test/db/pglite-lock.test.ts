// One process at a time on a PGlite directory: a second opener is told who holds it, a lock left
// by a process that has ended is taken over, and closing gives the directory back.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { DatabaseInUseError } from '../../db/pglite-lock.ts';

const root = mkdtempSync(join(tmpdir(), 'pmo-pglite-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.once('exit', () => resolve(child.pid!));
  });
}

describe('PGlite directory lock', () => {
  it('refuses a second opener naming the holder, and frees the directory on close', async () => {
    const dir = join(root, 'a');
    const first = await openDatabase(dir);
    try {
      const second = openDatabase(dir);
      await expect(second).rejects.toThrow(DatabaseInUseError);
      await expect(openDatabase(dir)).rejects.toThrow(
        `database ${dir} is in use by another pmo-sync process (pid ${process.pid}): embedded PGlite serves one process at a time`,
      );
      expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    } finally {
      await first.close();
    }
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const again = await openDatabase(dir);
    await again.close();
  });

  it('takes over a lock left by a process that has ended', async () => {
    const dir = join(root, 'b');
    writeFileSync(`${dir}.lock`, JSON.stringify({ pid: await deadPid(), host: hostname(), started: 1 }));
    const db = await openDatabase(dir);
    try {
      expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8')).pid).toBe(process.pid);
    } finally {
      await db.close();
    }
  });
});
