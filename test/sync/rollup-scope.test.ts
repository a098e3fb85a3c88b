// A commit's rollups must match a recompute over everything: the epics whose figures a change
// moves are not only those above the changed item. Here one person finishing work under one
// epic resolves the work-in-progress findings of their items under another.
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { itemRollups, rollups } from '../../db/schema.ts';
import { recomputeRollups } from '../../src/rollups/compute.ts';
import { createSyncPipeline } from '../../src/sync/pipeline.ts';
import { commitChanges } from '../../src/sync/run.ts';
import { storeItems } from '../../src/sync/store.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { dbTargets } from '../helpers/db.ts';
import { item } from '../helpers/items.ts';
import { standardRuleSet } from '../helpers/rules.ts';

const now = new Date('2026-06-15T00:00:00.000Z');
const alice = { id: 'a1', name: 'Alice' };
// Alice has four items in progress, one more than the work-in-progress rule allows: three
// under PAY-1 and one under PAY-10.
const portfolio = [
  item('jira-main:PAY-1', { kind: 'epic', statusCategory: 'in_progress' }),
  item('jira-main:PAY-10', { kind: 'epic', statusCategory: 'in_progress' }),
  ...[2, 3, 4].map((n) =>
    item(`jira-main:PAY-${n}`, { parent: 'jira-main:PAY-1', statusCategory: 'in_progress', owner: alice }),
  ),
  item('jira-main:PAY-11', { parent: 'jira-main:PAY-10', statusCategory: 'in_progress', owner: alice }),
];

// A webhook's commit leaves project, program and portfolio rollups for later (deferAggregates)
// and reads the epics' trees alone (src/rollups/sql.ts epicScopes): its epics must still match.
for (const target of dbTargets())
  for (const deferAggregates of [false, true]) {
    describe(`rollups a commit recomputes${deferAggregates ? ', aggregates deferred,' : ''} on ${target.name}`, () => {
      let database: Database;
      const config = oneJiraConnection();
      const ruleSet = standardRuleSet();
      const pipeline = createSyncPipeline({ config, ruleSet });
      beforeAll(async () => {
        database = await target.open();
      });
      afterAll(async () => {
        await database.close();
      });
      const itemRows = () => database.db.select().from(itemRollups).orderBy(asc(itemRollups.ref));
      const stored = async () =>
        (await database.db.select().from(rollups).orderBy(asc(rollups.scope))).map((r) => ({
          scope: r.scope,
          health: r.health,
          healthReason: r.healthReason,
          percentComplete: r.percentComplete,
          metrics: r.metrics,
        }));

      it('match a recompute of everything after a change that resolves findings under another epic', async () => {
        const { db } = database;
        await storeItems(db, portfolio, now);
        await commitChanges(db, pipeline, { refs: portfolio.map((i) => i.ref), now, dryRun: true });
        const info = (rows: Awaited<ReturnType<typeof stored>>) =>
          (rows.find((r) => r.scope === 'epic:jira-main:PAY-10')?.metrics as { findings?: { info: number } })?.findings
            ?.info;
        const before = info(await stored());
        expect(before).toBeGreaterThan(0);

        const done = item('jira-main:PAY-2', {
          parent: 'jira-main:PAY-1',
          statusCategory: 'done',
          owner: alice,
          revision: '2',
        });
        await storeItems(db, [done], now);
        await commitChanges(db, pipeline, { refs: [done.ref], now, dryRun: true, deferAggregates });
        const epics = (rows: Awaited<ReturnType<typeof stored>>) =>
          deferAggregates ? rows.filter((r) => r.scope.startsWith('epic:')) : rows;
        const incremental = epics(await stored());
        // PAY-11's work-in-progress finding resolved, though nothing under PAY-10 changed.
        expect(info(incremental)).toBe((before ?? 0) - 1);

        const items = await itemRows();
        await recomputeRollups(db, { now, programs: [], thresholds: config.portfolio.health });
        expect(incremental).toEqual(epics(await stored()));
        expect(items).toEqual(await itemRows());
      });

      it("keep each item's roll-up as a full refresh would after a story moves to another epic", async () => {
        const { db } = database;
        const moved = item('jira-main:PAY-3', {
          parent: 'jira-main:PAY-10',
          statusCategory: 'in_progress',
          owner: alice,
          revision: '3',
        });
        await storeItems(db, [moved], now);
        await commitChanges(db, pipeline, { refs: [moved.ref], now, dryRun: true, deferAggregates });
        const incremental = await itemRows();
        expect(incremental.find((r) => r.ref === moved.ref)?.epic).toBe('jira-main:PAY-10');
        await recomputeRollups(db, { now, programs: [], thresholds: config.portfolio.health });
        expect(incremental).toEqual(await itemRows());
      });
    });
  }
