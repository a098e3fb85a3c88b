// On the webhook path, one item the tracker returns in a shape pmo-sync cannot read is
// quarantined at `read` and its batch's other events go through at once: none of them is
// retried or dead-lettered because of it, and the next pass reads it again by key.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings, quarantine, webhookInbox } from '../../db/schema.ts';
import { dbTargets } from '../helpers/db.ts';
import { type HookServer, startHookServer } from '../helpers/hook-server.ts';
import { JIRA_HOOK_SECRET, type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

for (const target of dbTargets()) {
  describe(`an unreadable item in a webhook batch, on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    let hooks: HookServer;

    beforeAll(async () => {
      database = await target.open();
      p = await startPortfolio({ database, jiraEpics: 1, adoEpics: 1 });
      await p.sync();
      hooks = await startHookServer({ db: database.db, connectors: p.connectors, log: p.log });
      p.jira.registerWebhook({ url: `${hooks.url}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });
    });
    afterAll(async () => {
      await hooks.close();
      await p.close();
      await database.close();
    });

    it('quarantines it at read and processes the rest of its batch', async () => {
      const good = p.jira.store.createIssue({
        project: 'PAY',
        issuetype: 'Story',
        summary: 'readable',
        status: 'To Do',
        fields: { assignee: null },
      }).key;
      // Jira's schema says a summary is text: this answer breaks it.
      const bad = p.jira.store.createIssue({ project: 'PAY', issuetype: 'Story', summary: 'x', status: 'To Do' }).key;
      p.jira.store.updateIssue(bad, { summary: 42 });
      await p.jira.flushDeliveries();
      const r = await p.webhookProcessor().drain();
      expect({ retried: r.retried, dead: r.dead }).toEqual({ retried: 0, dead: 0 });
      const events = await database.db.select({ status: webhookInbox.status }).from(webhookInbox);
      expect(events.every((e) => e.status === 'done')).toBe(true);
      const rows = await database.db.select({ ref: quarantine.ref, stage: quarantine.stage }).from(quarantine);
      expect(rows).toEqual([{ ref: `jira-main:${bad}`, stage: 'read' }]);
      const [f] = await database.db
        .select({ status: findings.status })
        .from(findings)
        .where(and(eq(findings.ref, `jira-main:${good}`), eq(findings.rule, 'owner-required')));
      expect(f?.status).toBe('open');

      // Readable again: the next pass reads it by key, stores it and lets it go.
      p.jira.store.updateIssue(bad, { summary: 'fixed' });
      const s = await p.sync();
      expect(s.connections.every((c) => c.status === 'ok')).toBe(true);
      expect(await database.db.select().from(quarantine)).toEqual([]);
    });
  });
}
