// A pass whose read of a connection fails part-way (a schema-breaking answer after the first
// batch was stored) believes nothing of that connection: what it stored stays queued and is not
// evaluated beside items the failed read would have refreshed; the next pass that reads the
// connection through evaluates it on fresh data. Real connectors, simulators and database.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, PullOptions } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { evalQueue, findings } from '../../db/schema.ts';
import { dbTargets } from '../helpers/db.ts';
import { type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

for (const target of dbTargets()) {
  describe(`a read that fails mid-pass, on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    let real: Connector;
    const ownerRequired = async (ref: string) =>
      (
        await database.db
          .select({ status: findings.status })
          .from(findings)
          .where(and(eq(findings.ref, ref), eq(findings.rule, 'owner-required')))
      )[0]?.status;
    const queued = async () => (await database.db.select({ ref: evalQueue.ref }).from(evalQueue)).map((r) => r.ref);

    beforeAll(async () => {
      database = await target.open();
      p = await startPortfolio({ database, jiraEpics: 1, adoEpics: 1 });
      await p.sync();
      await p.sync();
      real = p.connectors.get('ado-main')!;
    });
    afterAll(async () => {
      p.connectors.set('ado-main', real);
      await p.close();
      await database.close();
    });

    it('leaves what the failed connection stored queued, then evaluates it once a pass reads it through', async () => {
      // An open story with an owner loses it: owner-required must open, on fresh data only.
      const story = p.adoIds
        .map((id) => p.ado.store.get(id))
        .find((w) => w.fields['System.WorkItemType'] === 'User Story' && w.fields['System.AssignedTo'] != null)!;
      const ref = `ado-main:${story.id}`;
      expect(await ownerRequired(ref)).not.toBe('open');
      p.ado.store.update(story.id, { 'System.AssignedTo': null });

      // Once the pull's batch is stored, Azure DevOps breaks the schema of the next answer: the
      // reconcile sweep's WIQL. The connector, its HTTP and the simulator are the real ones;
      // only the moment of the fault is chosen.
      p.connectors.set('ado-main', {
        ...real,
        pull: (opts: PullOptions) =>
          real.pull({
            ...opts,
            onPage: async (items) => {
              await opts.onPage(items);
              p.ado.injectFault({ endpoint: 'POST wit/wiql', status: 200, body: { workItems: 'not-a-list' } });
            },
          }),
      });
      const failed = await p.sync({ reconcile: true });
      expect(failed.connections.map((c) => [c.id, c.status])).toEqual([
        ['jira-main', 'ok'],
        ['ado-main', 'failed'],
      ]);
      expect(failed.connections[1]!.itemsChanged).toBeGreaterThanOrEqual(1);
      // Stored, but neither evaluated nor settled.
      expect(await ownerRequired(ref)).not.toBe('open');
      expect(await queued()).toContain(ref);

      p.connectors.set('ado-main', real);
      const next = await p.sync({ reconcile: true });
      expect(next.connections.map((c) => c.status)).toEqual(['ok', 'ok']);
      expect(await ownerRequired(ref)).toBe('open');
      expect(await queued()).toEqual([]);
    });
  });
}
