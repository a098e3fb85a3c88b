#!/usr/bin/env node
// Runs a Node script on Node >= 22.12. Where the machine's node is older, fetches the
// `node@24` package from the npm registry once into a git-ignored cache (.cache/node24)
// and re-runs on it. Plain JavaScript on purpose: it must run on old Node versions.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MIN = [22, 12];

export function isModern(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return major > MIN[0] || (major === MIN[0] && minor >= MIN[1]);
}

// V8's defaults suit a short script, not a sync that reads a portfolio: a first sync allocates
// gigabytes that die within seconds, and by default V8 lets the heap grow to several times what
// is live before collecting and keeps a large young generation. These settings hold the first
// sync to its memory goal (500 MB at 150,000 items; bench/guard.json guards it in CI), at the
// price of more frequent, smaller collections. Figures: BENCHMARKS.md.

/**
 * Node options pmo-sync starts with: only the command line can size the young generation. Small
 * semi-spaces lower a first sync's peak on both databases at no measurable cost in throughput.
 */
export const NODE_FLAGS = ['--max-semi-space-size=8'];

/**
 * Environment pmo-sync runs with: settings of glibc's allocator, read once at start (ignored by
 * other C libraries). glibc hands the free memory at the top of an arena back to the system only
 * past a trim threshold that it raises to the largest block freed so far (up to 32 MB), and
 * after such a raise it keeps large blocks in the arenas too: a process with embedded PGlite,
 * whose WebAssembly compiler's memory comes and goes in such blocks, stays resident well above
 * what it uses. A fixed threshold of 0 returns the top of an arena
 * whenever it is free and leaves blocks from 128 KiB to mmap, at no cost a sync could measure.
 * A value the user set wins.
 */
export const NODE_ENV = { MALLOC_TRIM_THRESHOLD_: '0' };

/**
 * Replaces this process (same pid, arguments and Node options) with one started with NODE_ENV,
 * where the platform lets a process do so and the environment lacks any of it; returns only
 * when it does not. Call before anything else runs: nothing of this process survives.
 */
export function restartWithEnv(script, args) {
  const missing = Object.keys(NODE_ENV).filter((k) => process.env[k] === undefined);
  if (missing.length === 0 || process.platform !== 'linux' || typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, script, ...args], {
    ...NODE_ENV,
    ...process.env,
  });
}

/**
 * Lets the old generation grow by half of what is live after a collection, where V8 allows up to
 * four times. Read at each collection, so it takes effect at run time; a value given on the
 * command line or in NODE_OPTIONS wins.
 */
export function tuneHeap() {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('heap-growing-percent'));
  if (!given) setFlagsFromString('--heap-growing-percent=50');
}

/** Path of a Node binary that is new enough: this one, or the cached node@24. */
export function modernNode() {
  if (isModern()) return process.execPath;
  const cache = join(root, '.cache', 'node24');
  const bin = join(cache, 'node_modules', 'node', 'bin', 'node');
  if (existsSync(bin)) return bin;
  process.stderr.write(
    `pmo-sync: Node ${process.versions.node} is older than ${MIN.join('.')}; fetching Node 24 from the npm registry into .cache/node24 (once).\n`,
  );
  // Install beside the cache and rename, so an interrupted download never leaves a half cache.
  const tmp = `${cache}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(
    npm,
    [
      'install',
      '--prefix',
      tmp,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      'node@24',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    process.stderr.write(
      'pmo-sync: could not install node@24 from the npm registry; install Node.js 22.12+ and retry.\n',
    );
    process.exit(1);
  }
  rmSync(cache, { recursive: true, force: true });
  renameSync(tmp, cache);
  return bin;
}

/**
 * Runs `script args…` on a modern Node with NODE_FLAGS and NODE_ENV, forwarding stdio, signals
 * and the exit status.
 */
export function runOnModernNode(script, args) {
  const node = modernNode();
  const env = {
    ...NODE_ENV,
    ...process.env,
    PATH: `${dirname(node)}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`,
  };
  const child = spawn(node, [...NODE_FLAGS, script, ...args], { stdio: 'inherit', env });
  // The child gets Ctrl-C from the terminal itself; we only wait for it to finish.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [script, ...args] = process.argv.slice(2);
  if (script === '--which') {
    process.stdout.write(`${modernNode()}\n`);
    process.exit(0);
  }
  if (!script) {
    process.stderr.write('usage: node scripts/node24.mjs <script> [args…] | --which\n');
    process.exit(2);
  }
  runOnModernNode(resolve(script), args);
}
