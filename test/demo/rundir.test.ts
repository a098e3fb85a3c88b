// Demo run directories: one per run, removed by its run, and runs whose demo has ended (killed,
// crashed) removed by the next one; a run that is still going, or still being created, is kept.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunDir } from '../../src/demo/rundir.ts';
import { tempDir } from '../helpers/temp.ts';

function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.once('exit', () => resolve(child.pid!));
  });
}

describe('demo run directories', () => {
  it('gives each run its own directory and removes abandoned ones only', async () => {
    const cwd = tempDir();
    const base = join(cwd, '.pmo-sync', 'demo');
    const run = (name: string, owner: object | null, ageMs = 0) => {
      const dir = join(base, name);
      mkdirSync(join(dir, 'db'), { recursive: true });
      if (owner) writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
      const t = (Date.now() - ageMs) / 1000;
      utimesSync(dir, t, t);
      return dir;
    };
    run('dead', { pid: await deadPid(), host: hostname(), started: 1 });
    run('alive', { pid: process.ppid, host: hostname(), started: 1 });
    run('elsewhere', { pid: await deadPid(), host: 'another-host', started: 1 });
    run('starting', null);
    run('stale-unowned', null, 2 * 60 * 60_000);

    const a = createRunDir(cwd);
    const b = createRunDir(cwd);
    expect(a.dir).not.toBe(b.dir);
    expect(readdirSync(base).sort()).toEqual(
      ['alive', basename(a.dir), basename(b.dir), 'elsewhere', 'starting'].sort(),
    );

    a.remove();
    expect(existsSync(a.dir)).toBe(false);
    expect(existsSync(b.dir)).toBe(true);
  });
});
