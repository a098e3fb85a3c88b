// Loading rule files: problems carry file, line and rule id; a bad rule is skipped while the
// rest still load; config overrides change severity, params, scope and enabled.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { RulesConfig } from '../src/config/schema.ts';
import type { Logger } from '../src/log.ts';
import { tempDir } from '../test/helpers/temp.ts';
import { loadRuleSet } from './load.ts';

function ruleFile(text: string): { dir: string; file: string } {
  const dir = tempDir('pmo-rules-');
  const file = join(dir, 'org-rules.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

const GOOD = `- id: good-rule
  title: A good rule
  severity: info
  applies: item.kind == "epic"
  check: has(item.due)
  message: Set a date.
`;

describe('loadRuleSet', () => {
  it('reports syntax, unknown-field and wrong-type errors with line numbers and still loads the good rule', () => {
    const { dir, file } = ruleFile(`${GOOD}
- id: syntax-error
  title: Broken CEL
  severity: warning
  applies: item.kind == "epic" &&
  check: has(item.due)
  message: x.

- id: unknown-field
  title: Unknown field
  severity: warning
  check: has(item.owner) && item.budget > 3
  message: x.

- id: wrong-type
  title: Wrong type
  severity: warning
  check: item.kind == 3
  message: x.

- id: not-a-condition
  title: Check is not true/false
  severity: warning
  check: item.points
  message: x.

- id: bad-message
  title: Message placeholder over an unknown field
  severity: info
  check: "true"
  message: "Fix {{item.nope}} now."
`);
    const set = loadRuleSet({ config: { packs: [], files: ['org-rules.yaml'] }, cwd: dir });
    expect({ rules: set.rules.map((r) => r.id), problems: set.problems }).toEqual({
      rules: ['good-rule'],
      problems: [
        { file, line: 11, ruleId: 'syntax-error', message: 'applies: Unexpected token: EOF' },
        { file, line: 18, ruleId: 'unknown-field', message: 'check: No such key: budget' },
        { file, line: 24, ruleId: 'wrong-type', message: 'check: no such overload: string == int' },
        {
          file,
          line: 30,
          ruleId: 'not-a-condition',
          message: 'check: must be true or false, but this expression gives double',
        },
        { file, line: 37, ruleId: 'bad-message', message: 'message: {{item.nope}}: No such key: nope' },
      ],
    });
  });

  it('reports schema errors (missing key, bad severity, unknown key) at the offending line', () => {
    const { dir, file } = ruleFile(`${GOOD}
- id: no-message
  title: Missing message
  severity: warning
  check: "true"
- id: bad-severity
  title: Bad severity
  severity: critical
  check: "true"
  message: x.
- id: typo-key
  title: Typo
  severity: info
  chek: "true"
  message: x.
`);
    const set = loadRuleSet({ config: { packs: [], files: [file] }, cwd: dir });
    expect({ rules: set.rules.map((r) => r.id), problems: set.problems.map((p) => [p.line, p.ruleId]) }).toEqual({
      rules: ['good-rule'],
      problems: [
        [8, 'no-message'],
        [14, 'bad-severity'],
        [17, 'typo-key'],
        [17, 'typo-key'],
      ],
    });
    expect(set.problems[0]).toEqual({
      file,
      line: 8,
      ruleId: 'no-message',
      message: 'message: Invalid input: expected string, received undefined',
    });
  });

  it('reports a YAML syntax error with its line and keeps the built-in pack running', () => {
    const { dir, file } = ruleFile('- id: x\n  title: [unclosed\n');
    const set = loadRuleSet({ config: { packs: ['pmo-standard'], files: [file] }, cwd: dir });
    expect({ problems: set.problems.map((p) => [p.file, p.line, p.ruleId]), rules: set.rules.length }).toEqual({
      problems: [[file, 3, '-']],
      rules: 26,
    });
  });

  it('reports a missing file, an unknown pack, a duplicate id and an override of an unknown rule', () => {
    const { dir, file } = ruleFile(`${GOOD}- id: overdue
  title: Duplicate of a pack rule
  severity: info
  check: "true"
  message: x.
`);
    const set = loadRuleSet({
      config: {
        packs: ['pmo-standard', 'nope'],
        files: [file, 'missing.yaml'],
        overrides: { 'no-such-rule': { enabled: false } },
      },
      cwd: dir,
      configFile: 'pmo-sync.yaml',
    });
    expect(
      set.problems.map((p) => ({ ...p, file: p.file.replace(dir, 'DIR').replace(/.*rules\/packs/, 'PACKS') })),
    ).toEqual([
      { file: 'PACKS/nope.yaml', line: 0, ruleId: '-', message: 'file not found' },
      { file: 'DIR/missing.yaml', line: 0, ruleId: '-', message: 'file not found' },
      {
        file: 'DIR/org-rules.yaml',
        line: 7,
        ruleId: 'overdue',
        message: 'duplicate rule id (already defined in pack:pmo-standard line 68); this one is skipped',
      },
      {
        file: 'pmo-sync.yaml',
        line: 0,
        ruleId: 'no-such-rule',
        message: 'rules.overrides names a rule that does not exist',
      },
    ]);
  });

  it('applies overrides of severity, params, scope and enabled', () => {
    const set = loadRuleSet({
      config: {
        packs: ['pmo-standard'],
        overrides: {
          'stale-in-progress': { severity: 'error', params: { days: 10 } },
          'epic-business-case': { enabled: false },
          'risk-owner': { scope: { projects: ['PAY'] } },
        },
      },
      cwd: process.cwd(),
    });
    const stale = set.rules.find((r) => r.id === 'stale-in-progress')!;
    const risk = set.rules.find((r) => r.id === 'risk-owner')!;
    expect({
      stale: { severity: stale.severity, params: stale.params },
      risk: risk.scope,
      disabled: set.disabled,
      active: set.rules.some((r) => r.id === 'epic-business-case'),
    }).toEqual({
      stale: { severity: 'error', params: { days: 10n, kinds: ['story', 'bug', 'task', 'subtask'] } },
      risk: { projects: ['PAY'] },
      disabled: [{ id: 'epic-business-case', source: 'pack:pmo-standard' }],
      active: false,
    });
  });

  it('changes the rule hash when an override changes the rule', () => {
    const plain = loadRuleSet({ config: { packs: ['pmo-standard'] }, cwd: process.cwd() });
    const tuned = loadRuleSet({
      config: { packs: ['pmo-standard'], overrides: { overdue: { params: { graceDays: 3 } } } },
      cwd: process.cwd(),
    });
    const hash = (s: typeof plain, id: string) => s.rules.find((r) => r.id === id)!.hash;
    expect([
      hash(plain, 'overdue') === hash(tuned, 'overdue'),
      hash(plain, 'risk-owner') === hash(tuned, 'risk-owner'),
    ]).toEqual([false, true]);
  });
});

describe('loadRuleSet with a parsed config', () => {
  it('accepts the config schema output and a logger, and logs each skipped rule', () => {
    const warnings: string[] = [];
    const log = { warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
    const config: z.infer<typeof RulesConfig> = RulesConfig.parse({
      packs: ['pmo-standard'],
      overrides: { 'not-a-rule': { enabled: false } },
    });

    const set = loadRuleSet({ config, cwd: process.cwd(), log });

    expect({ rules: set.rules.length, warnings }).toEqual({
      rules: 26,
      warnings: ['rule problem: rules.overrides names a rule that does not exist'],
    });
  });
});
