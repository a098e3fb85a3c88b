// Runs the CLI in-process with captured output, the way a user's shell would see it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { main } from '../../src/cli/main.ts';

// Folders tempDir made, removed when the test file's tests end (vitest loads this module once
// per test file, so the hook is that file's).
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const before = process.exitCode;
  process.exitCode = undefined;
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: { LOG_LEVEL: 'warn', ...opts.env },
    cwd: opts.cwd ?? tempDir(),
    isTTY: false,
  });
  const exit = code !== 0 ? code : Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { code: exit, stdout, stderr };
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pmo-sync-test-'));
  made.push(dir);
  return dir;
}

/** A folder holding pmo-sync.yaml with the given text. */
export function configDir(yaml: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'pmo-sync.yaml'), yaml);
  return dir;
}
