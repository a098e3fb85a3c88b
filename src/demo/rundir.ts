// Each demo run has a directory of its own under ./.pmo-sync/demo/: its database and the config
// file that points at it. Two demos in one checkout never share one, a run removes its own when
// it stops, and the directories of runs that did not stop cleanly (killed, crashed) are removed
// by the next run, so they never pile up.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export interface RunDir {
  dir: string;
  /** Removes the directory and everything in it. */
  remove(): void;
}

interface Owner {
  pid: number;
  host: string;
  started: number;
}

const OWNER_FILE = 'owner.json';
/** A directory without an owner file is a run being created; after this long it is a leftover. */
const UNOWNED_GRACE_MS = 60 * 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(dir: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as Partial<Owner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string' || typeof o.started !== 'number') return null;
    return { pid: o.pid, host: o.host, started: o.started };
  } catch {
    return null;
  }
}

/** Whether a run directory belongs to no running demo. */
function abandoned(dir: string, me: Owner, nowMs: number): boolean {
  const owner = readOwner(dir);
  if (!owner) {
    try {
      return nowMs - statSync(dir).mtimeMs > UNOWNED_GRACE_MS;
    } catch {
      return false;
    }
  }
  // Another host's run (a shared folder) cannot be asked whether it runs: left alone.
  if (owner.host !== me.host) return false;
  if (owner.pid === me.pid) return owner.started !== me.started;
  return !alive(owner.pid);
}

/** Removes abandoned runs and creates this run's directory under `<cwd>/.pmo-sync/demo/`. */
export function createRunDir(cwd: string, now: () => number = Date.now): RunDir {
  const base = resolve(cwd, '.pmo-sync', 'demo');
  mkdirSync(base, { recursive: true });
  const me: Owner = { pid: process.pid, host: hostname(), started: Math.round(performance.timeOrigin) };
  for (const name of readdirSync(base)) {
    const dir = join(base, name);
    if (abandoned(dir, me, now())) rmSync(dir, { recursive: true, force: true });
  }
  const dir = mkdtempSync(join(base, `run-${process.pid}-`));
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(me));
  return {
    dir,
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
