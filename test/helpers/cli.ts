// Runs the CLI in-process with captured output, the way a user's shell would see it: the exit
// code is what `main()` returns, which bin/ hands to the process, and nothing else.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliDeps, TerminalStream } from '../../src/cli/context.ts';
import { main } from '../../src/cli/main.ts';
import { openDatabaseFromTemplate } from './pglite.ts';
import { tempDir } from './temp.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stderr as a terminal: receives what the CLI draws (progress) besides the captured text. */
  terminal?: TerminalStream;
  deps?: CliDeps;
}

/** Retries answer at once: a test never waits out a backoff. */
export const noSleep = (): Promise<void> => Promise.resolve();

export async function runCli(argv: string[], opts: RunOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    argv,
    {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
        opts.terminal?.write(t);
      },
      env: { LOG_LEVEL: 'warn', ...opts.env },
      cwd: opts.cwd ?? tempDir(),
      isTTY: false,
      terminal: opts.terminal,
    },
    { sleep: noSleep, openDatabase: openDatabaseFromTemplate, ...opts.deps },
  );
  return { code, stdout, stderr };
}

const BIN = fileURLToPath(new URL('../../bin/pmo-sync.mjs', import.meta.url));

/** Runs bin/pmo-sync.mjs as its own process: the exit code is the one a shell or cron sees. */
export function spawnCli(argv: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal) reject(new Error(`pmo-sync ended by ${signal}`));
      else resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** A folder holding pmo-sync.yaml with the given text. */
export function configDir(yaml: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'pmo-sync.yaml'), yaml);
  return dir;
}
