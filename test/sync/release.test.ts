// A commit asks the runtime to return freed memory around the evaluation of a large change set
// (a first or full sync), and never for the small ones webhooks commit many times a second, nor
// on the webhook path, which defers the aggregate rollups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { createSyncPipeline } from '../../src/sync/pipeline.ts';
import { commitChanges } from '../../src/sync/run.ts';
import { PLAN_CHUNK } from '../../src/writeback/plan.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { dbTargets } from '../helpers/db.ts';
import { standardRuleSet } from '../helpers/rules.ts';

for (const target of dbTargets().slice(0, 1)) {
  describe(`releasing memory around an evaluation, on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    const ruleSet = standardRuleSet();
    const commit = (refs: string[] | undefined, calls: string[], deferAggregates = false) =>
      commitChanges(
        database.db,
        createSyncPipeline({ config: oneJiraConnection(), ruleSet, releaseMemory: () => calls.push('release') }),
        {
          refs,
          now: new Date(),
          dryRun: true,
          deferAggregates,
          onPhase: (phase, total) => void calls.push(`${phase} ${total ?? 'all'}`),
        },
      );

    it('before and after a large evaluation, and a full one', async () => {
      const large: string[] = [];
      for (let i = 0; i <= PLAN_CHUNK; i++) large.push(`jira-main:PAY-${i}`);
      const calls: string[] = [];
      await commit(large, calls);
      expect(calls).toEqual(['release', `evaluate ${large.length}`, 'release', `roll up ${large.length}`]);
      const full: string[] = [];
      await commit(undefined, full);
      expect(full).toEqual(['release', 'evaluate all', 'release', 'roll up all']);
    });

    it('never for a small one, nor on the webhook path', async () => {
      const calls: string[] = [];
      await commit(['jira-main:PAY-1', 'ado-main:7'], calls);
      expect(calls).toEqual(['evaluate 2', 'roll up 2']);
      const webhook: string[] = [];
      await commit(undefined, webhook, true);
      expect(webhook).toEqual(['evaluate all', 'roll up all']);
    });
  });
}
