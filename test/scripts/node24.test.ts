// The launcher's allocator settings: a process started without them starts again in place with
// them (same pid, arguments and Node options); one the user gave settings to keeps them.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_ENV } from '../../scripts/node24.mjs';

const launcher = fileURLToPath(new URL('../../scripts/node24.mjs', import.meta.url));
const probe = join(tmpdir(), `pmo-sync-restart-probe-${process.pid}.mjs`);
writeFileSync(
  probe,
  `import { restartWithEnv } from ${JSON.stringify(launcher)};
const started = process.env.PROBE_STARTED_AS ?? String(process.pid);
process.env.PROBE_STARTED_AS = started;
restartWithEnv(process.argv[1], process.argv.slice(2));
console.log(JSON.stringify({ pid: process.pid, started, env: process.env.MALLOC_TRIM_THRESHOLD_, args: process.argv.slice(2), execArgv: process.execArgv }));
`,
);

const run = (env: NodeJS.ProcessEnv) => {
  const r = spawnSync(process.execPath, ['--max-semi-space-size=8', probe, 'sync', '--full'], {
    env,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
};

describe.runIf(process.platform === 'linux')('restartWithEnv', () => {
  afterAll(() => rmSync(probe, { force: true }));

  it('starts again in place with NODE_ENV, keeping arguments and Node options', () => {
    const { MALLOC_TRIM_THRESHOLD_: _, ...env } = process.env;
    const out = run(env);
    expect(out.env).toBe(NODE_ENV.MALLOC_TRIM_THRESHOLD_);
    // The same process: the pid it had before starting again.
    expect(out.pid).toBe(Number(out.started));
    expect(out.args).toEqual(['sync', '--full']);
    expect(out.execArgv).toEqual(['--max-semi-space-size=8']);
  });

  it("leaves a user's own setting alone", () => {
    const out = run({ ...process.env, MALLOC_TRIM_THRESHOLD_: '131072' });
    expect(out.env).toBe('131072');
  });
});
