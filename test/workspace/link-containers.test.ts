// Where each dependency link's ends sit on a roadmap (item_links' containers, migration 0021),
// against the walk up the parent chain they replace, on the whole pipeline: after a first sync,
// after an incremental sync that moves a link's target (and a sub-task's story) under another
// epic without touching the item the link is stored under, through the webhook path, and after
// the target is deleted or leaves the connection's scope. The timeline draws its arrows from the stored containers alone, so its
// edges must follow each move.
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, MIGRATIONS_FOLDER } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { loadTimeline } from '../../src/dashboard/workspace/graph.ts';
import { refreshItemRollups } from '../../src/rollups/items.ts';
import { leaveScope } from '../../src/sync/scope.ts';
import { dbTargets } from '../helpers/db.ts';
import { type HookServer, startHookServer } from '../helpers/hook-server.ts';
import { JIRA_HOOK_SECRET, type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

type Row = { source: string; target: string; type: string; s: string | null; t: string | null };

/** The reference: each live end walked up to its epic or feature through work_items, as before 0021. */
const REFERENCE = sql`select l.source, l.target, l.type,
    case when s.ref is null then null when s.kind in ('epic','feature') then s.ref
      when sp.kind in ('epic','feature') then sp.ref when spp.kind in ('epic','feature') then spp.ref else s.ref end as s,
    case when t.ref is null then null when t.kind in ('epic','feature') then t.ref
      when tp.kind in ('epic','feature') then tp.ref when tpp.kind in ('epic','feature') then tpp.ref else t.ref end as t
  from item_links l
  left join work_items s on s.ref = l.source and s.deleted_at is null
  left join work_items t on t.ref = l.target and t.deleted_at is null
  left join work_items sp on sp.ref = s.parent
  left join work_items spp on spp.ref = sp.parent
  left join work_items tp on tp.ref = t.parent
  left join work_items tpp on tpp.ref = tp.parent
  order by 1, 2, 3`;

const STORED = sql`select source, target, type, source_container as s, target_container as t
  from item_links order by 1, 2, 3`;

// Far enough apart that every seeded epic overlaps the window.
const WIDE = { from: '2000-01-01', to: '2100-12-31' };

for (const target of dbTargets()) {
  describe(`link containers on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    let hooks: HookServer | undefined;
    let epics: string[];
    /** Stories by epic key, in the simulator's order. */
    let storiesOf: Map<string, string[]>;

    const stored = () => queryRows<Row>(database.db, STORED);
    const sameAsReference = async () => {
      const rows = await stored();
      expect(rows).toEqual(await queryRows<Row>(database.db, REFERENCE));
      return rows;
    };
    const edges = async () =>
      (await loadTimeline(database.db, p.config, {}, new Date(), WIDE)).edges.map((e) => `${e.from} -> ${e.to}`);
    const jira = (key: string) => `jira-main:${key}`;

    beforeEach(async () => {
      database = await target.open();
      p = await startPortfolio({ database, jiraEpics: 4 });
      const issues = p.jira.store.all();
      epics = issues.filter((i) => (i.fields.issuetype as { name: string }).name === 'Epic').map((i) => i.key);
      storiesOf = new Map(epics.map((e) => [e, [] as string[]]));
      for (const i of issues) {
        const parent = (i.fields.parent as { key?: string } | undefined)?.key;
        if ((i.fields.issuetype as { name: string }).name === 'Story' && parent) storiesOf.get(parent)?.push(i.key);
      }
      // Story of epic 0 blocks a story of epic 1; a sub-task of a story of epic 2 blocks a story of epic 3.
      const [e0, e1, e2, e3] = epics as [string, string, string, string];
      p.jira.linkIssues(storiesOf.get(e0)![0]!, storiesOf.get(e1)![0]!);
      const sub = p.jira.store.createIssue({
        project: 'PAY',
        summary: 'Sub-task of a story',
        issuetype: 'Sub-task',
        parent: storiesOf.get(e2)![0]!,
      });
      p.jira.linkIssues(sub.key, storiesOf.get(e3)![0]!);
      await p.sync();
    });
    afterEach(async () => {
      await hooks?.close();
      hooks = undefined;
      await p.close();
      await database.close();
    });

    it('stores each end under its epic after a first sync, and the timeline draws the arrows between epics', async () => {
      const rows = await sameAsReference();
      const [e0, e1, e2, e3] = epics.map(jira);
      expect(rows.filter((r) => r.type === 'blocks').map((r) => `${r.s} -> ${r.t}`)).toEqual(
        expect.arrayContaining([`${e0} -> ${e1}`, `${e2} -> ${e3}`]),
      );
      expect(await edges()).toEqual(expect.arrayContaining([`${e0} -> ${e1}`, `${e2} -> ${e3}`]));
    });

    it('follows a target and a sub-task moved under other epics through an incremental sync', async () => {
      const [e0, e1, e2, e3] = epics as [string, string, string, string];
      // The link is stored under the story of e0 as well, which is not touched.
      p.jira.store.updateIssue(storiesOf.get(e1)![0]!, { parent: e2 });
      // The sub-task's own fields do not change: its story moves.
      p.jira.store.updateIssue(storiesOf.get(e2)![0]!, { parent: e0 });
      await p.sync();
      await sameAsReference();
      const now = await edges();
      expect(now).toEqual(expect.arrayContaining([`${jira(e0)} -> ${jira(e2)}`, `${jira(e0)} -> ${jira(e3)}`]));
      expect(now).not.toContain(`${jira(e0)} -> ${jira(e1)}`);
      expect(now).not.toContain(`${jira(e2)} -> ${jira(e3)}`);
    });

    it('follows a move through the webhook path alone', async () => {
      hooks = await startHookServer({ db: database.db, connectors: p.connectors, log: p.log });
      p.jira.registerWebhook({ url: `${hooks.url}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });
      const [e0, e1, , e3] = epics as [string, string, string, string];
      p.jira.store.updateIssue(storiesOf.get(e1)![0]!, { parent: e3 });
      await p.flushDeliveries();
      await p.webhookProcessor().drain();
      await sameAsReference();
      const now = await edges();
      expect(now).toContain(`${jira(e0)} -> ${jira(e3)}`);
      expect(now).not.toContain(`${jira(e0)} -> ${jira(e1)}`);
    });

    it('drops the arrow when the item linked to is deleted', async () => {
      const [e0, e1] = epics as [string, string];
      p.jira.store.deleteIssue(storiesOf.get(e1)![0]!);
      await p.sync({ full: true });
      const rows = await sameAsReference();
      // Jira takes the link off the other issue too; a row left behind would name no container.
      expect(rows.filter((r) => r.target === jira(storiesOf.get(e1)![0]!) && r.t !== null)).toEqual([]);
      expect(await edges()).not.toContain(`${jira(e0)} -> ${jira(e1)}`);
    });

    it('drops the arrow at once when the item linked to leaves the scope', async () => {
      const [e0, e1] = epics as [string, string];
      const gone = jira(storiesOf.get(e1)![0]!);
      // The other issue still lists the link in Jira: its row stays, naming no container.
      await leaveScope(database.db, [gone]);
      const rows = await sameAsReference();
      expect(rows.filter((r) => r.target === gone).map((r) => r.t)).toEqual([null]);
      expect(await edges()).not.toContain(`${jira(e0)} -> ${jira(e1)}`);
    });

    it('is filled by its migration on stored links, and by a full refresh', async () => {
      const before = await sameAsReference();
      const fill = readFileSync(`${MIGRATIONS_FOLDER}/0021_link_containers.sql`, 'utf8')
        .split('--> statement-breakpoint')
        .at(-1)!;
      await database.db.execute(sql`update item_links set source_container = null, target_container = 'stale'`);
      await database.db.execute(sql.raw(fill));
      expect(await sameAsReference()).toEqual(before);
      await database.db.execute(sql`update item_links set source_container = 'stale', target_container = null`);
      await database.db.transaction((tx) => refreshItemRollups(tx as never, {}));
      expect(await sameAsReference()).toEqual(before);
    });
  });
}
