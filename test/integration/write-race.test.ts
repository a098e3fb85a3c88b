// A pass and the write worker on the same item: a person edits the item while pmo-sync's write
// to it is in flight. The write in flight lands, the pass that saw the edit plans the write the
// edit calls for, and once the worker is done the tracker shows the latest state: one bot
// comment, with the text the last edit calls for, and no write left waiting or duplicated.
import { and, eq, gt, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, EnsureCommentInput } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { appliedState, findings, writeAudit, writeOutbox } from '../../db/schema.ts';
import { loadReport } from '../../src/report/load.ts';
import { dbTargets } from '../helpers/db.ts';
import { type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

for (const target of dbTargets()) {
  describe(`a pass racing the write worker on one item, on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    let real: Connector;

    beforeAll(async () => {
      database = await target.open();
      p = await startPortfolio({ database, whenCompliant: 'delete' });
      await p.sync();
      await p.sync();
      real = p.connectors.get('jira-main')!;
    });
    afterAll(async () => {
      p.connectors.set('jira-main', real);
      await p.close();
      await database.close();
    });

    it('ends with the comment of the last edit when the item changes while its write is in flight', async () => {
      const report = await loadReport(database.db, { config: p.config });
      const flagged = new Set(report.findings.filter((f) => f.status === 'open').map((f) => f.ref));
      const story = report.items.find(
        (i) =>
          i.connection === 'jira-main' &&
          i.kind === 'story' &&
          i.statusCategory === 'todo' &&
          i.assignee &&
          !flagged.has(i.ref),
      )!;
      const key = story.ref.slice('jira-main:'.length);
      const assignee = p.jira.store.getIssue(key)!.fields.assignee;
      expect(p.botComments(story.ref)).toEqual([]);

      // The comment write for this item waits in the connector, after its request is decided,
      // until the test lets it go: a write in flight.
      let entered!: () => void;
      const inFlight = new Promise<void>((r) => {
        entered = r;
      });
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      p.connectors.set('jira-main', {
        ...real,
        async ensureComment(input: EnsureCommentInput) {
          if (input.key !== key) return real.ensureComment(input);
          entered();
          await gate;
          return real.ensureComment(input);
        },
      });

      // A person unassigns it: the pass flags it and its worker starts the comment.
      p.jira.store.updateIssue(key, { assignee: null });
      const first = p.sync();
      await inFlight;
      // While that write is in flight the person assigns it again: a second pass sees the
      // item compliant again, while the flagging comment has not landed yet.
      p.jira.store.updateIssue(key, { assignee });
      const second = await p.sync();
      expect(second.connections.map((c) => c.status)).toEqual(['ok', 'ok']);
      release();
      await first;
      p.connectors.set('jira-main', real);
      // Whatever the worker left for later is sent by the next pass.
      await p.sync();

      const open = await database.db
        .select({ rule: findings.rule })
        .from(findings)
        .where(and(eq(findings.ref, story.ref), eq(findings.status, 'open')));
      expect(open).toEqual([]);
      // Compliant with whenCompliant: delete: no comment, not the stale flagging one.
      expect(p.botComments(story.ref)).toEqual([]);
      const waiting = await database.db
        .select({ id: writeOutbox.id })
        .from(writeOutbox)
        .where(and(eq(writeOutbox.ref, story.ref), inArray(writeOutbox.status, ['pending', 'in_flight'])));
      expect(waiting).toEqual([]);
    });

    it('re-reads a write whose answer was lost before recording it, and sends it once', async () => {
      const report = await loadReport(database.db, { config: p.config });
      const flagged = new Set(report.findings.filter((f) => f.status === 'open').map((f) => f.ref));
      const story = report.items.find(
        (i) =>
          i.connection === 'jira-main' &&
          i.kind === 'story' &&
          i.statusCategory === 'todo' &&
          i.assignee &&
          !flagged.has(i.ref) &&
          p.botComments(i.ref).length === 0,
      )!;
      const key = story.ref.slice('jira-main:'.length);
      // The comment reaches Jira, and the answer is lost on the way back (a reset after sending):
      // the worker cannot know whether it was applied.
      let lost = 0;
      p.connectors.set('jira-main', {
        ...real,
        async ensureComment(input: EnsureCommentInput) {
          const r = await real.ensureComment(input);
          if (input.key === key && lost++ === 0) throw new Error('other side closed: the answer was lost');
          return r;
        },
      });
      const before = (await database.db.select({ id: writeAudit.id }).from(writeAudit)).length;
      p.jira.store.updateIssue(key, { assignee: null });
      await p.sync();
      expect(p.botComments(story.ref)).toHaveLength(1);
      const rows = await database.db
        .select({ status: writeOutbox.status })
        .from(writeOutbox)
        .where(and(eq(writeOutbox.ref, story.ref), eq(writeOutbox.target, 'comment')));
      expect(rows.map((r) => r.status)).toContain('pending');
      // Its backoff over (the clock moved on), the retry reads the comment back instead of
      // posting it again, and records it applied.
      await database.db
        .update(writeOutbox)
        .set({ nextAttemptAt: new Date(0).toISOString() })
        .where(eq(writeOutbox.ref, story.ref));
      await p.sync();
      p.connectors.set('jira-main', real);
      expect(p.botComments(story.ref)).toHaveLength(1);
      const audit = await database.db
        .select({ id: writeAudit.id, action: writeAudit.action })
        .from(writeAudit)
        .where(and(eq(writeAudit.ref, story.ref), eq(writeAudit.target, 'comment'), gt(writeAudit.id, before)))
        .orderBy(writeAudit.id);
      expect(audit.map((a) => a.action)).toEqual(['error', 'unchanged']);
      const [applied] = await database.db
        .select({ externalId: appliedState.externalId })
        .from(appliedState)
        .where(and(eq(appliedState.ref, story.ref), eq(appliedState.target, 'comment')));
      expect(applied?.externalId).toBeTruthy();
    });
  });
}
