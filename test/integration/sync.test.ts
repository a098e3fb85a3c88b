// The main job end to end over both simulators: pull, store, evaluate, roll up, write back.
import { and, eq, isNull } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings, kv, rollups, workItems } from '../../db/schema.ts';
import { loadReport } from '../../src/report/load.ts';
import { dbTargets } from '../helpers/db.ts';
import { type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

for (const target of dbTargets()) {
  describe(`sync over both trackers on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    // Each test gets its own database and trackers, and runs the passes before the one it checks.
    beforeEach(async () => {
      database = await target.open();
      p = await startPortfolio({ database });
    });
    afterEach(async () => {
      await p.close();
      await database.close();
    });

    it('initial sync stores every item, opens findings, rolls up and writes one comment per flagged item', async () => {
      const s = await p.sync();
      expect(
        s.connections.map((c) => ({ id: c.id, status: c.status, pulled: c.itemsPulled, changed: c.itemsChanged })),
      ).toEqual([
        { id: 'jira-main', status: 'ok', pulled: p.jiraKeys.length, changed: p.jiraKeys.length },
        { id: 'ado-main', status: 'ok', pulled: p.adoIds.length, changed: p.adoIds.length },
      ]);
      expect(s.findings.open).toBeGreaterThan(0);
      expect(s.writes.failed).toBe(0);
      expect(s.writes.sent).toBe(s.writes.planned);

      const report = await loadReport(database.db, { config: p.config });
      expect(report.items).toHaveLength(p.jiraKeys.length + p.adoIds.length);
      const scopes = report.rollups.map((r) => r.scope);
      expect(scopes).toContain('portfolio');
      expect(scopes).toContain('program:payments');
      expect(scopes).toContain('project:jira-main:PAY');
      expect(scopes).toContain('project:ado-main:Payments');
      // Compliance = passed checks / applicable checks over every item of the scope.
      const portfolio = report.rollups.find((r) => r.scope === 'portfolio')!;
      const compliance = portfolio.metrics.compliance as number;
      expect(compliance).toBeGreaterThan(0);
      expect(compliance).toBeLessThan(1);

      const flagged = new Set(report.findings.filter((f) => f.status === 'open').map((f) => f.ref));
      const containers = report.items
        .filter((i) => ['epic', 'feature', 'initiative'].includes(i.kind))
        .map((i) => i.ref);
      for (const ref of new Set([...flagged, ...containers])) {
        expect({ ref, comments: p.botComments(ref).length }).toEqual({ ref, comments: 1 });
      }
      for (const item of report.items.filter((i) => !flagged.has(i.ref) && !containers.includes(i.ref))) {
        expect({ ref: item.ref, comments: p.botComments(item.ref).length }).toEqual({ ref: item.ref, comments: 0 });
      }
    });

    it('a second sync over unchanged trackers sends zero writes and reads only what the cursors require', async () => {
      await p.sync(); // the initial sync
      // Our own writes changed items in the trackers: the next pass reads them back once.
      await p.sync();
      const s = await p.sync();
      expect({ planned: s.writes.planned, sent: s.writes.sent, failed: s.writes.failed }).toEqual({
        planned: 0,
        sent: 0,
        failed: 0,
      });
      expect(s.connections.map((c) => ({ id: c.id, changed: c.itemsChanged }))).toEqual([
        { id: 'jira-main', changed: 0 },
        { id: 'ado-main', changed: 0 },
      ]);
      expect(s.connections[1]?.itemsPulled).toBe(0);
    });

    it('an incremental sync reads only the items people edited in either tracker', async () => {
      await p.sync(); // the initial sync
      await p.sync(); // reads our own writes back, so the trackers are settled
      const jiraKey = p.jiraKeys[1]!;
      const adoId = p.adoIds[3]!;
      p.jira.store.updateIssue(jiraKey, { summary: 'Renamed by a person' });
      p.ado.store.update(adoId, { 'System.Title': 'Renamed in Azure DevOps' });
      const s = await p.sync();
      // Jira's JQL compares `updated` to the minute, so its cursor re-reads the last minute's
      // items (they all are, in a test) and the store keeps only the real change.
      expect(s.connections.map((c) => ({ id: c.id, changed: c.itemsChanged }))).toEqual([
        { id: 'jira-main', changed: 1 },
        { id: 'ado-main', changed: 1 },
      ]);
      expect(s.connections[1]?.itemsPulled).toBe(1);
      const titles = await database.db
        .select({ ref: workItems.ref, title: workItems.title })
        .from(workItems)
        .where(eq(workItems.title, 'Renamed by a person'));
      expect(titles).toEqual([{ ref: `jira-main:${jiraKey}`, title: 'Renamed by a person' }]);
    });

    it('a reconcile sweep marks items deleted in the trackers and resolves their findings', async () => {
      await p.sync(); // the initial sync
      const jiraKey = p.jiraKeys[p.jiraKeys.length - 1]!;
      const adoId = p.adoIds[p.adoIds.length - 1]!;
      p.jira.store.deleteIssue(jiraKey);
      p.ado.store.remove(adoId);
      const s = await p.sync({ reconcile: true });
      expect(s.connections.map((c) => ({ id: c.id, deleted: c.itemsDeleted }))).toEqual([
        { id: 'jira-main', deleted: 1 },
        { id: 'ado-main', deleted: 1 },
      ]);
      const open = await database.db
        .select({ ref: findings.ref })
        .from(findings)
        .where(and(eq(findings.status, 'open'), eq(findings.ref, `jira-main:${jiraKey}`)));
      expect(open).toEqual([]);
      const live = await database.db.select({ ref: workItems.ref }).from(workItems).where(isNull(workItems.deletedAt));
      expect(live).toHaveLength(p.jiraKeys.length + p.adoIds.length - 2);
    });

    it('says loudly when a state no longer fits the mapping instead of misclassifying silently', async () => {
      await p.sync(); // the initial sync
      const id = p.adoIds[2]!;
      p.ado.store.update(id, { 'System.State': 'In Review' });
      const s = await p.sync();
      expect(s.warnings).toContain(
        'ado-main: mapping drift: status "In Review": state "In Review" of Feature in Payments is not among the type\'s states; its items are read as todo',
      );
      const [drift] = await database.db.select().from(kv).where(eq(kv.key, 'drift:ado-main'));
      expect((drift!.value as { name: string }[]).map((d) => d.name)).toEqual(['In Review']);
    });

    it('keeps epic rollups for epics only while they exist', async () => {
      await p.sync(); // the initial sync
      const epicScopes = await database.db.select({ scope: rollups.scope }).from(rollups);
      expect(epicScopes.filter((r) => r.scope.startsWith('epic:')).length).toBeGreaterThan(0);
    });
  });
}
