// A large evaluation runs chunk by chunk (items.ts planEvaluationChunks): only whole trees and
// their linked context are in memory at a time. These tests check that it decides exactly what
// one pass over the whole item graph decides, on a portfolio built to cross chunk borders:
// dependency cycles between trees, blockers in other trees, owners whose WIP spans every chunk,
// deleted items, a parent cycle, links to items never synced. PGlite always, Postgres when
// TEST_DATABASE_URL is set.
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../db/client.ts';
import { findingHistory, findings, itemChecks, itemLinks, workItems } from '../../db/schema.ts';
import { evaluateItems } from '../../rules/evaluate.ts';
import { createItemGraph, type GraphItem } from '../../rules/graph.ts';
import { loadRuleSet } from '../../rules/load.ts';
import { testItem } from '../../rules/testing.ts';
import { evaluateFindings } from '../../src/findings/evaluate.ts';
import { loadAffected, planEvaluationChunks } from '../../src/findings/load-items.ts';
import { dbTargets } from '../helpers/db.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const day = (d: number) => new Date(NOW.getTime() + d * 86_400_000).toISOString().slice(0, 10);
const OWNERS = ['ana', 'bo', 'cy'];

/** A deterministic portfolio of `trees` trees (initiative → epics → stories) plus odd cases. */
function portfolio(trees = 12): GraphItem[] {
  const items: GraphItem[] = [];
  const add = (p: Record<string, unknown>) => items.push(testItem({ connection: 'jira-main', ...p }, 'x', NOW));
  let n = 0;
  for (let t = 0; t < trees; t++) {
    const init = `jira-main:IN-${t}`;
    add({ ref: init, kind: 'initiative', statusCategory: 'in_progress', owner: OWNERS[t % 3], due: day(60) });
    for (let e = 0; e < 2; e++) {
      const epic = `jira-main:EP-${t}-${e}`;
      add({
        ref: epic,
        kind: 'epic',
        parent: init,
        statusCategory: (t + e) % 4 === 0 ? 'done' : 'in_progress',
        owner: OWNERS[(t + e) % 3],
        due: (t + e) % 3 === 0 ? undefined : day(10 * (e + 1)),
      });
      for (let s = 0; s < 4; s++) {
        n++;
        const links: GraphItem['links'] = [];
        // Blockers in the next tree, and now and then a dependency back, closing a cycle
        // across trees (so across chunks).
        if (s === 0) links.push({ type: 'blocked_by', target: `jira-main:ST-${(t + 1) % trees}-${e}-1` });
        if (s === 1 && t % 4 === 3) links.push({ type: 'blocked_by', target: `jira-main:ST-${t - 1}-${e}-0` });
        if (s === 2 && t === 5) links.push({ type: 'depends_on', target: 'jira-main:NEVER-SYNCED' });
        if (s === 3 && t % 5 === 0) links.push({ type: 'relates', target: `ado-main:${100 + t}` });
        // A cycle through four trees (0 → 3 → 6 → 9 → 0), each in a chunk of its own: only the
        // closure of blocking links, not the direct neighbours, brings all four together.
        const ring = s === 2 && e === 0 && t % 3 === 0;
        if (ring) links.push({ type: 'blocked_by', target: `jira-main:ST-${(t + 3) % trees}-0-2` });
        add({
          ref: `jira-main:ST-${t}-${e}-${s}`,
          kind: s === 3 ? 'bug' : 'story',
          parent: epic,
          statusCategory: ring ? 'in_progress' : ['todo', 'in_progress', 'in_progress', 'done'][(n + t) % 4],
          owner: OWNERS[n % 3],
          points: s + 1,
          due: n % 5 === 0 ? day(-3) : day(20),
          started: n % 4 === 1 ? day(-30) : undefined,
          deletedAt: n % 17 === 0 && !ring ? NOW.toISOString() : null,
          links,
        });
      }
    }
  }
  for (let a = 0; a < 12; a++) {
    add({
      ref: `ado-main:${100 + a}`,
      connection: 'ado-main',
      tracker: 'azure-devops',
      kind: 'task',
      statusCategory: a % 2 ? 'in_progress' : 'removed',
      owner: OWNERS[a % 3],
      links: a % 3 === 0 ? [{ type: 'cross_tracker', target: `jira-main:ST-${a}-0-0`, relation: 'blocks' }] : [],
    });
  }
  // A parent cycle in the tracker's data: both must land in one chunk, whichever is read first.
  add({ ref: 'jira-main:CY-1', kind: 'epic', parent: 'jira-main:CY-2', statusCategory: 'in_progress' });
  add({ ref: 'jira-main:CY-2', kind: 'epic', parent: 'jira-main:CY-1', statusCategory: 'in_progress' });
  return items;
}

async function store(db: Db, items: GraphItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += 200) {
    const batch = items.slice(i, i + 200);
    await db
      .insert(workItems)
      .values(batch.map((it) => ({ ...it, contentHash: `h-${it.ref}`, deletedAt: it.deletedAt ?? null })));
    const links = batch.flatMap((it) =>
      it.links.map((l) => ({ source: it.ref, target: l.target, type: l.type, relation: l.relation ?? null })),
    );
    if (links.length > 0) await db.insert(itemLinks).values(links).onConflictDoNothing();
  }
}

describe.each(dbTargets())('chunked evaluation on $name', (target) => {
  let database: Database;
  const items = portfolio();
  const rs = loadRuleSet({ config: { packs: ['pmo-standard'], files: [], overrides: {} }, cwd: process.cwd() });
  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await database.close();
  });
  const fresh = async (stored = items) => {
    const { db } = database;
    for (const t of [findings, findingHistory, itemChecks, itemLinks, workItems]) await db.delete(t);
    await store(db, stored);
    return db;
  };

  it('plans whole trees per chunk, a parent cycle in one of them, and every ref once', async () => {
    const db = await fresh();
    const plan = await planEvaluationChunks(db, undefined, 20);
    expect(plan.chunks.length).toBeGreaterThan(5);
    const chunkOf = new Map<string, number>();
    plan.chunks.forEach((c, i) => {
      for (const r of c.members) chunkOf.set(r, i);
    });
    for (const it of items)
      if (it.parent && chunkOf.has(it.parent)) expect(chunkOf.get(it.ref)).toBe(chunkOf.get(it.parent));
    expect(chunkOf.get('jira-main:CY-1')).toBe(chunkOf.get('jira-main:CY-2'));
    const evaluated = plan.chunks.flatMap((c) => c.evaluate);
    expect(evaluated.length).toBe(new Set(evaluated).size);
    expect(new Set(evaluated)).toEqual(new Set(items.map((i) => i.ref)));
    // The WIP rule sees each owner's whole workload, whichever chunk it evaluates.
    const inProgress = items.filter((i) => i.statusCategory === 'in_progress' && !i.deletedAt && i.owner);
    expect([...plan.ownerWork.values()].flat().length).toBe(inProgress.length);
  });

  it('opens exactly the findings one pass over the whole graph gives, in chunks of 20 items evaluated 7 at a time', async () => {
    const db = await fresh();
    const summary = await evaluateFindings(db, rs, { now: NOW, waivers: [], chunkItems: 20, sliceItems: 7 });

    const graph = createItemGraph(items, NOW);
    const run = evaluateItems(
      graph,
      rs.rules,
      items.map((i) => i.ref),
    );
    const expected = run.results
      .filter((r) => !graph.get(r.ref)?.deletedAt)
      .flatMap((r) => [...r.fails].map(([rule, message]) => ({ ref: r.ref, rule, message })))
      .sort((a, b) => a.ref.localeCompare(b.ref) || a.rule.localeCompare(b.rule));
    const stored = await db
      .select({ ref: findings.ref, rule: findings.rule, message: findings.message })
      .from(findings)
      .where(eq(findings.status, 'open'))
      .orderBy(asc(findings.ref), asc(findings.rule));
    const sorted = [...stored].sort((a, b) => a.ref.localeCompare(b.ref) || a.rule.localeCompare(b.rule));
    expect(sorted).toEqual(expected);
    // The cross-chunk cases are among them, so the comparison is not vacuous.
    const rules = new Set(expected.map((f) => f.rule));
    for (const r of ['dependency-cycle', 'wip-per-owner', 'blocked-by-removed', 'epic-done-open-children']) {
      expect(rules).toContain(r);
    }
    const cycle = expected.filter((f) => f.rule === 'dependency-cycle').map((f) => f.ref);
    expect(cycle).toEqual(
      expect.arrayContaining(['jira-main:ST-0-0-2', 'jira-main:ST-3-0-2', 'jira-main:ST-6-0-2', 'jira-main:ST-9-0-2']),
    );
    expect(summary.checks).toBe(run.checks);
    expect(summary.open).toBe(expected.length);

    const checks = await db.select().from(itemChecks);
    const applicable = new Map(
      run.results.filter((r) => !graph.get(r.ref)?.deletedAt).map((r) => [r.ref, r.applicable]),
    );
    expect(new Map(checks.map((c) => [c.ref, c.ruleChecks]))).toEqual(applicable);
  });

  it('evaluates, for a change set of every item, every item and the targets never synced', async () => {
    const db = await fresh();
    const all = items.map((i) => i.ref);
    const plan = await planEvaluationChunks(db, all, 20);
    const evaluated = plan.chunks.flatMap((c) => c.evaluate);
    expect(evaluated.length).toBe(new Set(evaluated).size);
    expect(new Set(evaluated)).toEqual(new Set([...all, ...items.flatMap((i) => i.links.map((l) => l.target))]));
    expect(evaluated).toContain('jira-main:NEVER-SYNCED');
  });

  it('expands a large change set as the incremental path does and changes nothing on a re-run', async () => {
    // Large enough that a third of it (over 1,000 refs) takes the chunked path (coversMostItems).
    const big = portfolio(300);
    const db = await fresh(big);
    await evaluateFindings(db, rs, { now: NOW, waivers: [], chunkItems: 200 });
    const changed = big.filter((_, i) => i % 3 === 0).map((i) => i.ref);
    expect(changed.length).toBeGreaterThan(1000);
    const { evaluate } = await loadAffected(db, changed);
    const live = new Set(big.filter((i) => !i.deletedAt).map((i) => i.ref));
    const again = await evaluateFindings(db, rs, { now: NOW, waivers: [], refs: changed, chunkItems: 200 });
    expect(again.evaluated).toBe(evaluate.filter((r) => live.has(r)).length);
    expect(again.opened + again.resolved).toBe(0);
    expect(again.changedRefs).toEqual([]);
  });
});
