// Incremental re-evaluation after one owner change (issue 28, performance): an owner with 500
// items in progress hands one of them to another owner. The commit must re-evaluate the WIP of
// both owners (the one left behind through the queue's reach, store.ts ItemReach), roll up the
// epics whose figures moved and plan their writes. Timed per run: storing the change and the
// commit as the webhook path runs it (src/webhooks/process.ts: the built-in rule pack, epic
// rollups, write planning; project, program and portfolio rollups deferred), and apart, the
// deferred refresh of those, which a sync pass runs with every commit.
//
// Where the time goes: each commit's steps are timed (evaluate; roll up and plan), and every
// fourth run the evaluation's own steps are timed one by one, as prepareEvaluation runs them,
// in a transaction rolled back afterwards.
import { loadavg } from 'node:os';
import { createItemGraph } from '../../rules/graph.ts';
import { loadRuleSet } from '../../rules/load.ts';
import { evaluateAndPlan, keptRules, workloadRules } from '../../rules/pass.ts';
import { testItem } from '../../rules/testing.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import { loadAffected } from '../../src/findings/load-items.ts';
import { countFindings, existingFindings } from '../../src/findings/store.ts';
import { createSyncPipeline } from '../../src/sync/pipeline.ts';
import { commitChanges } from '../../src/sync/run.ts';
import { refreshAggregates } from '../../src/sync/steps.ts';
import { queuedChanges, storeItems } from '../../src/sync/store.ts';
import type { BenchDatabase } from '../lib/db.ts';
import { percentile, round } from '../lib/stats.ts';

export interface OwnerChangeFigures {
  db: string;
  items: number;
  /** In-progress items of the owner one item is taken from. */
  ownerItems: number;
  /** Items the commit evaluated: with every rule, and for their owner's workload alone. */
  evaluated: number;
  runs: number;
  /** Store + commit of the one change (aggregates deferred, as webhooks run it), per run. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** The deferred project, program and portfolio refresh, per run (a sync pass adds it). */
  aggregatesP50Ms: number | null;
  /** Median of each phase over the runs; the evaluation's own steps over every fourth run. */
  phasesP50Ms: Record<string, number | null>;
  /** 1-minute load average at the start and the end of the scenario. */
  load: [number, number];
}

const NOW = new Date('2026-06-01T12:00:00Z');
const EPICS = 50;

export async function runOwnerChangeScenario(
  database: BenchDatabase,
  opts: { items: number; ownerItems: number; runs: number },
): Promise<OwnerChangeFigures> {
  const load0 = loadavg()[0]!;
  const config = parseConfig(
    `
connections:
  - id: jira-main
    kind: jira
    baseUrl: https://bench.example.invalid
    auth: { email: bench@example.invalid, apiToken: x }
    scope: { projects: [OWN] }
    writeback: { comment: true, labels: true }
forecast: { enabled: false }
`,
    { env: {} },
  ).config;
  const ruleSet = loadRuleSet({ config: { packs: ['pmo-standard'], files: [] }, cwd: process.cwd() });
  const make = (i: number, owner: string, rev: number): WorkItem => {
    const epic = i < EPICS;
    return testItem(
      {
        ref: `jira-main:OWN-${i}`,
        kind: epic ? 'epic' : 'story',
        statusCategory: 'in_progress',
        owner,
        assignee: owner,
        parent: epic ? null : `jira-main:OWN-${i % EPICS}`,
        points: 3,
        started: '2026-05-20T00:00:00Z',
        revision: String(rev),
      },
      'x',
      NOW,
    );
  };
  // Owner 0 holds `ownerItems` items in progress; the rest are spread over 40 other owners.
  const ownerOf = (i: number) => (i >= EPICS && i < EPICS + opts.ownerItems ? 'owner-0' : `owner-${1 + (i % 40)}`);
  const { db } = database;
  await storeItems(
    db,
    Array.from({ length: opts.items }, (_, i) => make(i, ownerOf(i), 1)),
    NOW,
  );
  const pipeline = createSyncPipeline({ config, ruleSet });
  await commitChanges(db, pipeline, { refs: undefined, now: NOW, dryRun: true });

  const phases = new Map<string, number[]>();
  const note = (phase: string, ms: number) => phases.set(phase, [...(phases.get(phase) ?? []), ms]);
  // The commit announces each step as it begins: evaluate runs until roll up begins, roll up
  // and plan (and the queue's settling) until the commit returns.
  let stepAt = 0;
  const onPhase = (phase: 'evaluate' | 'roll up') => {
    const now = performance.now();
    if (phase === 'roll up') note('evaluate', now - stepAt);
    stepAt = now;
  };
  const moved = EPICS; // one of owner 0's items
  const ms: number[] = [];
  const aggregates: number[] = [];
  let evaluated = 0;
  for (let run = 0; run < opts.runs; run++) {
    // Back and forth: owner 0 → owner 1, then back, each a fresh revision.
    const owner = run % 2 === 0 ? 'owner-1' : 'owner-0';
    const t0 = performance.now();
    const stored = await storeItems(db, [make(moved, owner, run + 2)], NOW);
    const t1 = performance.now();
    note('store', t1 - t0);
    if (run % 4 === 3) await evaluationSteps(db, ruleSet, stored.changed, note);
    const t2 = performance.now();
    const r = await commitChanges(db, pipeline, {
      refs: stored.changed,
      now: NOW,
      dryRun: true,
      deferAggregates: true,
      onPhase,
    });
    const t3 = performance.now();
    note('roll up and plan', t3 - stepAt);
    note('commit', t3 - t2);
    ms.push(t1 - t0 + (t3 - t2));
    evaluated = r.findings.evaluated;
    const t4 = performance.now();
    await db.transaction((tx) => refreshAggregates(tx as unknown as typeof db, pipeline, NOW));
    aggregates.push(performance.now() - t4);
  }
  return {
    db: database.kind,
    items: opts.items,
    ownerItems: opts.ownerItems,
    evaluated,
    runs: opts.runs,
    p50Ms: round(percentile(ms, 50)),
    p99Ms: round(percentile(ms, 99)),
    maxMs: round(Math.max(...ms)),
    aggregatesP50Ms: round(percentile(aggregates, 50)),
    phasesP50Ms: Object.fromEntries([...phases].map(([k, v]) => [k, round(percentile(v, 50))])),
    load: [round(load0, 2)!, round(loadavg()[0]!, 2)!],
  };
}

/**
 * The evaluation's steps as prepareEvaluation takes them, each timed, over the change just
 * stored and the queue's reach, in a transaction rolled back afterwards (the commit that follows
 * evaluates the same change for real).
 */
async function evaluationSteps(
  db: BenchDatabase['db'],
  ruleSet: ReturnType<typeof loadRuleSet>,
  changed: string[],
  note: (phase: string, ms: number) => void,
): Promise<void> {
  const rollback = new Error('rolled back');
  await db
    .transaction(async (txRaw) => {
      const tx = txRaw as unknown as typeof db;
      let t = performance.now();
      const lap = (phase: string) => {
        const now = performance.now();
        note(phase, now - t);
        t = now;
      };
      const queue = await queuedChanges(tx);
      lap('evaluate: queue');
      const rules = workloadRules(ruleSet.rules);
      const affected = await loadAffected(tx, [...new Set([...changed, ...queue.refs, ...queue.reach.refs])], {
        owners: queue.reach.owners,
        workload: rules !== null,
      });
      lap('evaluate: load affected items');
      const existing = await existingFindings(tx, affected.evaluate);
      if (rules) existing.push(...(await existingFindings(tx, affected.workload, rules)));
      lap('evaluate: load their findings');
      const graph = createItemGraph(affected.items, NOW);
      await evaluateAndPlan(graph, affected.evaluate, existing, ruleSet.rules, {
        now: NOW,
        waivers: [],
        keep: keptRules(ruleSet),
        workload: rules ? { refs: affected.workload, rules } : undefined,
      });
      lap('evaluate: rules and plan (in memory)');
      await countFindings(tx);
      lap('evaluate: count findings');
      throw rollback;
    })
    .catch((e) => {
      if (e !== rollback) throw e;
    });
}
