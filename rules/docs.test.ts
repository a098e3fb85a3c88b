// docs/rules.md is the rule author's reference: it must name every built-in rule and every
// field rules can read, so it cannot drift from the pack and the CEL environment.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RulesConfig } from '../src/config/schema.ts';
import { CEL_FIELDS } from './cel-env.ts';
import { loadRuleSet } from './load.ts';

const doc = readFileSync(new URL('../docs/rules.md', import.meta.url), 'utf8');

describe('docs/rules.md', () => {
  it('documents every built-in rule', () => {
    const rules = loadRuleSet({ config: { packs: ['pmo-standard'] }, cwd: process.cwd() }).rules;
    expect(rules.map((r) => r.id).filter((id) => !doc.includes(`\`${id}\``))).toEqual([]);
  });

  it('documents every field of item, children and links', () => {
    const all = [...CEL_FIELDS.item, ...CEL_FIELDS.children, ...CEL_FIELDS.link, ...CEL_FIELDS.forecast];
    expect(all.filter((f) => !doc.includes(`\`${f}\``))).toEqual([]);
  });

  it('gives a configuration example that loads without problems', () => {
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const example = blocks.find((b) => b.startsWith('rules:'))!;
    const config = RulesConfig.parse((parse(example) as { rules: unknown }).rules);

    const set = loadRuleSet({ config, cwd: process.cwd() });

    expect({ problems: set.problems.map((p) => p.message), rules: set.rules.length, disabled: set.disabled }).toEqual({
      problems: ['file not found'],
      rules: 25,
      disabled: [{ id: 'epic-business-case', source: 'pack:pmo-standard' }],
    });
  });
});
