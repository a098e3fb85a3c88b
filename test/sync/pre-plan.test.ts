// A large evaluation plans the writes of items without a rollup from its own results (first-sync.ts
// prePlanner) instead of the planner reading them back. The outbox must come out exactly as the
// planner alone makes it: same rows, payloads, hashes, statuses and priorities, with applied
// comments, waiting writes, waivers, managed labels and field write-back in play.
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../db/client.ts';
import { COPY_MIN_ROWS } from '../../db/copy.ts';
import { queryRows } from '../../db/query.ts';
import { appliedState, writeOutbox } from '../../db/schema.ts';
import type { Config } from '../../src/config/schema.ts';
import { evaluateFindings } from '../../src/findings/evaluate.ts';
import { isLargeChange, prePlanner } from '../../src/sync/first-sync.ts';
import { createSyncPipeline } from '../../src/sync/pipeline.ts';
import { commitChanges } from '../../src/sync/run.ts';
import { storeItems } from '../../src/sync/store.ts';
import { NONCOMPLIANT_LABEL } from '../../src/writeback/desired.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { dbTargets } from '../helpers/db.ts';
import { item } from '../helpers/items.ts';
import { standardRuleSet } from '../helpers/rules.ts';

const now = new Date('2026-06-15T00:00:00.000Z');
const alice = { id: 'a1', name: 'Alice' };

function portfolio() {
  const out = [
    item('jira-main:PAY-1', { kind: 'epic', statusCategory: 'in_progress', due: '2026-09-30' }),
    item('jira-main:PAY-2', { kind: 'epic' }),
    item('jira-main:PAY-3', { kind: 'feature', parent: 'jira-main:PAY-1', owner: alice }),
  ];
  // Enough for every bulk write of the chunk to go by COPY (db/copy.ts COPY_MIN_ROWS).
  for (let n = 10; n < 610; n++) {
    const parent = n % 3 === 0 ? 'jira-main:PAY-2' : n % 3 === 1 ? 'jira-main:PAY-3' : 'jira-main:PAY-1';
    out.push(
      item(`jira-main:PAY-${n}`, {
        kind: n % 7 === 0 ? 'bug' : 'story',
        parent,
        statusCategory: n % 5 === 0 ? 'done' : n % 4 === 0 ? 'in_progress' : 'todo',
        owner: n % 6 === 0 ? null : alice,
        assignee: n % 6 === 0 ? null : alice,
        priority: n % 7 === 0 && n % 2 === 0 ? null : 'High',
        points: n % 3 === 0 ? null : 3,
        // Some already carry the managed label, some of them compliant (the label comes off).
        labels: n % 8 === 0 ? [NONCOMPLIANT_LABEL] : ['team-a'],
        due: n % 9 === 0 ? '2026-05-01' : null,
        updated: new Date(Date.UTC(2026, 4, 1 + (n % 28))).toISOString(),
      }),
    );
  }
  return out;
}

function config(): Config {
  const c = oneJiraConnection([
    'writeback: { comment: true, labels: true, fields: { compliance: customfield_1, health: customfield_2 } }',
  ]);
  c.rules.waivers = [{ rule: 'priority-required', ref: 'jira-main:PAY-14', until: '2026-12-31', reason: 'agreed' }];
  return c;
}

async function seed(db: Db): Promise<void> {
  await storeItems(db, portfolio(), now);
  // A comment pmo-sync posted earlier, and a write already waiting with the hash it would plan.
  await db.insert(appliedState).values([
    { ref: 'jira-main:PAY-11', target: 'comment', hash: 'old', externalId: '9001' },
    { ref: 'jira-main:PAY-12', target: 'comment', hash: 'old', externalId: '9002' },
  ]);
}

async function outbox(db: Db) {
  return queryRows<Record<string, unknown>>(
    db,
    sql`select ref, target, payload, desired_hash, status, priority from ${writeOutbox} order by ref, target`,
  );
}

for (const target of dbTargets()) {
  describe(`writes planned during a large evaluation, on ${target.name}`, () => {
    let withPre: Database;
    let without: Database;
    const ruleSet = standardRuleSet();
    // Fresh databases per test: each seeds the portfolio it plans over, in any order.
    beforeEach(async () => {
      [withPre, without] = await Promise.all([target.open(), target.open()]);
    });
    afterEach(async () => {
      await Promise.all([withPre.close(), without.close()]);
    });

    it('come out exactly as the planner alone plans them', async () => {
      const cfg = config();
      const pipeline = createSyncPipeline({ config: cfg, ruleSet });
      await Promise.all([seed(withPre.db), seed(without.db)]);
      // A full pass (refs undefined) is large by definition, so its evaluation plans itself.
      const a = await commitChanges(withPre.db, pipeline, { refs: undefined, now, dryRun: false });
      // The plain path: the planner plans every item, as for a small change set.
      const b = await commitChanges(without.db, pipeline, { refs: undefined, now, dryRun: false, largeChange: false });
      const rows = await outbox(withPre.db);
      expect(rows.length).toBeGreaterThan(COPY_MIN_ROWS);
      expect(rows).toEqual(await outbox(without.db));
      expect(a.planned).toBe(b.planned);
      expect(a.skippedUnchanged).toBe(b.skippedUnchanged);
      // Every target shows up: comments, label changes both ways, fields.
      const targets = new Set(rows.map((r) => r.target));
      expect([...targets].sort()).toEqual(['comment', 'fields', 'labels']);
    });

    it('plans leaf items during the evaluation and leaves containers to the planner', async () => {
      const cfg = config();
      const db = withPre.db;
      await seed(db);
      let pre: ReturnType<typeof prePlanner>;
      await db.transaction(async (txRaw) => {
        // PGlite has one connection, which the transaction holds: reads go through it.
        const tx = txRaw as unknown as Db;
        pre = prePlanner(createSyncPipeline({ config: cfg, ruleSet }), tx, { now, dryRun: true });
        await evaluateFindings(tx, ruleSet, {
          now,
          waivers: cfg.rules.waivers,
          onChunk: pre.onChunk,
        });
      });
      expect(pre!.planned.size).toBe(600);
      for (const epic of ['jira-main:PAY-1', 'jira-main:PAY-2', 'jira-main:PAY-3'])
        expect(pre!.planned.has(epic)).toBe(false);
      // Small change sets are the planner's alone.
      expect(isLargeChange(['jira-main:PAY-10'])).toBe(false);
      expect(isLargeChange(undefined)).toBe(true);
    });
  });
}
