// `pmo-sync rules list|lint|test|preview` as a user runs them, with and without a config file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../db/client.ts';
import { workItems } from '../../../db/schema.ts';
import { testItem } from '../../../rules/testing.ts';
import { configDir, runCli } from '../../../test/helpers/cli.ts';
import { tempDir } from '../../../test/helpers/temp.ts';

const CONFIG = (extra = '') => `
database: { url: "memory://" }
connections:
  - id: jira-main
    kind: jira
    baseUrl: https://acme.atlassian.net
    auth: { email: pmo@acme.test, apiToken: secret-token }
    scope: { projects: [PAY] }
rules:
  packs: [pmo-standard]
  files: [./org-rules.yaml]
  overrides: { epic-business-case: { enabled: false }, stale-in-progress: { severity: error } }
${extra}`;

const ORG = `- id: epic-budget
  title: Open epics have a budget
  severity: info
  applies: item.kind == "epic" && item.open
  check: has(item.fields.budget)
  message: Add the approved budget to {{item.key}}.
`;

const ORG_TESTS = `- rule: epic-budget
  name: epic with a budget passes
  expect: pass
  item: { kind: epic, fields: { budget: 120000 } }
- rule: epic-budget
  name: epic without a budget fails
  expect: fail
  item: { key: EP-1, kind: epic }
  message: Add the approved budget to EP-1.
`;

describe('pmo-sync rules', () => {
  it('lists the built-in pack with no config file', async () => {
    const r = await runCli(['rules', 'list', '--json'], { cwd: tempDir() });
    const out = JSON.parse(r.stdout) as { rules: { id: string; source: string }[]; problems: unknown[] };
    expect({
      code: r.code,
      count: out.rules.length,
      sources: [...new Set(out.rules.map((x) => x.source))],
      problems: out.problems,
    }).toEqual({
      code: 0,
      count: 26,
      sources: ['pack:pmo-standard'],
      problems: [],
    });
  });

  it('lists active rules with overrides applied and the organisation file as source', async () => {
    const dir = configDir(CONFIG());
    writeFileSync(join(dir, 'org-rules.yaml'), ORG);
    const r = await runCli(['rules', 'list'], { cwd: dir });
    const lines = r.stdout.split('\n');
    expect({
      code: r.code,
      stale: lines
        .find((l) => l.startsWith('stale-in-progress'))
        ?.split(/\s{2,}/)
        .slice(0, 4),
      budget: lines
        .find((l) => l.startsWith('epic-budget'))
        ?.split(/\s{2,}/)
        .slice(0, 4),
      summary: lines.find((l) => l.includes('active rules')),
    }).toEqual({
      code: 0,
      stale: ['stale-in-progress', 'error', 'flow', 'pack:pmo-standard'],
      budget: ['epic-budget', 'info', '-', 'org-rules.yaml'],
      summary: '26 active rules, 1 disabled (epic-business-case)',
    });
  });

  it('lints a bad file: file:line: rule-id: problem lines and exit code 2', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'bad.yaml'),
      `${ORG}- id: typo
  title: Typo in a field
  severity: warning
  check: has(item.ownr)
  message: x.
`,
    );
    const r = await runCli(['rules', 'lint', 'bad.yaml'], { cwd: dir });
    expect(r).toEqual({
      code: 2,
      stdout: 'bad.yaml:10: typo: check: has(item.ownr): item has no field "ownr"\n',
      stderr: 'pmo-sync: 1 problem in rule files (listed above)\n',
    });
  });

  it('lints the configured files clean with exit code 0', async () => {
    const dir = configDir(CONFIG());
    writeFileSync(join(dir, 'org-rules.yaml'), ORG);
    const r = await runCli(['rules', 'lint'], { cwd: dir });
    expect(r).toEqual({ code: 0, stdout: '26 rules in 2 files: no problems\n', stderr: '' });
  });

  it('runs the built-in and the organisation test cases', async () => {
    const dir = configDir(CONFIG());
    writeFileSync(join(dir, 'org-rules.yaml'), ORG);
    writeFileSync(join(dir, 'org-rules.tests.yaml'), ORG_TESTS);
    const r = await runCli(['rules', 'test', '--json'], { cwd: dir });
    const out = JSON.parse(r.stdout) as { results: { rule: string; ok: boolean; actual: string }[] };
    const failed = out.results.filter((x) => !x.ok);
    // The pack's cases for the rule the config disabled are skipped, not failed.
    expect({
      code: r.code,
      failed,
      skipped: [...new Set(out.results.filter((x) => x.actual === 'inactive').map((x) => x.rule))],
      budget: out.results.filter((x) => x.rule === 'epic-budget').map((x) => x.ok),
    }).toEqual({ code: 0, failed: [], skipped: ['epic-business-case'], budget: [true, true] });
  });

  it('reports a failing rule test case with its file and line', async () => {
    const dir = configDir(CONFIG().replace('overrides: { epic-business-case: { enabled: false }, ', 'overrides: { '));
    writeFileSync(join(dir, 'org-rules.yaml'), ORG);
    writeFileSync(join(dir, 'org-rules.tests.yaml'), ORG_TESTS.replace('expect: pass', 'expect: fail'));
    const r = await runCli(['rules', 'test'], { cwd: dir });
    expect({ code: r.code, fails: r.stdout.split('\n').filter((l) => l.startsWith('FAIL')), stderr: r.stderr }).toEqual(
      {
        code: 1,
        fails: ['FAIL  org-rules.tests.yaml:1: epic-budget: epic with a budget passes: expected fail, got pass'],
        stderr: 'pmo-sync: 1 of 76 rule test cases failed\n',
      },
    );
  });

  it('previews a rule file against the (empty) database without writing', async () => {
    const dir = configDir(CONFIG());
    writeFileSync(join(dir, 'org-rules.yaml'), ORG);
    const r = await runCli(['rules', 'preview', 'org-rules.yaml'], { cwd: dir });
    expect(r).toEqual({
      code: 0,
      stdout:
        '\n1 rule over 0 items (0 checks): 0 would open, 0 would resolve, 0 would be waived, 0 would change message\n',
      stderr: '',
    });
  });

  it('previews a rule file against stored items: what would open, without writing', async () => {
    const dir = tempDir();
    const dbDir = join(dir, 'db');
    const database = await openDatabase(dbDir);
    await database.migrate();
    const now = new Date();
    for (const it of [
      testItem({ ref: 'jira-main:EP-1', kind: 'epic', statusCategory: 'in_progress' }, 'x', now),
      testItem({ ref: 'jira-main:EP-2', kind: 'epic', fields: { budget: 5000 } }, 'x', now),
    ]) {
      await database.db.insert(workItems).values({ ...it, contentHash: it.ref });
    }
    await database.close();
    writeFileSync(join(dir, 'pmo-sync.yaml'), CONFIG().replace('memory://', dbDir));
    writeFileSync(join(dir, 'org-rules.yaml'), ORG);

    const r = await runCli(['rules', 'preview', 'org-rules.yaml'], { cwd: dir });

    expect(r).toEqual({
      code: 0,
      stdout:
        'open     jira-main:EP-1  epic-budget (info): Add the approved budget to EP-1.\n' +
        '\n1 rule over 2 items (2 checks): 1 would open, 0 would resolve, 0 would be waived, 0 would change message\n',
      stderr: '',
    });
  });
});
