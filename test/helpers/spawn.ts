// Runs the real `bin/pmo-sync.mjs` as a child process, the way a shell or a supervisor does, and
// waits for what it prints or for its exit, each with a deadline.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/pmo-sync.mjs', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` on stdout+stderr; rejects after `deadlineMs` or at exit. */
  waitFor(re: RegExp, deadlineMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit; rejects when the process still runs after `deadlineMs`. */
  exit(deadlineMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Spawned {
  const child = spawn(process.execPath, ['--max-semi-space-size=8', BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const w of [...watchers]) w();
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    notify();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  exited.then(notify);
  let done = false;
  exited.then(() => {
    done = true;
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(re, deadlineMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`no ${re} within ${deadlineMs} ms; stdout:\n${out}\nstderr:\n${err}`));
        }, deadlineMs);
        const check = () => {
          const m = `${out}\n${err}`.match(re);
          if (m || done) {
            clearTimeout(timer);
            watchers.delete(check);
            if (m) resolve(m);
            else reject(new Error(`exited before ${re}; stdout:\n${out}\nstderr:\n${err}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
    exit(deadlineMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`still running after ${deadlineMs} ms; stdout:\n${out}\nstderr:\n${err}`)),
          deadlineMs,
        );
        exited.then((r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
    },
  };
}

/** Polls `ok` until it holds, failing after `deadlineMs` (for state a child changes elsewhere). */
export async function until(what: string, ok: () => boolean | Promise<boolean>, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
