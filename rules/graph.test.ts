// What rules see: `item` with only set fields, `children` aggregated over all descendants,
// `links` resolved from both ends and across trackers; and evaluation that survives a rule
// throwing on one item.
import { describe, expect, it } from 'vitest';
import { CelChildren, createCelEnvironment } from './cel-env.ts';
import { evaluateItems, inScope } from './evaluate.ts';
import { createRuleFunctions } from './functions.ts';
import { createItemGraph } from './graph.ts';
import { buildRuleSet, type SourcedRule } from './load.ts';
import { RuleDef } from './schema.ts';
import { testItem } from './testing.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const it_ = (p: Record<string, unknown>) => testItem(p, 't:X', NOW);

function rules(defs: Record<string, unknown>[]) {
  const sourced: SourcedRule[] = defs.map((d, i) => ({
    def: RuleDef.parse({ title: 't', severity: 'warning', message: 'm', ...d }),
    file: 'inline.yaml',
    source: 'inline',
    line: i + 1,
    keyLines: {},
  }));
  return buildRuleSet({
    sourced,
    problems: [],
    files: [],
    knownIds: new Set(),
    env: createCelEnvironment(),
    functions: createRuleFunctions(),
    opts: { config: {}, cwd: '.' },
  });
}

describe('item graph', () => {
  it('aggregates children over all descendants, skipping a parent cycle', () => {
    const graph = createItemGraph(
      [
        it_({ ref: 't:E', kind: 'epic' }),
        it_({ ref: 't:F', kind: 'feature', parent: 't:E', statusCategory: 'in_progress', due: '2026-07-01' }),
        it_({ ref: 't:S1', parent: 't:F', statusCategory: 'done', points: 3, due: '2026-05-01' }),
        it_({ ref: 't:S2', parent: 't:F', statusCategory: 'todo', points: 5, due: '2026-05-20', start: '2026-05-02' }),
        it_({ ref: 't:S3', parent: 't:F', statusCategory: 'removed', points: 8 }),
        it_({ ref: 't:C1', parent: 't:C2' }),
        it_({ ref: 't:C2', parent: 't:C1' }),
      ],
      NOW,
    );
    const expected = Object.assign(new CelChildren(), {
      direct: 1n,
      total: 4n,
      todo: 1n,
      inProgress: 1n,
      done: 1n,
      removed: 1n,
      open: 2n,
      overdue: 1n,
      anyOverdue: true,
      points: 8,
      pointsDone: 3,
      earliestStart: new Date('2026-05-02'),
      earliestDue: new Date('2026-05-01'),
      latestDue: new Date('2026-07-01'),
    });
    expect([graph.celChildren('t:E'), graph.celChildren('t:C1').total, graph.ancestors('t:S1')]).toEqual([
      expected,
      1n,
      ['t:F', 't:E'],
    ]);
  });

  it('resolves links from both ends and across trackers, and reads deleted items as missing ones', () => {
    const graph = createItemGraph(
      [
        it_({ ref: 'jira:A', links: [{ type: 'cross_tracker', relation: 'blocked_by', target: 'ado:1' }] }),
        { ...it_({ ref: 'ado:1', tracker: 'azure-devops', statusCategory: 'in_progress', resolved: '2026-05-01' }) },
        it_({
          ref: 'jira:B',
          links: [
            { type: 'blocks', target: 'jira:A' },
            { type: 'depends_on', target: 'jira:GONE' },
            { type: 'depends_on', target: 'jira:D' },
          ],
        }),
        { ...it_({ ref: 'jira:D', links: [{ type: 'relates', target: 'jira:A' }] }), deletedAt: NOW.toISOString() },
      ],
      NOW,
    );
    const summary = (ref: string) =>
      graph.celLinks(ref).map((l) => [l.ref, l.relation, l.direction, l.crossTracker, l.found, l.deleted, l.reopened]);
    expect({ a: summary('jira:A'), b: summary('jira:B'), ado: summary('ado:1') }).toEqual({
      a: [
        ['ado:1', 'blocked_by', 'outward', true, true, false, true],
        ['jira:B', 'blocked_by', 'inward', false, true, false, false],
      ],
      b: [
        ['jira:A', 'blocks', 'outward', false, true, false, false],
        ['jira:GONE', 'depends_on', 'outward', false, false, false, false],
        // Deleted reads as never synced: a run must not tell the two apart (graph.ts linkTo).
        ['jira:D', 'depends_on', 'outward', false, false, false, false],
      ],
      ado: [['jira:A', 'blocks', 'inward', true, true, false, false]],
    });
  });

  it('makes has() mean "is set": null and blank values are absent', () => {
    const set = rules([
      { id: 'due', check: 'has(item.due)' },
      { id: 'gate', check: 'has(item.fields.gate)' },
      { id: 'prio', check: 'has(item.priority)' },
      { id: 'parent-due', check: 'has(parent.due)' },
      { id: 'regions', check: 'has(item.fields.regions)' },
      { id: 'score', check: 'has(item.fields.score)' },
    ]);
    const graph = createItemGraph(
      [it_({ ref: 't:X', priority: '', fields: { gate: null, regions: [], score: 0 } })],
      NOW,
    );
    const run = evaluateItems(graph, set.rules, ['t:X']);
    expect([...run.results[0]!.fails.keys()]).toEqual(['due', 'gate', 'prio', 'parent-due', 'regions']);
  });

  it('records a rule that throws on one item as an error and still runs the others', () => {
    const set = rules([
      { id: 'budget-positive', applies: 'has(item.fields.budget)', check: 'item.fields.budget > 0' },
      { id: 'has-owner', check: 'has(item.owner)' },
    ]);
    const graph = createItemGraph([it_({ ref: 't:X', fields: { budget: 'lots' } })], NOW);
    const r = evaluateItems(graph, set.rules, ['t:X']).results[0]!;
    expect({ fails: [...r.fails.keys()], errors: [...r.errors.keys()] }).toEqual({
      fails: ['has-owner'],
      errors: ['budget-positive'],
    });
  });

  it('scopes rules by connection, project (plain or connection:project) and kind', () => {
    const [rule] = rules([
      { id: 'r', check: 'true', scope: { connections: ['jira-main'], projects: ['jira-main:PAY'], kinds: ['epic'] } },
    ]).rules;
    const cases = [
      it_({ ref: 'jira-main:1', project: 'PAY', kind: 'epic' }),
      it_({ ref: 'jira-main:2', project: 'WEB', kind: 'epic' }),
      it_({ ref: 'jira-main:3', project: 'PAY', kind: 'story' }),
      it_({ ref: 'ado-main:4', project: 'PAY', kind: 'epic' }),
    ];
    expect(cases.map((c) => inScope(rule!, c))).toEqual([true, false, false, false]);
  });
});
