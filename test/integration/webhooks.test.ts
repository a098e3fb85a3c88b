// Webhooks end to end: a person's change in a simulator reaches the item's comment through the
// webhook path alone; replays (three times, shuffled, concurrent, two processors) write
// nothing twice; a dropped delivery is repaired by the next pass.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings, webhookInbox, writeAudit } from '../../db/schema.ts';
import { loadReport } from '../../src/report/load.ts';
import { createWebhookProcessor } from '../../src/webhooks/process.ts';
import { NONCOMPLIANT_LABEL } from '../../src/writeback/desired.ts';
import { dbTargets } from '../helpers/db.ts';
import { type HookServer, startHookServer } from '../helpers/hook-server.ts';
import { ADO_HOOK, JIRA_HOOK_SECRET, type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

for (const target of dbTargets()) {
  describe(`webhooks on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    let hooks: HookServer;
    let jiraRef: string;
    let adoRef: string;
    const processor = () =>
      createWebhookProcessor({
        database,
        connectors: p.connectors,
        config: p.config,
        log: p.log,
        stages: p.stages,
        debounceMs: 0,
      });
    const settle = async () => {
      await p.flushDeliveries();
      await processor().drain();
    };
    const openRules = async (ref: string) =>
      (
        await database.db
          .select({ rule: findings.rule, status: findings.status })
          .from(findings)
          .where(eq(findings.ref, ref))
      )
        .filter((f) => f.status === 'open')
        .map((f) => f.rule)
        .sort();
    const writesSoFar = async () =>
      (await database.db.select({ n: sql<number>`count(*)::int` }).from(writeAudit))[0]!.n;

    beforeAll(async () => {
      database = await target.open();
      p = await startPortfolio({ database });
      await p.sync();
      await p.sync();
      hooks = await startHookServer({ db: database.db, connectors: p.connectors, log: p.log });
      p.jira.registerWebhook({ url: `${hooks.url}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });
      p.ado.subscribe({ url: `${hooks.url}/webhooks/azure-devops/ado-main`, ...ADO_HOOK });
      // A compliant, open story without a comment in each tracker.
      const report = await loadReport(database.db, { config: p.config });
      const flagged = new Set(report.findings.filter((f) => f.status === 'open').map((f) => f.ref));
      const pick = (conn: string) =>
        report.items.find(
          (i) =>
            i.connection === conn &&
            i.kind === 'story' &&
            i.statusCategory === 'todo' &&
            i.assignee &&
            !flagged.has(i.ref),
        )!.ref;
      jiraRef = pick('jira-main');
      adoRef = pick('ado-main');
    });
    afterAll(async () => {
      await hooks.close();
      await p.close();
      await database.close();
    });

    it('flags an item seconds after a person changes it, through the webhook path alone', async () => {
      expect([p.botComments(jiraRef).length, p.botComments(adoRef).length]).toEqual([0, 0]);
      for (const ref of [jiraRef, adoRef]) p.edit(ref, { assignee: null });
      await settle();
      expect(await openRules(jiraRef)).toEqual(['owner-required']);
      expect(await openRules(adoRef)).toEqual(['owner-required']);
      expect(p.botComments(jiraRef)).toHaveLength(1);
      expect(p.botComments(adoRef)).toHaveLength(1);
      expect(p.jira.store.getIssue(jiraRef.split(':')[1]!)?.fields.labels).toContain(NONCOMPLIANT_LABEL);
      expect(String(p.ado.store.get(Number(adoRef.split(':')[1])).fields['System.Tags'] ?? '')).toContain(
        NONCOMPLIANT_LABEL,
      );
    });

    it('our own writes coming back as webhooks are echoes and cause no write', async () => {
      const before = await writesSoFar();
      await settle();
      const echoes = await database.db
        .select({ n: sql<number>`count(*)::int` })
        .from(webhookInbox)
        .where(eq(webhookInbox.echo, true));
      expect(echoes[0]!.n).toBeGreaterThan(0);
      expect(await writesSoFar()).toBe(before);
    });

    it('fixing the item turns the comment compliant and removes the label', async () => {
      p.edit(jiraRef, { assignee: { id: 'person-2', name: 'Grace' } });
      p.edit(adoRef, { assignee: { id: 'grace@example.com', name: 'Grace Hopper' } });
      await settle();
      expect(await openRules(jiraRef)).toEqual([]);
      expect(await openRules(adoRef)).toEqual([]);
      expect(p.botComments(jiraRef)).toHaveLength(1);
      expect(p.botComments(jiraRef)[0]).toContain('compliant');
      expect(p.botComments(adoRef)[0]).toContain('compliant');
      expect(p.jira.store.getIssue(jiraRef.split(':')[1]!)?.fields.labels).not.toContain(NONCOMPLIANT_LABEL);
      expect(String(p.ado.store.get(Number(adoRef.split(':')[1])).fields['System.Tags'] ?? '')).not.toContain(
        NONCOMPLIANT_LABEL,
      );
    });

    it('replays every delivery three times, shuffled and concurrent, through two processors: stored once, nothing written', async () => {
      const before = await writesSoFar();
      const inboxBefore = (await database.db.select({ n: sql<number>`count(*)::int` }).from(webhookInbox))[0]!.n;
      const copies = [...hooks.recorded, ...hooks.recorded, ...hooks.recorded];
      for (let i = copies.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [copies[i], copies[j]] = [copies[j]!, copies[i]!];
      }
      const statuses = await Promise.all(copies.map((r) => hooks.replay(r)));
      expect(new Set(statuses)).toEqual(new Set([202]));
      await Promise.all([processor().drain(), processor().drain()]);
      const inboxAfter = (await database.db.select({ n: sql<number>`count(*)::int` }).from(webhookInbox))[0]!.n;
      expect(inboxAfter).toBe(inboxBefore);
      expect(await writesSoFar()).toBe(before);
      for (const ref of [jiraRef, adoRef]) expect(p.botComments(ref)).toHaveLength(1);
    });

    it('a dropped delivery is repaired by the next pass', async () => {
      p.jira.setDeliveryFaults({ drop: true });
      p.edit(jiraRef, { assignee: null });
      await settle();
      expect(await openRules(jiraRef)).toEqual([]);
      p.jira.setDeliveryFaults({ drop: false });
      await p.sync({ reconcile: true });
      expect(await openRules(jiraRef)).toEqual(['owner-required']);
      expect(p.botComments(jiraRef)).toHaveLength(1);
      expect(p.botComments(jiraRef)[0]).not.toContain('PMO check: compliant');
    });
  });
}
