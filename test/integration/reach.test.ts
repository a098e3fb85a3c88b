// Findings that depend on other items stay current on incremental passes and on the webhook
// path, not only on full syncs: an owner reassigned (the WIP finding of the owner left behind
// resolves), a dependency link dropped (the cycle finding resolves), a child deleted (the
// parent's rollup comment changes), and a cycle three links long closed by its last link.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE } from '../../connectors/jira/simulator/index.ts';
import type { Database } from '../../db/client.ts';
import { findings } from '../../db/schema.ts';
import { dbTargets } from '../helpers/db.ts';
import { type HookServer, startHookServer } from '../helpers/hook-server.ts';
import { JIRA_HOOK_SECRET, type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

type Path = 'incremental sync' | 'signed webhook';

for (const target of dbTargets()) {
  for (const path of ['incremental sync', 'signed webhook'] as Path[]) {
    describe(`dependent findings through ${path} on ${target.name}`, () => {
      let database: Database;
      let p: Portfolio;
      let hooks: HookServer | null = null;
      const ref = (key: string) => `jira-main:${key}`;
      /**
       * Makes what a person changed reach pmo-sync by the path under test. An incremental pull
       * cannot see a deletion: the reconcile pass (incremental, plus the sweep) is what finds it.
       */
      const propagate = async (opts: { reconcile?: boolean } = {}) => {
        if (path === 'incremental sync') {
          const s = await p.sync(opts);
          expect(s.connections.map((c) => c.status)).toEqual(['ok', 'ok']);
          return;
        }
        await p.jira.flushDeliveries();
        const r = await p.webhookProcessor().drain();
        expect(r.dead).toBe(0);
      };
      const open = async (key: string, rule: string) =>
        (
          await database.db
            .select({ status: findings.status })
            .from(findings)
            .where(and(eq(findings.ref, ref(key)), eq(findings.rule, rule)))
        )[0]?.status === 'open';
      const story = (summary: string, fields: Record<string, unknown> = {}, parent?: string) =>
        p.jira.store.createIssue({ project: 'PAY', issuetype: 'Story', summary, status: 'To Do', fields, parent }).key;
      /** Removes the link between two issues on both sides, as a person unlinking them does. */
      const unlink = (a: string, b: string) => {
        for (const [key, other] of [
          [a, b],
          [b, a],
        ] as const) {
          const links =
            (p.jira.store.getIssue(key)!.fields.issuelinks as {
              inwardIssue?: { key: string };
              outwardIssue?: { key: string };
            }[]) ?? [];
          p.jira.store.updateIssue(key, {
            issuelinks: links.filter((l) => (l.inwardIssue ?? l.outwardIssue)?.key !== other),
          });
        }
      };

      beforeAll(async () => {
        database = await target.open();
        p = await startPortfolio({ database, jiraEpics: 2, adoEpics: 1 });
        await p.sync();
        if (path === 'signed webhook') {
          hooks = await startHookServer({ db: database.db, connectors: p.connectors, log: p.log });
          p.jira.registerWebhook({ url: `${hooks.url}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });
        }
      });
      afterAll(async () => {
        await hooks?.close();
        await p.close();
        await database.close();
      });

      it('re-evaluates the WIP of the owner an item was taken from, and of the new one', async () => {
        // Two owners no other seeded item is assigned to; four in-progress stories for the first.
        const [a, b] = [
          { accountId: 'reach-owner-a', displayName: 'Ada Reach' },
          { accountId: 'reach-owner-b', displayName: 'Bo Reach' },
        ];
        const mine = Array.from({ length: 4 }, (_, i) =>
          story(`wip ${i}`, { assignee: a, customfield_10016: 3, description: 'Acceptance criteria: done' }),
        );
        const theirs = Array.from({ length: 3 }, (_, i) => story(`other ${i}`, { assignee: b, customfield_10016: 3 }));
        await propagate();
        for (const k of [...mine, ...theirs]) p.jira.store.updateIssue(k, { status: 'In Progress' });
        await propagate();
        expect(await Promise.all(mine.map((k) => open(k, 'wip-per-owner')))).toEqual([true, true, true, true]);
        expect(await Promise.all(theirs.map((k) => open(k, 'wip-per-owner')))).toEqual([false, false, false]);

        // One of Ada's items goes to Bo: Ada is at the limit again, Bo is over it.
        p.jira.store.updateIssue(mine[0]!, { assignee: b });
        await propagate();
        expect(await Promise.all(mine.slice(1).map((k) => open(k, 'wip-per-owner')))).toEqual([false, false, false]);
        expect(await Promise.all([mine[0]!, ...theirs].map((k) => open(k, 'wip-per-owner')))).toEqual([
          true,
          true,
          true,
          true,
        ]);
      });

      it('resolves a dependency cycle when a link of it is removed, and finds one closed by its last link', async () => {
        // x blocks y blocks z: no cycle yet.
        const [x, y, z] = [story('cycle x'), story('cycle y'), story('cycle z')];
        await propagate();
        p.jira.linkIssues(x, y);
        p.jira.linkIssues(y, z);
        await propagate();
        expect(await Promise.all([x, y, z].map((k) => open(k, 'dependency-cycle')))).toEqual([false, false, false]);
        // z blocks x closes a cycle three links long: every member is flagged, y included,
        // though nothing about y or its own links changed.
        p.jira.linkIssues(z, x);
        await propagate();
        expect(await Promise.all([x, y, z].map((k) => open(k, 'dependency-cycle')))).toEqual([true, true, true]);
        // Dropping x → y breaks it: z, two links from either end of the dropped link, resolves too.
        unlink(x, y);
        await propagate();
        expect(await Promise.all([x, y, z].map((k) => open(k, 'dependency-cycle')))).toEqual([false, false, false]);
      });

      it('flags and clears a cycle six links long at members two links from any change', async () => {
        // Linking or unlinking two issues changes both of them in Jira; the members three and
        // four in the ring are linked to neither end of the link that closes or breaks it.
        const keys = Array.from({ length: 6 }, (_, i) => story(`ring ${i + 1}`));
        await propagate();
        for (let i = 0; i < 5; i++) p.jira.linkIssues(keys[i]!, keys[i + 1]!);
        await propagate();
        expect(await Promise.all(keys.map((k) => open(k, 'dependency-cycle')))).toEqual(Array(6).fill(false));
        p.jira.linkIssues(keys[5]!, keys[0]!);
        await propagate();
        expect(await Promise.all(keys.map((k) => open(k, 'dependency-cycle')))).toEqual(Array(6).fill(true));
        unlink(keys[0]!, keys[1]!);
        await propagate();
        expect(await Promise.all(keys.map((k) => open(k, 'dependency-cycle')))).toEqual(Array(6).fill(false));
      });

      it("changes the parent's rollup comment when a child is deleted", async () => {
        const epic = p.jira.store.createIssue({
          project: 'PAY',
          issuetype: 'Epic',
          summary: 'rollup epic',
          status: 'In Progress',
          fields: { assignee: PEOPLE[1], duedate: '2099-01-01' },
        }).key;
        const kids = [
          story('kid done', { customfield_10016: 5 }, epic),
          story('kid open', { customfield_10016: 3 }, epic),
        ];
        p.jira.store.updateIssue(kids[0]!, { status: 'Done' });
        await propagate();
        // The webhook path sends no writes by itself here: a sync sends what it planned.
        if (path === 'signed webhook') await p.sync();
        const before = p.botComments(ref(epic));
        expect(before).toHaveLength(1);
        expect(before[0]).toContain('1 of 2 items');

        p.jira.store.deleteIssue(kids[1]!);
        await propagate({ reconcile: true });
        if (path === 'signed webhook') await p.sync();
        const after = p.botComments(ref(epic));
        expect(after).toHaveLength(1);
        expect(after[0]).toContain('1 of 1 items');

        // The last child moves to another epic: the epic it left counts none, though the stored
        // child now names only its new parent.
        const other = p.jira.store.createIssue({
          project: 'PAY',
          issuetype: 'Epic',
          summary: 'other epic',
          status: 'To Do',
        });
        await propagate();
        const moved = p.jira.store.getIssue(other.key)!;
        p.jira.store.updateIssue(kids[0]!, {
          parent: { id: moved.id, key: moved.key, self: `${p.jira.url}/rest/api/3/issue/${moved.id}`, fields: {} },
        });
        await propagate();
        if (path === 'signed webhook') await p.sync();
        expect(p.botComments(ref(epic))[0]).toContain('0 of 0 items');
      });
    });
  }
}
