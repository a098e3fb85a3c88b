// The findings lifecycle of one evaluation pass, decided from plain data with no database: the
// stored findings go in as values, the plan and the summary come out. The same functions run
// under src/findings/evaluate.ts, which only loads the inputs and writes the plan.
import { describe, expect, it } from 'vitest';
import { createCelEnvironment } from './cel-env.ts';
import { createRuleFunctions } from './functions.ts';
import { createItemGraph } from './graph.ts';
import { buildRuleSet, type SourcedRule } from './load.ts';
import { createTally, evaluateAndPlan, type FindingCounts, findingsAfter, keptRules, projectCounts } from './pass.ts';
import type { StoredFinding } from './plan.ts';
import { RuleDef } from './schema.ts';
import { testItem } from './testing.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const YESTERDAY = '2026-05-31T08:00:00.000Z';

function ruleSet(defs: Record<string, unknown>[], problems: { ruleId: string }[] = []) {
  const sourced: SourcedRule[] = defs.map((d, i) => ({
    def: RuleDef.parse({ title: 't', severity: 'warning', ...d }),
    file: 'inline.yaml',
    source: 'inline',
    line: i + 1,
    keyLines: {},
  }));
  return buildRuleSet({
    sourced,
    problems: problems.map((p) => ({ file: 'inline.yaml', line: 1, message: 'broken', ...p })),
    files: [],
    knownIds: new Set(),
    env: createCelEnvironment(),
    functions: createRuleFunctions(),
    opts: { config: {}, cwd: '.' },
  });
}

const HAS_OWNER = { id: 'has-owner', check: 'has(item.owner)', message: 'Name an owner for {{item.title}}.' };
const HAS_DUE = { id: 'has-due', check: 'has(item.due)', message: 'Set a due date.' };

/** A stored finding as the findings table holds it. */
function stored(id: number, ref: string, rule: string, over: Partial<StoredFinding> = {}): StoredFinding {
  return {
    id,
    ref,
    rule,
    severity: 'warning',
    status: 'open',
    message: 'old',
    firstSeen: YESTERDAY,
    lastSeen: YESTERDAY,
    resolvedAt: null,
    waivedReason: null,
    waivedUntil: null,
    ruleHash: 'h',
    itemHash: 'h',
    ...over,
  };
}

async function pass(
  set: ReturnType<typeof ruleSet>,
  items: Record<string, unknown>[],
  existing: StoredFinding[],
  opts: { keep?: (rule: string) => boolean } = {},
) {
  const graph = createItemGraph(
    items.map((p) => testItem(p, 't:X', NOW)),
    NOW,
  );
  const refs = items.map((p) => p.ref as string);
  return evaluateAndPlan(graph, refs, existing, set.rules, {
    now: NOW,
    waivers: [],
    keep: opts.keep ?? keptRules(set),
  });
}

describe('a pass over plain data', () => {
  it('opens, resolves, re-opens and waives findings against the stored ones, and leaves errors alone', async () => {
    const set = ruleSet([HAS_OWNER, HAS_DUE]);
    const { plan, applicable } = await pass(
      set,
      [
        { ref: 't:NEW', title: 'No owner' },
        { ref: 't:FIXED', owner: { id: 'u1', name: 'Ann' }, due: '2026-07-01' },
        { ref: 't:BACK', owner: { id: 'u1', name: 'Ann' } },
        { ref: 't:WAIVED', owner: { id: 'u1', name: 'Ann' }, labels: ['pmo-waive:has-due'] },
      ],
      [
        stored(1, 't:FIXED', 'has-owner'),
        stored(2, 't:BACK', 'has-due', { status: 'resolved', resolvedAt: YESTERDAY }),
        stored(3, 't:NEW', 'has-due', { message: 'Set a due date.' }),
      ],
    );
    const changes = plan.changes.map((c) => [c.ref, c.rule, c.kind, c.from, c.to]);
    expect(changes).toEqual(
      expect.arrayContaining([
        ['t:NEW', 'has-owner', 'opened', null, 'open'],
        ['t:FIXED', 'has-owner', 'resolved', 'open', 'resolved'],
        ['t:BACK', 'has-due', 'reopened', 'resolved', 'open'],
        ['t:WAIVED', 'has-due', 'waived', null, 'waived'],
      ]),
    );
    expect(changes).toHaveLength(4);
    expect(plan.inserts.map((f) => [f.ref, f.rule, f.status, f.message])).toEqual([
      ['t:NEW', 'has-owner', 'open', 'Name an owner for No owner.'],
      ['t:WAIVED', 'has-due', 'waived', 'Set a due date.'],
    ]);
    // A re-opened finding is a new occurrence: its first-seen time restarts.
    expect(plan.updates.find((f) => f.id === 2)).toMatchObject({ status: 'open', firstSeen: NOW.toISOString() });
    // Still open with the same message: no change the team sees, only the hashes brought up to date.
    expect(plan.updates.find((f) => f.id === 3)).toMatchObject({ status: 'open', message: 'Set a due date.' });
    expect(applicable).toEqual(
      new Map([
        ['t:NEW', 2],
        ['t:FIXED', 2],
        ['t:BACK', 2],
        ['t:WAIVED', 2],
      ]),
    );
  });

  it('only moves last-seen, once a day, for a finding that is the same as stored', async () => {
    const set = ruleSet([HAS_OWNER]);
    const same = stored(7, 't:A', 'has-owner', {
      message: 'Name an owner for x.',
      ruleHash: set.rules[0]!.hash,
      // Rule test items carry no content hash; the planner keeps an item's as it finds it.
      itemHash: '',
    });
    const yesterday = await pass(set, [{ ref: 't:A', title: 'x' }], [same]);
    expect(yesterday.plan).toMatchObject({ inserts: [], updates: [], touched: [7], history: [], changes: [] });
    const today = await pass(set, [{ ref: 't:A', title: 'x' }], [{ ...same, lastSeen: NOW.toISOString() }]);
    expect(today.plan).toMatchObject({ inserts: [], updates: [], touched: [], history: [], changes: [] });
  });

  it('leaves the findings of a rule whose file broke, and resolves those of a rule that is gone', async () => {
    const set = ruleSet([HAS_OWNER], [{ ruleId: 'broken-rule' }]);
    const { plan } = await pass(
      set,
      [{ ref: 't:A', owner: { id: 'u1', name: 'Ann' } }],
      [stored(1, 't:A', 'broken-rule'), stored(2, 't:A', 'removed-rule')],
    );
    expect(plan.changes.map((c) => [c.rule, c.kind])).toEqual([['removed-rule', 'resolved']]);
  });

  it('stores a message quoting hostile item text as Postgres can hold it', async () => {
    const set = ruleSet([HAS_OWNER]);
    const { plan } = await pass(set, [{ ref: 't:A', title: 'nul\u0000 and a lone \uD800 surrogate' }], []);
    expect(plan.inserts[0]?.message).toBe('Name an owner for nul\uFFFD and a lone \uFFFD surrogate.');
  });

  it('adds up the summary and the counts a plan leaves behind without reading them back', async () => {
    const set = ruleSet([HAS_OWNER]);
    const { plan } = await pass(
      set,
      [{ ref: 't:A' }, { ref: 't:B', owner: { id: 'u1', name: 'Ann' } }],
      [stored(1, 't:B', 'has-owner')],
    );
    const before: FindingCounts = { open: 5, waived: 1, byRule: { 'has-owner': 1, other: 4 } };
    const after = projectCounts(before, plan.changes);
    // t:A opened, t:B resolved: the same open count, by rule too.
    expect(after).toEqual({ open: 5, waived: 1, byRule: { 'has-owner': 1, other: 4 } });
    const tally = createTally();
    tally.add(plan.changes);
    expect(tally.summary(after, 2, 2, [])).toMatchObject({ opened: 1, resolved: 1, changedRefs: ['t:A', 't:B'] });
    // What the chunk's items hold afterwards, as a first sync plans their writes from it.
    expect(findingsAfter([stored(1, 't:B', 'has-owner')], plan).map((f) => [f.ref, f.rule, f.status])).toEqual([
      ['t:A', 'has-owner', 'open'],
    ]);
  });
});
