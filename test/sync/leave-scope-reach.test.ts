// An in-progress item that leaves the connection's scope has no row left to say whose work it
// was: the owner rides on its queue row, so the pass re-evaluates that owner's WIP findings
// (the others' work-in-progress finding resolves once the owner is back within the limit).
// Real SQL on each database, the built-in rule pack, the pass's own commit.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings } from '../../db/schema.ts';
import { loadRuleSet } from '../../rules/load.ts';
import { testItem } from '../../rules/testing.ts';
import { createSyncPipeline } from '../../src/sync/pipeline.ts';
import { commitChanges } from '../../src/sync/run.ts';
import { leaveScope } from '../../src/sync/scope.ts';
import { storeItems } from '../../src/sync/store.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { dbTargets } from '../helpers/db.ts';

const now = new Date('2026-06-01T12:00:00Z');
const ruleSet = loadRuleSet({ config: { packs: ['pmo-standard'], files: [] }, cwd: process.cwd() });
const pipeline = createSyncPipeline({ config: oneJiraConnection(), ruleSet });
const refs = [1, 2, 3, 4].map((n) => `jira-main:WIP-${n}`);

for (const target of dbTargets()) {
  describe(`an in-progress item leaving the scope, on ${target.name}`, () => {
    let database: Database;
    const wipOpen = async (ref: string) =>
      (
        await database.db
          .select({ status: findings.status })
          .from(findings)
          .where(and(eq(findings.ref, ref), eq(findings.rule, 'wip-per-owner')))
      )[0]?.status === 'open';

    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    it("re-evaluates its owner's work in progress", async () => {
      const items = refs.map((ref) =>
        testItem({ ref, kind: 'story', statusCategory: 'in_progress', owner: 'ada', assignee: 'ada' }, ref, now),
      );
      const stored = await storeItems(database.db, items, now);
      await commitChanges(database.db, pipeline, { refs: stored.changed, now, dryRun: true });
      expect(await Promise.all(refs.map(wipOpen))).toEqual([true, true, true, true]);

      const affected = await leaveScope(database.db, [refs[0]!]);
      await commitChanges(database.db, pipeline, { refs: affected, now, dryRun: true });
      expect(await Promise.all(refs.map(wipOpen))).toEqual([false, false, false, false]);
    });
  });
}
