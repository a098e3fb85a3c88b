// commitChanges asks the runtime to return freed memory around the evaluation of a large change
// set (a first or full sync), and never for the small ones webhooks commit many times a second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { commitChanges, RELEASE_MEMORY_AT } from '../../src/sync/commit.ts';
import type { SyncStages } from '../../src/sync/run.ts';
import { emptyFindings } from '../../src/sync/summary.ts';
import { dbTargets } from '../helpers/db.ts';

for (const target of dbTargets().slice(0, 1)) {
  describe(`releasing memory around an evaluation, on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    const recording = (calls: string[]): SyncStages => ({
      async evaluate(_db, o) {
        calls.push(`evaluate ${o.refs === undefined ? 'all' : o.refs.length}`);
        return emptyFindings();
      },
      async afterEvaluate() {
        calls.push('afterEvaluate');
        return { planned: 0, skippedUnchanged: 0 };
      },
      releaseMemory() {
        calls.push('release');
      },
    });
    const commit = (refs: string[] | undefined, calls: string[]) =>
      commitChanges(database.db, recording(calls), { refs, now: new Date(), dryRun: true });

    it('before and after a large evaluation, and a full one', async () => {
      const large: string[] = [];
      for (let i = 0; i < RELEASE_MEMORY_AT; i++) large.push(`jira-main:PAY-${i}`);
      const calls: string[] = [];
      await commit(large, calls);
      expect(calls).toEqual(['release', `evaluate ${RELEASE_MEMORY_AT}`, 'release', 'afterEvaluate']);
      const full: string[] = [];
      await commit(undefined, full);
      expect(full).toEqual(['release', 'evaluate all', 'release', 'afterEvaluate']);
    });

    it('never for a small one', async () => {
      const calls: string[] = [];
      await commit(['jira-main:PAY-1', 'ado-main:7'], calls);
      expect(calls).toEqual(['evaluate 2', 'afterEvaluate']);
    });
  });
}
