// An item whose rules or writes cannot be worked out is quarantined at that stage and stays
// queued for evaluation; every other item of the pass is evaluated and planned, and the item's
// quarantine row goes once it gets through.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { evalQueue, findings, quarantine, workItems } from '../../db/schema.ts';
import { evaluateItems } from '../../rules/evaluate.ts';
import { createItemGraph } from '../../rules/graph.ts';
import { loadRuleSet } from '../../rules/load.ts';
import { createSyncPipeline } from '../../src/sync/pipeline.ts';
import { commitChanges } from '../../src/sync/run.ts';
import { storeItems } from '../../src/sync/store.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { dbTargets } from '../helpers/db.ts';
import { item } from '../helpers/items.ts';
import { standardRuleSet } from '../helpers/rules.ts';

const now = new Date('2026-06-15T00:00:00.000Z');

describe('evaluateItems', () => {
  it('fails only the items whose context cannot be built, and evaluates the rest', () => {
    // An Azure DevOps hierarchy 6,000 levels deep (nothing in the tracker forbids one): the
    // aggregate over a top item's descendants goes deeper than the stack.
    const chain = Array.from({ length: 6000 }, (_, i) =>
      item(`ado-main:${i + 1}`, { kind: i === 0 ? 'epic' : 'feature', parent: i === 0 ? null : `ado-main:${i}` }),
    );
    const other = item('ado-main:9001', { kind: 'story' });
    const graph = createItemGraph([...chain, other], now);

    const run = evaluateItems(graph, standardRuleSet().rules, ['ado-main:1', other.ref]);

    expect(run.failed).toEqual([{ ref: 'ado-main:1', reason: 'Maximum call stack size exceeded' }]);
    expect(run.results.map((r) => r.ref)).toEqual([other.ref]);
    expect(run.results[0]!.applicable).toBeGreaterThan(0);
  });
});

/** A stored row the code cannot read: written by something other than this version's store. */
async function corruptLabels(db: Db, ref: string, labels: unknown): Promise<void> {
  await db.execute(sql`update work_items set labels = ${JSON.stringify(labels)}::jsonb where ref = ${ref}`);
}

const quarantined = (db: Db) =>
  db
    .select({ ref: quarantine.ref, stage: quarantine.stage, reason: quarantine.reason, failures: quarantine.failures })
    .from(quarantine);
const queued = async (db: Db) => (await db.select({ ref: evalQueue.ref }).from(evalQueue)).map((r) => r.ref).sort();

for (const target of dbTargets()) {
  describe(`quarantine at evaluation and planning on ${target.name}`, () => {
    let database: Database;
    beforeEach(async () => {
      await database?.close();
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    const items = () => [
      item('jira-main:PAY-1', { kind: 'epic', statusCategory: 'in_progress' }),
      item('jira-main:PAY-2', { parent: 'jira-main:PAY-1' }),
      item('jira-main:PAY-3', { parent: 'jira-main:PAY-1' }),
    ];

    it('an item whose findings cannot be worked out keeps its old ones, is quarantined and stays queued', async () => {
      const { db } = database;
      const pipeline = createSyncPipeline({
        config: oneJiraConnection(['writeback: { comment: true, labels: true }']),
        ruleSet: standardRuleSet(),
      });
      await commitChanges(db, pipeline, { refs: (await storeItems(db, items(), now)).changed, now, dryRun: false });
      const findingsOf = (ref: string) =>
        db
          .select({ rule: findings.rule, status: findings.status, message: findings.message })
          .from(findings)
          .where(eq(findings.ref, ref))
          .orderBy(findings.rule);
      const before = await findingsOf('jira-main:PAY-2');
      expect(before.length).toBeGreaterThan(0);
      // A new version, then a label that is null: looking for a `pmo-waive:` label on a
      // failed rule throws.
      const edited = await storeItems(
        db,
        [item('jira-main:PAY-2', { parent: 'jira-main:PAY-1', title: 'Edited', revision: '2' })],
        now,
      );
      await corruptLabels(db, 'jira-main:PAY-2', [null]);

      const first = await commitChanges(db, pipeline, { refs: edited.changed, now, dryRun: false });

      expect(first.quarantined).toEqual([
        { ref: 'jira-main:PAY-2', stage: 'evaluate', reason: "Cannot read properties of null (reading 'length')" },
      ]);
      expect(await quarantined(db)).toEqual([
        {
          ref: 'jira-main:PAY-2',
          stage: 'evaluate',
          reason: "Cannot read properties of null (reading 'length')",
          failures: 1,
        },
      ]);
      expect(await queued(db)).toEqual(['jira-main:PAY-2']);
      expect(await findingsOf('jira-main:PAY-2')).toEqual(before);
      // Its epic was evaluated with it (it is the parent of a changed item).
      expect(first.findings.evaluated).toBe(1);

      // The next pass tries it again from the queue, with nothing else changed.
      await commitChanges(db, pipeline, { refs: [], now, dryRun: false });
      expect((await quarantined(db)).map((q) => q.failures)).toEqual([2]);

      await corruptLabels(db, 'jira-main:PAY-2', []);
      const fixed = await commitChanges(db, pipeline, { refs: [], now, dryRun: false });
      expect(fixed.quarantined).toEqual([]);
      expect(await quarantined(db)).toEqual([]);
      expect(await queued(db)).toEqual([]);
      // Evaluated at last: its findings now carry the edited content's hash.
      const [{ hash }] = await db
        .select({ hash: workItems.contentHash })
        .from(workItems)
        .where(eq(workItems.ref, 'jira-main:PAY-2'));
      const hashes = await db
        .select({ h: findings.itemHash })
        .from(findings)
        .where(eq(findings.ref, 'jira-main:PAY-2'));
      expect(new Set(hashes.map((r) => r.h))).toEqual(new Set([hash]));
    });

    it('an item whose writes cannot be planned gets none, is quarantined and stays queued; the others are planned', async () => {
      const { db } = database;
      // No rules: evaluation passes every item; planning still reads each item's labels.
      const pipeline = createSyncPipeline({
        config: oneJiraConnection(['writeback: { comment: true, labels: true }']),
        ruleSet: loadRuleSet({ config: { packs: [], files: [], overrides: {} }, cwd: process.cwd() }),
      });
      const stored = await storeItems(db, items(), now);
      await corruptLabels(db, 'jira-main:PAY-3', { not: 'a list' });

      const first = await commitChanges(db, pipeline, { refs: stored.changed, now, dryRun: false });

      expect(first.quarantined).toEqual([
        { ref: 'jira-main:PAY-3', stage: 'plan', reason: 'input.labels.includes is not a function' },
      ]);
      expect(await queued(db)).toEqual(['jira-main:PAY-3']);
      const outbox = await queryRows<{ ref: string; target: string }>(
        db,
        sql`select ref, target from write_outbox order by ref, target`,
      );
      // The epic's rollup comment is planned; nothing for the quarantined item.
      expect(outbox).toEqual([{ ref: 'jira-main:PAY-1', target: 'comment' }]);

      await corruptLabels(db, 'jira-main:PAY-3', []);
      await commitChanges(db, pipeline, { refs: [], now, dryRun: false });
      expect(await quarantined(db)).toEqual([]);
      expect(await queued(db)).toEqual([]);
      expect(await db.select({ ref: workItems.ref }).from(workItems)).toHaveLength(3);
    });
  });
}
