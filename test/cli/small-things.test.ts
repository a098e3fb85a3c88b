// What users expect of any command line: --version, and counts in English.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { count } from '../../src/util/plural.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

describe('the small things', () => {
  it('prints the version from package.json with --version and -V, exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      expect(await runCli([flag])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });

  it('hands 0 and 2 to the shell as well: bin/pmo-sync.mjs as its own process', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const [version, unconfigured] = await Promise.all([
      spawnCli(['--version'], { cwd: dir }),
      spawnCli(['sync'], { cwd: dir }),
    ]);
    expect([version, { code: unconfigured.code, stdout: unconfigured.stdout }]).toEqual([
      { code: 0, stdout: `${VERSION}\n`, stderr: '' },
      { code: 2, stdout: '' },
    ]);
    expect(unconfigured.stderr).toMatch(/^pmo-sync: no configuration found: [^\n]+\n$/);
  });

  it('counts in English', () => {
    expect([
      count(0, 'rule'),
      count(1, 'rule'),
      count(2, 'rule'),
      count(1, 'retry'),
      count(3, 'retry'),
      count(1, 'day'),
      count(2, 'day'),
      count(2, 'match'),
      count(12_345, 'item'),
    ]).toEqual([
      '0 rules',
      '1 rule',
      '2 rules',
      '1 retry',
      '3 retries',
      '1 day',
      '2 days',
      '2 matches',
      '12,345 items',
    ]);
  });

  it('says "1 rule in 1 file" when linting one rule file', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'one.yaml'),
      `- id: epic-budget
  title: Open epics have a budget
  severity: info
  applies: item.kind == "epic" && item.open
  check: has(item.fields.budget)
  message: Add the approved budget to {{item.key}}.
`,
    );
    expect(await runCli(['rules', 'lint', 'one.yaml'], { cwd: dir })).toEqual({
      code: 0,
      stdout: '1 rule in 1 file: no problems\n',
      stderr: '',
    });
  });
});
