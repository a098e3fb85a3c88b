// Write-back guarantees: people's concurrent edits survive, dry-run sends nothing, and a
// compliant item's comment can be removed by config. Crash safety: writeback-crash.slow.test.ts.
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { appliedState, writeOutbox } from '../../db/schema.ts';
import { loadReport } from '../../src/report/load.ts';
import { listWrites, retryDeadWrites } from '../../src/writeback/admin.ts';
import { NONCOMPLIANT_LABEL } from '../../src/writeback/desired.ts';
import { createWriteWorker } from '../../src/writeback/worker.ts';
import { dbTargets } from '../helpers/db.ts';
import { type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

for (const target of dbTargets()) {
  describe(`write-back on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    beforeAll(async () => {
      database = await target.open();
      p = await startPortfolio({ database, mode: 'dry-run', whenCompliant: 'delete' });
    });
    afterAll(async () => {
      await p.close();
      await database.close();
    });

    /** A Jira story not yet started, with an assignee and no open finding: unassigning flags it. */
    const compliantJiraStory = async () => {
      const report = await loadReport(database.db, { config: p.config });
      const flagged = new Set(report.findings.filter((f) => f.status === 'open').map((f) => f.ref));
      return report.items.find(
        (i) =>
          i.connection === 'jira-main' &&
          i.kind === 'story' &&
          i.statusCategory === 'todo' &&
          i.assignee &&
          !flagged.has(i.ref),
      )!;
    };

    it('dry-run plans every write, visibly, and sends none', async () => {
      const s = await p.sync();
      expect(s.mode).toBe('dry-run');
      expect(s.writes.planned).toBeGreaterThan(0);
      expect(s.writes.sent).toBe(0);
      const rows = await database.db.select({ status: writeOutbox.status }).from(writeOutbox);
      expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['planned']));
      expect(rows).toHaveLength(s.writes.planned);
      const report = await loadReport(database.db, { config: p.config });
      for (const i of report.items) expect(p.botComments(i.ref)).toEqual([]);
      // Planning again changes nothing: the planned rows are updated in place.
      const again = await p.sync({ full: true });
      const rows2 = await database.db.select({ n: sql<number>`count(*)::int` }).from(writeOutbox);
      expect(rows2[0]!.n).toBe(rows.length);
      expect(again.writes.sent).toBe(0);
    });

    it('never drops labels or tags a person added between our read and our write', async () => {
      // Plan for real, then let people tag the flagged items before the worker runs.
      await database.db.update(writeOutbox).set({ status: 'pending' }).where(eq(writeOutbox.status, 'planned'));
      const labelRows = await database.db
        .select({ ref: writeOutbox.ref })
        .from(writeOutbox)
        .where(eq(writeOutbox.target, 'labels'));
      const jiraRef = labelRows.map((r) => r.ref).find((r) => r.startsWith('jira-main:'))!;
      const adoRef = labelRows.map((r) => r.ref).find((r) => r.startsWith('ado-main:'))!;
      const jiraKey = jiraRef.split(':')[1]!;
      const adoId = Number(adoRef.split(':')[1]);
      const jiraLabels = (p.jira.store.getIssue(jiraKey)?.fields.labels as string[]) ?? [];
      p.jira.store.updateIssue(jiraKey, { labels: [...jiraLabels, 'customer-escalation'] });
      p.ado.store.update(adoId, { 'System.Tags': 'customer-escalation' });

      const r = await createWriteWorker({ database, connectors: p.connectors, log: p.log }).drain();
      expect(r.failed + r.dead).toBe(0);
      expect(p.jira.store.getIssue(jiraKey)?.fields.labels).toEqual(
        expect.arrayContaining(['customer-escalation', NONCOMPLIANT_LABEL]),
      );
      const tags = String(p.ado.store.get(adoId).fields['System.Tags'])
        .split(';')
        .map((t) => t.trim());
      expect(tags).toEqual(expect.arrayContaining(['customer-escalation', NONCOMPLIANT_LABEL]));
    });

    it('dead-letters a write the tracker keeps refusing, shows it, and sends it when retried', async () => {
      p.config.mode = 'enforce';
      const story = await compliantJiraStory();
      p.jira.store.updateIssue(story.key, { assignee: null });
      await p.sync({ connections: ['jira-main'], dryRun: true });
      await database.db.update(writeOutbox).set({ status: 'pending' }).where(eq(writeOutbox.status, 'planned'));
      p.jira.failNext({ endpoint: 'POST issue/{key}/comment', kind: 400, times: 1 });
      const worker = createWriteWorker({ database, connectors: p.connectors, log: p.log, maxAttempts: 1 });
      const first = await worker.drain();
      expect(first.dead).toBe(1);
      const dead = await listWrites(database.db, { statuses: ['dead'] });
      expect(dead.map((d) => ({ ref: d.ref, target: d.target, attempts: d.attempts }))).toEqual([
        { ref: story.ref, target: 'comment', attempts: 1 },
      ]);
      expect(dead[0]!.lastError).toMatch(/400/);
      expect(p.botComments(story.ref)).toEqual([]);
      expect(await retryDeadWrites(database.db)).toEqual({ retried: 1, superseded: 0 });
      const second = await worker.drain();
      expect({ sent: second.sent, dead: second.dead }).toEqual({ sent: 1, dead: 0 });
      expect(p.botComments(story.ref)).toHaveLength(1);
      p.jira.store.updateIssue(story.key, { assignee: { accountId: 'person-2', displayName: 'Grace' } });
      await p.sync();
    });

    it('charges a write nothing for workers that died sending it, and dead-letters one that stops every worker', async () => {
      p.config.mode = 'enforce';
      const story = await compliantJiraStory();
      const assignee = p.jira.store.getIssue(story.key)?.fields.assignee;
      p.jira.store.updateIssue(story.key, { assignee: null });
      await p.sync({ connections: ['jira-main'], dryRun: true });
      await database.db.update(writeOutbox).set({ status: 'pending' }).where(eq(writeOutbox.status, 'planned'));
      const row = async () =>
        (
          await database.db
            .select()
            .from(writeOutbox)
            .where(and(eq(writeOutbox.ref, story.ref), eq(writeOutbox.target, 'comment')))
            .orderBy(writeOutbox.id)
        ).at(-1)!;
      // Five workers claimed it and were killed mid-send: each left the row in flight under a
      // lease that has run out.
      const diedHolding = (times: number) =>
        database.db.execute(sql`
          update write_outbox set status = 'in_flight', attempts = attempts + ${times}, leased_by = 'killed',
            lease_until = now() - interval '1 second'
          where ref = ${story.ref} and target = 'comment' and status = 'pending'`);
      await diedHolding(5);
      p.jira.failNext({ endpoint: 'POST issue/{key}/comment', kind: 400, times: 1 });
      const worker = createWriteWorker({ database, connectors: p.connectors, log: p.log, maxAttempts: 2 });
      const first = await worker.drain();
      expect({ failed: first.failed, dead: first.dead }).toEqual({ failed: 1, dead: 0 });
      const waiting = await row();
      expect({ status: waiting.status, attempts: waiting.attempts, failures: waiting.failures }).toEqual({
        status: 'pending',
        attempts: 6,
        failures: 1,
      });
      // The first backoff step (about a second), not the sixth.
      const [{ waitMs }] = (await queryRows<{ waitMs: number }>(
        database.db,
        sql`select extract(epoch from next_attempt_at - updated_at) * 1000 as "waitMs" from write_outbox where id = ${waiting.id}`,
      )) as [{ waitMs: number }];
      expect(Number(waitMs)).toBeLessThan(1500);
      await database.db.update(writeOutbox).set({ nextAttemptAt: sql`now()` }).where(eq(writeOutbox.id, waiting.id));
      expect((await worker.drain()).sent).toBe(1);
      expect(p.botComments(story.ref)).toHaveLength(1);

      // A write that stops every worker taking it is dead-lettered after maxLeaseExpiries: three
      // workers died holding this one.
      const [{ id }] = await database.db
        .insert(writeOutbox)
        .values({
          connection: 'jira-main',
          ref: story.ref,
          target: 'fields',
          payload: { fields: {} },
          desiredHash: 'never-sent',
          status: 'in_flight',
          attempts: 3,
          leasedBy: 'killed',
          leaseUntil: sql`now() - interval '1 second'`,
        })
        .returning({ id: writeOutbox.id });
      const killer = createWriteWorker({ database, connectors: p.connectors, log: p.log, maxLeaseExpiries: 3 });
      expect((await killer.drain()).claimed).toBe(0);
      const dead = await listWrites(database.db, { statuses: ['dead'] });
      expect(dead.find((d) => d.id === id)).toMatchObject({
        attempts: 3,
        failures: 0,
        lastError: expect.stringMatching(/lease expired 3 times/),
      });
      await database.db.delete(writeOutbox).where(eq(writeOutbox.id, id));
      p.jira.store.updateIssue(story.key, { assignee });
      await p.sync();
    });

    it('removes the bot comment once an item is compliant when configured to', async () => {
      p.config.mode = 'enforce';
      await p.sync();
      const story = await compliantJiraStory();
      const key = story.key;
      const assignee = p.jira.store.getIssue(key)?.fields.assignee as { accountId: string; displayName: string };
      p.jira.store.updateIssue(key, { assignee: null });
      await p.sync();
      expect(p.botComments(story.ref)).toHaveLength(1);
      p.jira.store.updateIssue(key, { assignee });
      await p.sync();
      expect(p.botComments(story.ref)).toEqual([]);
      const [applied] = await database.db
        .select()
        .from(appliedState)
        .where(and(eq(appliedState.ref, story.ref), eq(appliedState.target, 'comment')));
      expect(applied?.hash).toBe('deleted');
      expect(p.jira.store.getIssue(key)?.fields.labels).not.toContain(NONCOMPLIANT_LABEL);
    });
  });
}
