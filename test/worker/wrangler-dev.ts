// Runs the Worker under `wrangler dev --local` (workerd from the npm package): no login, no
// telemetry, no network beyond 127.0.0.1. Config and secrets go in through an .env file, the
// database through Hyperdrive's local connection string.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface WranglerDev {
  url: string;
  /** Everything wrangler and the Worker printed so far (console.log lines included). */
  output(): string;
  stop(): Promise<void>;
}

export interface WranglerDevOptions {
  /** Postgres URL the HYPERDRIVE binding connects to. */
  databaseUrl: string;
  /** Vars and secrets, as `wrangler secret put` would set them. */
  vars: Record<string, string>;
  readyTimeoutMs?: number;
}

const ROOT = resolve(import.meta.dirname, '../..');

/** Hyperdrive insists on a password in the URL; a trust-auth Postgres ignores it. */
function withPassword(url: string): string {
  const u = new URL(url);
  if (!u.password) u.password = 'local';
  return u.toString();
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

export async function startWranglerDev(opts: WranglerDevOptions): Promise<WranglerDev> {
  const dir = mkdtempSync(join(tmpdir(), 'pmo-worker-'));
  const envFile = join(dir, '.env');
  // One line per var: dotenv single quotes keep JSON (and so YAML flow) text as it is; wrangler
  // expands `${VAR}` in .env files itself, so the config's own `${VAR}` are escaped as `\${VAR}`.
  writeFileSync(
    envFile,
    Object.entries(opts.vars)
      .map(([k, v]) => {
        if (v.includes("'") || v.includes('\n')) throw new Error(`${k}: use one-line values without single quotes`);
        return `${k}='${v.replaceAll('$', '\\$')}'`;
      })
      .join('\n'),
  );
  const [port, inspector] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CLOUDFLARE_')) env[k] = v;
  Object.assign(env, {
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: withPassword(opts.databaseUrl),
    CI: '1',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules/wrangler/bin/wrangler.js'),
      'dev',
      '--local',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspector),
      '--test-scheduled',
      '--env-file',
      envFile,
      '--persist-to',
      join(dir, 'state'),
      '--show-interactive-dev-session=false',
      // `log` shows the Worker's console.log lines (our JSON log entries) as well.
      '--log-level',
      'log',
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const url = `http://127.0.0.1:${port}`;
  const fail = async (why: string): Promise<never> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${why}:\n${out}`);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) await fail(`wrangler dev exited (${child.exitCode})`);
    if (/worker cannot start/.test(out)) await fail('the Worker cannot start');
    if (/Ready on http/.test(out)) {
      try {
        const r = await fetch(`${url}/healthz`);
        if (r.status < 500) break;
      } catch {
        /* not listening yet */
      }
    }
    if (Date.now() > deadline) await fail(`wrangler dev not ready after ${opts.readyTimeoutMs ?? 60_000} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
