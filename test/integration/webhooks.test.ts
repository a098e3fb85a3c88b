// Webhooks end to end: a person's change in a simulator reaches the item's comment through the
// webhook path alone; replays (three times, shuffled, concurrent, two processors) write
// nothing twice; a dropped delivery is repaired by the next pass.
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings, webhookInbox, writeAudit } from '../../db/schema.ts';
import { loadReport } from '../../src/report/load.ts';
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
    const processor = () => p.webhookProcessor();
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

    const jiraKey = () => jiraRef.split(':')[1]!;
    const adoId = () => Number(adoRef.split(':')[1]);
    /** A person unassigns both stories, and the webhook path flags them (comment and label). */
    const unassignBoth = async () => {
      p.jira.store.updateIssue(jiraKey(), { assignee: null });
      p.ado.store.update(adoId(), { 'System.AssignedTo': null });
      await settle();
    };

    // Each test gets its own database, trackers and receiver, synced twice (settled), and arranges
    // the changes before the one it checks.
    beforeEach(async () => {
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
    afterEach(async () => {
      await hooks.close();
      await p.close();
      await database.close();
    });

    it('flags an item seconds after a person changes it, through the webhook path alone', async () => {
      expect([p.botComments(jiraRef).length, p.botComments(adoRef).length]).toEqual([0, 0]);
      await unassignBoth();
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
      await unassignBoth(); // writes a comment and a label on each
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
      await unassignBoth();
      expect(p.jira.store.getIssue(jiraKey())?.fields.labels).toContain(NONCOMPLIANT_LABEL);
      p.jira.store.updateIssue(jiraRef.split(':')[1]!, { assignee: { accountId: 'person-2', displayName: 'Grace' } });
      p.ado.store.update(Number(adoRef.split(':')[1]), { 'System.AssignedTo': 'Grace Hopper <grace@example.com>' });
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
      await unassignBoth();
      await settle(); // the echoes of those writes
      expect(hooks.recorded.length).toBeGreaterThan(0);
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
      // Flagged and fixed through webhooks first: the item carries a compliant comment.
      await unassignBoth();
      p.jira.store.updateIssue(jiraKey(), { assignee: { accountId: 'person-2', displayName: 'Grace' } });
      await settle();
      expect(p.botComments(jiraRef)[0]).toContain('PMO check: compliant');
      p.jira.setFaults({ webhooks: { dropRate: 1 } });
      p.jira.store.updateIssue(jiraRef.split(':')[1]!, { assignee: null });
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
