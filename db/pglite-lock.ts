// One process at a time on a PGlite data directory. PGlite is Postgres in one process's memory
// with no postmaster to arbitrate: a second process opening the same directory (a CLI command
// beside `serve` or the demo) would write over the first one's pages. The lock is a file beside
// the directory naming its holder; a holder that no longer runs (killed, crashed, a container
// that was replaced) is taken over, so nothing has to be cleaned by hand.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { PmoSyncError } from '../src/core/errors.ts';

interface Holder {
  pid: number;
  host: string;
  /** When the holding process started (ms): tells it from an earlier process with the same pid. */
  started: number;
}

/** Another process holds the directory: a runtime condition (exit 1), named with its holder. */
export class DatabaseInUseError extends PmoSyncError {
  readonly dir: string;
  readonly holderPid: number;
  constructor(dir: string, holder: Holder) {
    super(
      `database ${dir} is in use by another pmo-sync process (pid ${holder.pid}): embedded PGlite serves one process at a time; stop that process or use its HTTP API, or share one database through Postgres (database.url: postgres://…); if no such process runs, delete ${dir}.lock`,
    );
    this.name = 'DatabaseInUseError';
    this.dir = dir;
    this.holderPid = holder.pid;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): Holder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    if (typeof h.pid !== 'number' || typeof h.host !== 'string' || typeof h.started !== 'number') return null;
    return { pid: h.pid, host: h.host, started: h.started };
  } catch {
    return null;
  }
}

/**
 * Whether the holder still runs. A process on another host cannot be asked; the usual case is
 * a container replaced by a new one (a new hostname) on the same volume, so it counts as gone.
 */
function holds(holder: Holder, me: Holder): boolean {
  if (holder.host !== me.host) return false;
  if (holder.pid === me.pid) return holder.started === me.started;
  return alive(holder.pid);
}

/** Takes the lock of `dir` (a file `<dir>.lock`) for this process; returns its release. */
export function lockPgliteDir(dir: string): () => void {
  const path = `${dir}.lock`;
  const me: Holder = { pid: process.pid, host: hostname(), started: Math.round(performance.timeOrigin) };
  const text = JSON.stringify(me);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      return () => {
        // Only our own: a process that took a lock over keeps it.
        if (readHolderText(path) === text) rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    // Unreadable on the first look: its holder may be writing it this instant.
    if (!holder && attempt === 0) continue;
    if (holder && holds(holder, me)) throw new DatabaseInUseError(dir, holder);
    rmSync(path, { force: true });
  }
  const holder = readHolder(path);
  throw new DatabaseInUseError(dir, holder ?? { pid: 0, host: me.host, started: 0 });
}

function readHolderText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
