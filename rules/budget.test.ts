// CEL rules run within a cost budget: `rules lint` rejects what cannot be bounded at the item
// model's bounds, and what passes lint but meets a hostile item (hundreds of thousands of
// labels, a title of hundreds of kilobytes, a regex built to backtrack) is stopped for that
// rule on that item with a clear error, while the other rules and items go on.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers/temp.ts';
import { RULE_BUDGET } from './budget.ts';
import { BOUNDED_RULES, PATHOLOGICAL_RULES } from './budget-fixtures.ts';
import { contextFor, evaluateItems, evaluateItemsSliced, evaluateRule } from './evaluate.ts';
import { createItemGraph } from './graph.ts';
import { loadRuleSet, type RuleSet } from './load.ts';
import { runTestCase, testItem } from './testing.ts';

const NOW = new Date('2026-06-01T12:00:00Z');

function ruleSetOf(text: string): RuleSet {
  const dir = tempDir('pmo-budget-');
  writeFileSync(join(dir, 'rules.yaml'), text);
  return loadRuleSet({ config: { packs: [], files: ['rules.yaml'] }, cwd: dir });
}

describe('rules lint', () => {
  it('rejects rules whose cost cannot be bounded at the model’s bounds, naming the comprehensions', () => {
    const set = ruleSetOf(PATHOLOGICAL_RULES + BOUNDED_RULES);
    expect(set.rules.map((r) => r.id)).toEqual([
      'blocked',
      'short-labels',
      'no-bang',
      'redos-pattern',
      'swallowed',
      'plain',
    ]);
    expect(set.problems.map((p) => [p.ruleId, p.message.replace(/about [\d.e+]+/, 'about N')])).toEqual([
      [
        'nested-links',
        'check: cost cannot be bounded within the budget: the worst case is about N steps on an item with 1,000 entries per list and 10,000 characters of text (links (≤ 1,000) × links (≤ 1,000) × links (≤ 1,000)), and a rule may spend 500,000 per item; avoid nesting comprehensions over lists or building large lists and text',
      ],
      [
        'labels-squared',
        expect.stringMatching(
          /^check: cost cannot be bounded .*\(item\.labels \(≤ 1,000\) × item\.labels \(≤ 1,000\)\)/,
        ),
      ],
      [
        'list-of-lists',
        expect.stringMatching(/^check: cost cannot be bounded .*\(links \(≤ 1,000\) × links \(≤ 1,000\)\)/),
      ],
      ['text-doubling', expect.stringMatching(/^check: cost cannot be bounded within the budget/)],
      [
        'message-placeholder',
        expect.stringMatching(
          /^message: \{\{links\.map\(a, links\.map\(b, a\.ref \+ b\.ref\)\)\}\}: cost cannot be bounded/,
        ),
      ],
      ['js-only-regex', expect.stringMatching(/^check: invalid regular expression "\^\(\?=PAY\)\.\*" \(RE2 syntax\)/)],
    ]);
  });

  it('passes every rule of the built-in pack', () => {
    const set = loadRuleSet({ config: { packs: ['pmo-standard'], files: [] }, cwd: process.cwd() });
    expect(set.problems).toEqual([]);
  });
});

describe('the runtime budget', () => {
  const set = ruleSetOf(BOUNDED_RULES);
  const byId = (id: string) => set.rules.find((r) => r.id === id)!;
  const budgetError = `cost budget exceeded: the rule needed more than ${RULE_BUDGET.toLocaleString('en-US')} steps on this item (nested comprehensions or large lists/text); it was stopped`;

  const hostile = testItem(
    {
      key: 'HOSTILE-1',
      labels: Array.from({ length: 400_000 }, (_, i) => `l${i % 10}`),
      title: `${'a'.repeat(300_000)}!`,
      due: '2026-07-01',
    },
    'x',
    NOW,
  );
  const normal = testItem({ key: 'OK-1', labels: ['pmo', 'q3'], title: 'aaaa', due: '2026-07-01' }, 'x', NOW);
  const graph = createItemGraph([hostile, normal], NOW);
  const run = (id: string, ref: string) => evaluateRule(byId(id), { ref, ctx: contextFor(graph, ref), graph });

  it('stops a rule that passed lint on a hostile item, with a clear error, and lets it pass on a normal one', () => {
    expect(run('short-labels', hostile.ref)).toEqual({ outcome: 'error', error: budgetError });
    expect(run('no-bang', hostile.ref)).toEqual({ outcome: 'error', error: budgetError });
    expect(run('short-labels', normal.ref)).toEqual({ outcome: 'pass' });
    expect(run('no-bang', normal.ref)).toEqual({ outcome: 'pass' });
  });

  it('stops it even where CEL would turn the error into a value (`… || true`)', () => {
    expect(run('swallowed', hostile.ref)).toEqual({ outcome: 'error', error: budgetError });
    expect(run('swallowed', normal.ref)).toEqual({ outcome: 'pass' });
  });

  it('spends no more than the budget and a step before it stops', () => {
    run('short-labels', hostile.ref);
    const { meter } = byId('short-labels');
    expect(meter.exceeded).toBe(true);
    expect(meter.used).toBeLessThanOrEqual(RULE_BUDGET + 400_001);
  });

  it('runs `matches` in linear time (RE2): a backtracking pattern over a long hostile title ends', () => {
    const title = `${'a'.repeat(20_000)}!`;
    const g = createItemGraph([testItem({ key: 'R-1', title }, 'x', NOW)], NOW);
    const ref = 't:R-1';
    expect(evaluateRule(byId('redos-pattern'), { ref, ctx: contextFor(g, ref), graph: g })).toEqual({
      outcome: 'pass',
    });
  });

  it('leaves the other rules on the item and the other items as they are', () => {
    const result = evaluateItems(graph, set.rules, [hostile.ref, normal.ref]).results;
    expect(
      result.map((r) => ({
        ref: r.ref,
        errors: [...r.errors.keys()],
        fails: [...r.fails.keys()],
        applicable: r.applicable,
      })),
    ).toEqual([
      { ref: hostile.ref, errors: ['short-labels', 'no-bang', 'swallowed'], fails: [], applicable: 3 },
      // Its title is all a's: the pattern matches, so that rule fails there, as it should.
      { ref: normal.ref, errors: [], fails: ['redos-pattern'], applicable: 6 },
    ]);
  });

  it('gives the event loop a turn between rules once a slice has run its time', async () => {
    let t = 0;
    let pauses = 0;
    const clock = () => {
      t += 7;
      return t;
    };
    const sliced = await evaluateItemsSliced(graph, set.rules, [hostile.ref, normal.ref], {
      sliceMs: 20,
      clock,
      pause: async () => {
        pauses++;
      },
    });
    // 12 rule evaluations, a clock read after each: 7 ms apiece, so a pause after every third.
    expect(pauses).toBe(4);
    expect(sliced).toEqual(evaluateItems(graph, set.rules, [hostile.ref, normal.ref]));
  });

  it('shows the error in a rule test case', () => {
    const result = runTestCase(set, {
      rule: 'short-labels',
      name: 'a hub item with hundreds of thousands of labels',
      expect: 'pass',
      item: { labels: Array.from({ length: 400_000 }, () => 'x') },
      children: [],
      links: [],
      others: [],
      file: 'rules.tests.yaml',
      line: 1,
    });
    expect(result).toEqual({
      file: 'rules.tests.yaml',
      line: 1,
      rule: 'short-labels',
      name: 'a hub item with hundreds of thousands of labels',
      expected: 'pass',
      actual: 'error',
      ok: false,
      reason: `expected pass, got error (${budgetError})`,
    });
  });
});
