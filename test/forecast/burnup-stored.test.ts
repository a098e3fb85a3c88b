// A program's stored burn-up (burn_ups) over both simulators: after the first sync, after an
// incremental sync and after webhook changes it gives exactly the series the live computation
// draws from every leaf of the program, and it moved with the changes.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { loadProgramBurnUp } from '../../src/dashboard/workspace/forecast.ts';
import { seriesOfSteps, storedBurnUpSteps } from '../../src/forecast/burnup.ts';
import { dbTargets } from '../helpers/db.ts';
import { type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

for (const target of dbTargets()) {
  describe(`a program's stored burn-up over both trackers on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    beforeAll(async () => {
      database = await target.open();
      p = await startPortfolio({ database });
      await p.sync();
    });
    afterAll(async () => {
      await p?.close();
      await database?.close();
    });

    /** The stored series and the live one now, in the forecast's unit, and the leaves done now. */
    const both = async () => {
      const now = new Date();
      const live = await loadProgramBurnUp(database.db, p.config, 'payments', now, { live: true });
      const steps = await storedBurnUpSteps(database.db, p.config.portfolio.programs[0]!);
      return {
        stored: steps && live && seriesOfSteps(steps, live.unit, now),
        live: live && { weeks: live.weeks, doneNow: live.doneNow, scopeNow: live.scopeNow },
        doneItems: steps && seriesOfSteps(steps, 'items', now)?.doneNow,
      };
    };
    /**
     * An open leaf of the tracker without a status history, [connection, key]: a webhook changes
     * its status alone, and a leaf with a history is counted from its history (read by syncs).
     */
    const openLeaf = async (tracker: string) => {
      const [row] = await queryRows<{ ref: string }>(
        database.db,
        sql`select ref from item_rollups w where tracker = ${tracker} and kind in ('story', 'bug', 'task')
            and status_category in ('todo', 'in_progress')
            and not exists (select 1 from item_history h where h.ref = w.ref and jsonb_array_length(h.transitions) > 0)
            order by ref limit 1`,
      );
      const ref = row!.ref;
      return [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)] as const;
    };

    it('equals the live burn-up after the first sync, both trackers counted', async () => {
      const { stored, live } = await both();
      expect(stored).not.toBeNull();
      expect(stored).toEqual(live);
      expect(live!.scopeNow).toBeGreaterThan(0);
    });

    it('follows an incremental sync that finishes work in both trackers', async () => {
      // Arrange
      const before = (await both()).doneItems!;
      const [jc, jiraKey] = await openLeaf('jira');
      const [ac, adoId] = await openLeaf('azure-devops');
      p.edit(`${jc}:${jiraKey}`, { status: 'Done' });
      p.edit(`${ac}:${adoId}`, { status: 'Closed' });
      // Act
      await p.sync();
      // Assert
      const { stored, live, doneItems } = await both();
      expect(stored).toEqual(live);
      expect(doneItems).toBe(before + 2);
    });

    it('follows webhook changes once the processor has nothing left to take', async () => {
      // Arrange
      const before = (await both()).doneItems!;
      const [jc, jiraKey] = await openLeaf('jira');
      const [ac, adoId] = await openLeaf('azure-devops');
      p.edit(`${jc}:${jiraKey}`, { status: 'Done' });
      p.edit(`${ac}:${adoId}`, { status: 'Closed' });
      await p.queueUpdates([`${jc}:${jiraKey}`, `${ac}:${adoId}`], 'burn-up');
      const processor = p.webhookProcessor({ send: false });
      // Act: drain takes the events, then finds the inbox empty and refreshes the aggregates.
      await processor.drain();
      // Assert
      // Assert: the live series moved (a leaf done without a closed date stays out of "done").
      const { stored, live, doneItems } = await both();
      expect(stored).toEqual(live);
      expect(doneItems).toBeGreaterThan(before);
    });
  });
}
