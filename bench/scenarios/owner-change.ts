// Incremental re-evaluation after one owner change (issue 28, performance): an owner with 500
// items in progress hands one of them to another owner. The pass must re-evaluate the WIP of
// both owners (the one left behind through the queue's reach, store.ts ItemReach), so it reads
// and evaluates some 530 items of a store of several thousand. Timed: storing the change and
// the commit that evaluates it (the built-in rule pack; rollups and planning are other pipeline).

import type { Db } from '../../db/client.ts';
import { loadRuleSet } from '../../rules/load.ts';
import { testItem } from '../../rules/testing.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import { evaluateFindings } from '../../src/findings/evaluate.ts';
import { settle, takeQueue } from '../../src/sync/steps.ts';
import { storeItems } from '../../src/sync/store.ts';
import type { BenchDatabase } from '../lib/db.ts';
import { percentile, round } from '../lib/stats.ts';

export interface OwnerChangeFigures {
  db: string;
  items: number;
  /** In-progress items of the owner one item is taken from. */
  ownerItems: number;
  /** Items the incremental pass evaluated (both owners' work, the item's epic). */
  evaluated: number;
  runs: number;
  /** Store + evaluate + commit of the one change, per run. */
  p50Ms: number | null;
  maxMs: number | null;
}

export async function runOwnerChangeScenario(
  database: BenchDatabase,
  opts: { items: number; ownerItems: number; runs: number },
): Promise<OwnerChangeFigures> {
  const now = new Date('2026-06-01T12:00:00Z');
  const ruleSet = loadRuleSet({ config: { packs: ['pmo-standard'], files: [] }, cwd: process.cwd() });
  const epics = 50;
  const make = (i: number, owner: string, rev: number): WorkItem => {
    const epic = i < epics;
    return testItem(
      {
        ref: `jira-main:OWN-${i}`,
        kind: epic ? 'epic' : 'story',
        statusCategory: 'in_progress',
        owner,
        assignee: owner,
        parent: epic ? null : `jira-main:OWN-${i % epics}`,
        points: 3,
        started: '2026-05-20T00:00:00Z',
        revision: String(rev),
      },
      'x',
      now,
    );
  };
  // Owner 0 holds `ownerItems` items in progress; the rest are spread over 40 other owners.
  const ownerOf = (i: number) => (i >= epics && i < epics + opts.ownerItems ? 'owner-0' : `owner-${1 + (i % 40)}`);
  const items = Array.from({ length: opts.items }, (_, i) => make(i, ownerOf(i), 1));
  await storeItems(database.db, items, now);
  // The pass's evaluate step alone, between the queue it takes and the queue rows it settles:
  // the rollups and the plan that follow it in a pass are outside this figure.
  const evaluatePass = (refs: string[] | undefined) =>
    database.db.transaction(async (txRaw) => {
      const tx = txRaw as unknown as Db;
      const pass = await takeQueue(tx, refs, []);
      const findings = await evaluateFindings(tx, ruleSet, { refs: pass.refs, owners: pass.owners, now, waivers: [] });
      await settle(tx, pass, []);
      return { findings };
    });
  await evaluatePass(undefined);

  const moved = epics; // one of owner 0's items
  const ms: number[] = [];
  let evaluated = 0;
  for (let run = 0; run < opts.runs; run++) {
    // Back and forth: owner 0 → owner 1, then back, each a fresh revision.
    const owner = run % 2 === 0 ? 'owner-1' : 'owner-0';
    const t0 = performance.now();
    const stored = await storeItems(database.db, [make(moved, owner, run + 2)], now);
    const r = await evaluatePass(stored.changed);
    ms.push(performance.now() - t0);
    evaluated = r.findings.evaluated;
  }
  return {
    db: database.kind,
    items: opts.items,
    ownerItems: opts.ownerItems,
    evaluated,
    runs: opts.runs,
    p50Ms: round(percentile(ms, 50)),
    maxMs: round(Math.max(...ms)),
  };
}
