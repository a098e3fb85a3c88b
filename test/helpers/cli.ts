// Runs the CLI in-process with captured output, the way a user's shell would see it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { tempDir } from './temp.ts';

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

/** A folder holding pmo-sync.yaml with the given text. */
export function configDir(yaml: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'pmo-sync.yaml'), yaml);
  return dir;
}
