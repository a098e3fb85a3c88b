// Benchmark (not a test): the pmo-standard pack over 100,000 in-memory items on one core.
// Prints item-rule checks per second for a full evaluation (graph build included and
// excluded) and the time to re-evaluate one changed item with what it affects.
// Run: node --import tsx bench/rules.bench.ts [items]

import { evaluateItems } from '../rules/evaluate.ts';
import { createItemGraph, type GraphItem } from '../rules/graph.ts';
import { loadRuleSet } from '../rules/load.ts';
import type { WorkItem } from '../src/core/work-item.ts';

const N = Number(process.argv[2] ?? 100_000);
const NOW = new Date('2026-06-01T12:00:00Z');
const CATS = ['todo', 'in_progress', 'done', 'removed'] as const;

/** A deterministic portfolio: epics of features of stories/bugs, some risks, some links. */
function portfolio(n: number): GraphItem[] {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const day = (offset: number) => new Date(NOW.getTime() + offset * 86_400_000).toISOString();
  const items: GraphItem[] = [];
  let epic = '';
  let feature = '';
  for (let i = 0; i < n; i++) {
    const r = i % 50;
    const kind: WorkItem['kind'] =
      r === 0 ? 'epic' : r % 10 === 1 ? 'feature' : r === 7 ? 'risk' : r % 6 === 0 ? 'bug' : 'story';
    const ref = `${i % 3 === 0 ? 'ado-main' : 'jira-main'}:${i}`;
    const sc = CATS[Math.floor(rnd() * 3.2)] ?? 'todo';
    const parent = kind === 'epic' ? null : kind === 'feature' ? epic : feature || epic;
    const links: WorkItem['links'] =
      rnd() < 0.1 && i > 10 ? [{ type: 'blocked_by', target: items[Math.floor(rnd() * i)]!.ref, relation: null }] : [];
    items.push({
      ref,
      connection: ref.slice(0, ref.indexOf(':')),
      tracker: i % 3 === 0 ? 'azure-devops' : 'jira',
      key: String(i),
      project: `P${i % 7}`,
      kind,
      type: kind,
      title: `Item ${i}`,
      status: sc,
      statusCategory: sc,
      assignee: null,
      owner: rnd() < 0.8 ? { id: `u${Math.floor(rnd() * 400)}`, name: 'Someone' } : null,
      priority: rnd() < 0.9 ? 'Medium' : null,
      labels: rnd() < 0.01 ? ['pmo-waive:overdue'] : [],
      created: day(-60 - Math.floor(rnd() * 100)),
      updated: day(-Math.floor(rnd() * 30)),
      started: sc === 'todo' ? null : day(-20),
      resolved: sc === 'done' ? day(-2) : null,
      start: rnd() < 0.5 ? day(-30) : null,
      due: rnd() < 0.7 ? day(Math.floor(rnd() * 120) - 40) : null,
      points: rnd() < 0.7 ? Math.ceil(rnd() * 8) : null,
      estimateHours: null,
      remainingHours: null,
      parent,
      links,
      iteration: null,
      fields: rnd() < 0.5 ? { acceptanceCriteria: 'Given…', gate: 'approved', mitigation: 'yes' } : {},
      url: '',
      revision: '1',
      raw: null,
      contentHash: String(i),
    });
    if (kind === 'epic') epic = ref;
    if (kind === 'feature') feature = ref;
  }
  return items;
}

const ruleSet = loadRuleSet({ config: { packs: ['pmo-standard'] }, cwd: process.cwd() });
if (ruleSet.problems.length > 0) throw new Error(`pack has problems: ${JSON.stringify(ruleSet.problems)}`);
const items = portfolio(N);
const refs = items.map((i) => i.ref);

// Warm-up on a slice so the JIT has seen every rule.
evaluateItems(createItemGraph(items.slice(0, 5000), NOW), ruleSet.rules, refs.slice(0, 5000));

const runs: { total: number; evalOnly: number; checks: number; fails: number }[] = [];
for (let run = 0; run < 3; run++) {
  const t0 = performance.now();
  const graph = createItemGraph(items, NOW);
  const t1 = performance.now();
  const res = evaluateItems(graph, ruleSet.rules, refs);
  const t2 = performance.now();
  runs.push({
    total: t2 - t0,
    evalOnly: t2 - t1,
    checks: res.checks,
    fails: res.results.reduce((n, r) => n + r.fails.size, 0),
  });
}
const best = runs.reduce((a, b) => (b.total < a.total ? b : a));

// Incremental: one changed story re-evaluated with its ancestors and direct neighbours.
const graph = createItemGraph(items, NOW);
const story = items.find((i) => i.kind === 'story' && i.parent)!;
const affected = [story.ref, ...graph.ancestors(story.ref), ...graph.celLinks(story.ref).map((l) => l.ref)];
const reps = 2000;
const t3 = performance.now();
for (let i = 0; i < reps; i++) {
  const context = new Set([...affected, ...affected.flatMap((r) => graph.children(r).map((c) => c.ref))]);
  const g = createItemGraph([...context].map((r) => graph.get(r)!).filter(Boolean), NOW);
  evaluateItems(g, ruleSet.rules, affected);
}
const incrementalMs = (performance.now() - t3) / reps;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`pmo-standard: ${ruleSet.rules.length} rules, ${fmt(N)} items, ${fmt(best.checks)} item-rule checks`);
console.log(`node ${process.version}, best of ${runs.length} runs`);
console.log(
  `full evaluation incl. graph build: ${best.total.toFixed(0)} ms → ${fmt((best.checks / best.total) * 1000)} checks/s`,
);
console.log(
  `rule evaluation only:              ${best.evalOnly.toFixed(0)} ms → ${fmt((best.checks / best.evalOnly) * 1000)} checks/s`,
);
console.log(`findings (failed checks):          ${fmt(best.fails)}`);
console.log(`one changed item + ${affected.length - 1} affected: ${incrementalMs.toFixed(3)} ms per re-evaluation`);
console.log(`goal ≥ 300,000 checks/s: ${(best.checks / best.total) * 1000 >= 300_000 ? 'met' : 'NOT met'}`);
