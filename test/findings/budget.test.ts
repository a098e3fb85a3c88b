// A rule that runs out of its cost budget on an item, in an evaluation pass over the database:
// the pass reports it, the rules API lists it, and that rule's findings on the item stay as
// they were (the budget itself is unit-tested without a database in rules/budget.test.ts).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings, workItems } from '../../db/schema.ts';
import { RULE_BUDGET } from '../../rules/budget.ts';
import { BOUNDED_RULES } from '../../rules/budget-fixtures.ts';
import { describeRules, loadRuleSet, type RuleSet } from '../../rules/load.ts';
import { testItem } from '../../rules/testing.ts';
import { evaluateFindings } from '../../src/findings/evaluate.ts';
import { dbTargets } from '../helpers/db.ts';
import { tempDir } from '../helpers/temp.ts';

const NOW = new Date('2026-06-01T12:00:00Z');

function ruleSetOf(text: string): RuleSet {
  const dir = tempDir('pmo-budget-');
  writeFileSync(join(dir, 'rules.yaml'), text);
  return loadRuleSet({ config: { packs: [], files: ['rules.yaml'] }, cwd: dir });
}

describe.each(dbTargets())('a rule over budget in an evaluation pass on $name', (target) => {
  let database: Database;
  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await database.close();
  });

  it('is in the pass summary and in the rules the API lists; its findings on that item are left alone', async () => {
    const { db } = database;
    const hostile = testItem(
      { ref: 'jira-main:HUB-1', labels: Array.from({ length: 300_000 }, (_, i) => `l${i % 7}`) },
      'x',
      NOW,
    );
    const normal = testItem({ ref: 'jira-main:OK-1', labels: ['pmo'] }, 'x', NOW);
    for (const it of [hostile, normal]) {
      await db.insert(workItems).values({ ...it, contentHash: `h-${it.ref}`, deletedAt: null });
    }
    const set = ruleSetOf(BOUNDED_RULES);
    const error = `cost budget exceeded: the rule needed more than ${RULE_BUDGET.toLocaleString('en-US')} steps on this item (nested comprehensions or large lists/text); it was stopped`;
    for (const refs of [undefined, [hostile.ref]]) {
      const summary = await evaluateFindings(db, set, { now: NOW, waivers: [], refs });
      expect(summary.ruleErrors).toEqual([
        { rule: 'short-labels', items: 1, firstRef: hostile.ref, error },
        { rule: 'swallowed', items: 1, firstRef: hostile.ref, error },
      ]);
    }
    const listed = describeRules(set);
    expect(listed.find((r) => r.id === 'short-labels')?.lastError).toEqual({
      items: 1,
      firstRef: hostile.ref,
      error,
      at: expect.any(String),
    });
    expect(listed.find((r) => r.id === 'plain')?.lastError).toEqual(null);
    // No finding was opened or resolved for the rules that could not finish.
    const rows = await db.select({ ref: findings.ref, rule: findings.rule }).from(findings);
    expect(rows.filter((r) => ['short-labels', 'no-bang', 'swallowed'].includes(r.rule))).toEqual([]);
  });
});
