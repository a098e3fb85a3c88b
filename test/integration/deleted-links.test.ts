// A link whose target the tracker deletes ends the same whatever pmo-sync saw before: the target
// stored and then deleted (the clean run), deleted before any pass stored it, or never stored
// while the item holding the link was. The trackers drop the link without touching the item on
// its other end (Jira deletes it with the issue, no `updated` bump; Azure DevOps hides it while
// the item is in the Recycle Bin, no new revision), so only the reconcile sweep reads that item
// again; and a deleted target reads like one never synced. Compared: the open findings and bot
// comments of the item and of its epic, which shows the compliance the item's checks add up to.
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { PERSON } from '../../connectors/azure-devops/simulator/index.ts';
import { PEOPLE } from '../../connectors/jira/simulator/index.ts';
import type { Database } from '../../db/client.ts';
import { findings, workItems } from '../../db/schema.ts';
import { runSync, type SyncOptions } from '../../src/sync/run.ts';
import { dbTargets } from '../helpers/db.ts';
import { startHookServer } from '../helpers/hook-server.ts';
import { JIRA_HOOK_SECRET, type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

/** Every pass of every ordering evaluates at this instant: rollups move by the day. */
const NOW = new Date();

interface Outcome {
  /** Open findings (rule and message) of the item and of its epic. */
  findings: Record<string, string[]>;
  /** Bot comments of the item and of its epic, the simulator's address taken out. */
  comments: Record<string, string[]>;
  /** The links pmo-sync holds for the item. */
  links: unknown;
}

interface Scene {
  p: Portfolio;
  sync(opts?: SyncOptions): Promise<void>;
}

for (const target of dbTargets()) {
  describe(`a link to an item deleted from its tracker on ${target.name}`, () => {
    const open: { database: Database; p: Portfolio }[] = [];
    afterAll(async () => {
      for (const o of open) {
        await o.p.close();
        await o.database.close();
      }
    });

    /** A fresh portfolio, the ordering played on it, and what the item and its epic end with. */
    async function play(order: (s: Scene) => Promise<{ item: string; epic: string }>): Promise<Outcome> {
      const database = await target.open();
      // A comment deleted once compliant: whether a run leaves "compliant" depends on the states
      // it observed (the clean run saw the story flagged for its blocker), not on the final one.
      const p = await startPortfolio({ database, jiraEpics: 1, adoEpics: 1, whenCompliant: 'delete' });
      open.push({ database, p });
      const sync = async (opts: SyncOptions = {}) => {
        const s = await runSync(
          { database, config: p.config, connectors: p.connectors, log: p.log, pipeline: p.pipeline, now: () => NOW },
          opts,
        );
        expect(s.connections.map((c) => c.status)).toEqual(['ok', 'ok']);
      };
      const { item, epic } = await order({ p, sync });
      const norm = (t: string) => t.split(p.jira.url).join('<jira>').split(p.ado.url).join('<ado>');
      const rows = await database.db
        .select({ ref: findings.ref, rule: findings.rule, message: findings.message })
        .from(findings)
        .where(eq(findings.status, 'open'));
      const [stored] = await database.db
        .select({ links: workItems.links })
        .from(workItems)
        .where(eq(workItems.ref, item));
      return {
        findings: Object.fromEntries(
          [item, epic].map((r) => [
            r,
            rows
              .filter((f) => f.ref === r)
              .map((f) => `${f.rule}: ${norm(f.message)}`)
              .sort(),
          ]),
        ),
        comments: Object.fromEntries([item, epic].map((r) => [r, p.botComments(r).map(norm)])),
        links: stored?.links,
      };
    }

    describe('in Jira', () => {
      /** An epic, a story in it due before its blocker, and the blocker: "blocker blocks story". */
      const jiraScene = (p: Portfolio, opts: { blockerUnsearchable?: boolean } = {}) => {
        const epic = p.jira.store.createIssue({
          project: 'PAY',
          issuetype: 'Epic',
          summary: 'deletion epic',
          status: 'In Progress',
          fields: { assignee: PEOPLE[1], duedate: '2099-06-30' },
        }).key;
        const story = p.jira.store.createIssue({
          project: 'PAY',
          issuetype: 'Story',
          summary: 'blocked story',
          status: 'To Do',
          parent: epic,
          fields: { assignee: PEOPLE[2], duedate: '2099-03-01', customfield_10016: 3 },
        }).key;
        // Search does not see an issue until its indexing lag has passed (an hour here).
        if (opts.blockerUnsearchable) p.jira.setFaults({ searchLagMs: 3_600_000 });
        const blocker = p.jira.store.createIssue({
          project: 'PAY',
          issuetype: 'Story',
          summary: 'blocker',
          status: 'To Do',
          fields: { duedate: '2099-05-01' },
        }).key;
        if (opts.blockerUnsearchable) p.jira.setFaults({ searchLagMs: 0 });
        p.jira.linkIssues(blocker, story);
        return { epic, story, blocker, ref: (k: string) => `jira-main:${k}` };
      };

      let clean: Outcome;
      it('a blocker stored, then deleted: the link goes, and with it every dependency check', async () => {
        clean = await play(async ({ p, sync }) => {
          const s = jiraScene(p);
          await sync();
          // Stored with its link, the story is flagged: its blocker is due after it.
          const flagged = await p.database.db
            .select({ rule: findings.rule, status: findings.status })
            .from(findings)
            .where(eq(findings.ref, s.ref(s.story)));
          expect(flagged.filter((f) => f.status === 'open').map((f) => f.rule)).toContain('blocker-due-after-item');
          const before = p.jira.store.getIssue(s.story)!.fields.updated;
          p.jira.store.deleteIssue(s.blocker);
          // Jira drops the link on the story without touching it.
          expect(p.jira.store.getIssue(s.story)!.fields).toMatchObject({ issuelinks: [], updated: before });
          await sync({ reconcile: true });
          await sync({ reconcile: true });
          return { item: s.ref(s.story), epic: s.ref(s.epic) };
        });
        const [story, epic] = Object.keys(clean.findings);
        expect({ story: clean.findings[story!], links: clean.links, comments: clean.comments[story!] }).toEqual({
          story: [],
          links: [],
          comments: [],
        });
        expect(clean.comments[epic!]).toHaveLength(1);
      });

      it('a blocker deleted before any pass stored it ends the same', async () => {
        const faulty = await play(async ({ p, sync }) => {
          const s = jiraScene(p);
          p.jira.store.deleteIssue(s.blocker);
          await sync();
          await sync({ reconcile: true });
          return { item: s.ref(s.story), epic: s.ref(s.epic) };
        });
        expect(faulty).toEqual(clean);
      });

      it('a story stored with its link while the blocker never was, then the blocker deleted, ends the same', async () => {
        const faulty = await play(async ({ p, sync }) => {
          const s = jiraScene(p, { blockerUnsearchable: true });
          await sync();
          await sync({ reconcile: true });
          // The story holds a link to an item pmo-sync never stored.
          const [row] = await p.database.db
            .select({ links: workItems.links })
            .from(workItems)
            .where(eq(workItems.ref, s.ref(s.story)));
          expect(row?.links).toEqual([{ type: 'blocked_by', target: s.ref(s.blocker) }]);
          p.jira.store.deleteIssue(s.blocker);
          await sync({ reconcile: true });
          return { item: s.ref(s.story), epic: s.ref(s.epic) };
        });
        expect(faulty).toEqual(clean);
      });
      it('a blocker deleted as a webhook tells it, its linkers read again by the webhook processor, ends the same', async () => {
        const faulty = await play(async ({ p, sync }) => {
          const s = jiraScene(p);
          await sync();
          // jira:issue_deleted, signed, through the receiver and the webhook processor, which
          // reads again the items linked to what it deleted: the story, whose link Jira took off
          // unannounced.
          const hooks = await startHookServer({ db: p.database.db, connectors: p.connectors, log: p.log });
          p.jira.registerWebhook({ url: `${hooks.url}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });
          p.jira.store.deleteIssue(s.blocker);
          await p.jira.flushDeliveries();
          await hooks.close();
          const r = await p.webhookProcessor().drain();
          expect({ processed: r.processed > 0, dead: r.dead }).toEqual({ processed: true, dead: 0 });
          const [row] = await p.database.db
            .select({ links: workItems.links, deletedAt: workItems.deletedAt })
            .from(workItems)
            .where(eq(workItems.ref, s.ref(s.story)));
          expect(row).toEqual({ links: [], deletedAt: null });
          await sync();
          return { item: s.ref(s.story), epic: s.ref(s.epic) };
        });
        expect(faulty).toEqual(clean);
      });
    });

    describe('in Azure DevOps', () => {
      /** A user story under the seeded epic's first feature, with a predecessor. */
      const adoScene = (p: Portfolio) => {
        const store = p.ado.store;
        const feature = p.adoIds.find((id) => store.get(id).fields['System.WorkItemType'] === 'Feature')!;
        const epic = Number(store.get(feature).fields['System.Parent']);
        const blocker = store.create({
          project: 'Payments',
          type: 'User Story',
          title: 'predecessor',
          fields: { 'Microsoft.VSTS.Scheduling.TargetDate': '2099-05-01T00:00:00Z' },
        }).id;
        const story = store.create({
          project: 'Payments',
          type: 'User Story',
          title: 'successor',
          parentId: feature,
          fields: {
            'System.AssignedTo': PERSON,
            'Microsoft.VSTS.Scheduling.TargetDate': '2099-03-01T00:00:00Z',
            'Microsoft.VSTS.Scheduling.StoryPoints': 3,
          },
          relations: [
            {
              rel: 'System.LinkTypes.Dependency-Reverse',
              url: store.relationUrl(blocker),
              attributes: { isLocked: false, name: 'Predecessor' },
            },
          ],
        }).id;
        return { epic: `ado-main:${epic}`, story, blocker, ref: (id: number) => `ado-main:${id}` };
      };

      let clean: Outcome;
      it('a predecessor stored, then deleted: the relation is hidden, and the story read again', async () => {
        clean = await play(async ({ p, sync }) => {
          const s = adoScene(p);
          await sync();
          const rev = p.ado.store.get(s.story).rev;
          p.ado.store.remove(s.blocker);
          expect(p.ado.store.get(s.story).rev).toBe(rev);
          await sync({ reconcile: true });
          await sync({ reconcile: true });
          return { item: s.ref(s.story), epic: s.epic };
        });
        expect(clean.links).toEqual([]);
      });

      it('a predecessor deleted before any pass stored it ends the same', async () => {
        const faulty = await play(async ({ p, sync }) => {
          const s = adoScene(p);
          p.ado.store.remove(s.blocker);
          await sync();
          await sync({ reconcile: true });
          return { item: s.ref(s.story), epic: s.epic };
        });
        expect(faulty).toEqual(clean);
      });
    });
  });
}
