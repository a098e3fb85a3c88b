// The trend's groups (trend_group_days, db/migrations/0020_trend_groups.sql) against the per-epic
// sum they replace, on the whole pipeline: days of snapshots written by hand, then an epic's
// owner and another's team changed by a person, through an incremental sync and through the
// webhook path. After each commit the groups hold exactly the per-epic sums of their members
// (history moved with the epic), and under every filter the trend's figures are the reference's.
import { type SQL, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { itemRollups, rollupSnapshots } from '../../db/schema.ts';
import type { Config } from '../../src/config/schema.ts';
import { ITEM_ROLLUP_SCOPE, type ScopeFilter, scopeCondition } from '../../src/http/scope.ts';
import { type TrendSums, trendSums } from '../../src/workspace/queries.ts';
import { dbTargets } from '../helpers/db.ts';
import { type HookServer, startHookServer } from '../helpers/hook-server.ts';
import { ADO_HOOK, JIRA_HOOK_SECRET, type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

const FROM = '2000-01-01';

/** The reference: every included epic's snapshot of each day, summed one epic at a time. */
function perEpicSums(config: Config, f: ScopeFilter): SQL {
  const r = itemRollups;
  const where = scopeCondition(config, f, ITEM_ROLLUP_SCOPE) ?? sql`true`;
  return sql`select s.day::text as day,
      count(*) filter (where s.health = 'green')::int as green,
      count(*) filter (where s.health = 'amber')::int as amber,
      count(*) filter (where s.health = 'red')::int as red,
      count(*)::int as total,
      sum(s.points_done) as points_done, sum(s.points_total) as points_total,
      sum(s.counts_done) as done, sum(s.counts_total - s.counts_removed) as counted
    from ${rollupSnapshots} s join ${r} on 'epic:' || ${r.ref} = s.scope
    where ${r.kind} = 'epic' and ${r.statusCategory} <> 'removed' and ${where} and s.day >= ${FROM}::date
    group by s.day order by s.day`;
}

const numbers = (rows: TrendSums[]) =>
  rows.map((r) => ({
    day: String(r.day),
    green: Number(r.green),
    amber: Number(r.amber),
    red: Number(r.red),
    total: Number(r.total),
    pointsDone: Number(r.points_done ?? 0),
    pointsTotal: Number(r.points_total ?? 0),
    done: Number(r.done ?? 0),
    counted: Number(r.counted ?? 0),
  }));

for (const target of dbTargets()) {
  describe(`trend groups on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    let hooks: HookServer | undefined;

    const sums = async (q: SQL) => numbers(await queryRows<TrendSums>(database.db, q));
    /** Each group's stored days against its members' snapshots summed afresh. */
    const groupsAgainstMembers = async () => {
      const stored = await queryRows(
        database.db,
        sql`select day::text, connection, project, tracker, team, owner_id, owner_name, epics, green, amber, red,
            points_done::float8, points_total::float8, counts_done::float8, counted::float8
          from trend_group_days where epics <> 0 order by 1, 2, 3, 4, 5, 6, 7`,
      );
      const afresh = await queryRows(
        database.db,
        sql`select s.day::text, m.connection, m.project, m.tracker, m.team, m.owner_id, m.owner_name,
            count(*)::int as epics, count(*) filter (where s.health = 'green')::int as green,
            count(*) filter (where s.health = 'amber')::int as amber,
            count(*) filter (where s.health = 'red')::int as red,
            coalesce(sum(s.points_done), 0) as points_done, coalesce(sum(s.points_total), 0) as points_total,
            coalesce(sum(s.counts_done), 0) as counts_done,
            coalesce(sum(s.counts_total - s.counts_removed), 0) as counted
          from trend_members m join rollup_snapshots s on s.scope = 'epic:' || m.ref
          group by 1, 2, 3, 4, 5, 6, 7 order by 1, 2, 3, 4, 5, 6, 7`,
      );
      expect(stored).toEqual(afresh);
    };
    /** Epics whose recorded attributes differ from item_rollups (the trend corrects for them). */
    const moved = async () =>
      (
        await queryRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from item_rollups c full join trend_members m on m.ref = c.ref
            where (c.kind = 'epic' and c.status_category <> 'removed') is distinct from (m.ref is not null)
              or (m.ref is not null and (c.connection, c.project, c.tracker, c.team, c.owner_id, c.owner_name)
                is distinct from (m.connection, m.project, m.tracker, m.team, m.owner_id, m.owner_name))`,
        )
      )[0]!.n;
    const epicsNow = () =>
      queryRows<{ ref: string; connection: string; team: string | null; owner_id: string | null }>(
        database.db,
        sql`select ref, connection, team, owner_id from item_rollups
          where kind = 'epic' and status_category <> 'removed' order by ref`,
      );
    /** Under each filter the epics now have, the trend's sums are the per-epic reference's. */
    const sameUnderEveryFilter = async () => {
      const epics = await epicsNow();
      const filters: ScopeFilter[] = [
        {},
        { tracker: 'jira' },
        { tracker: 'azure-devops' },
        { connection: 'jira-main', project: 'PAY' },
        { program: 'payments' },
        ...[...new Set(epics.map((e) => e.team).filter((t) => t !== null))].map((team) => ({ team: team! })),
        ...[...new Set(epics.map((e) => e.owner_id).filter((o) => o !== null))].map((owner) => ({ owner: owner! })),
        { owner: 'nobody' },
      ];
      for (const f of filters) {
        const reference = await sums(perEpicSums(p.config, f));
        expect(await sums(trendSums(p.config, f, FROM)), JSON.stringify(f)).toEqual(reference);
      }
      return filters.length;
    };

    beforeEach(async () => {
      database = await target.open();
      p = await startPortfolio({ database });
      await p.sync();
      await p.sync();
      // Five earlier days of every scope, health varied, written as any writer would.
      await database.db.execute(sql`insert into rollup_snapshots (day, scope, percent_complete, health, metrics)
        select day - n, scope, percent_complete,
          case when abs(hashtext(scope) + n) % 3 = 0 then 'amber' when abs(hashtext(scope) + n) % 5 = 0 then 'red'
            else health end,
          jsonb_set(metrics, '{points,done}', to_jsonb(n))
        from rollup_snapshots cross join generate_series(1, 5) n`);
    });
    afterEach(async () => {
      await hooks?.close();
      hooks = undefined;
      await p.close();
      await database.close();
    });

    it('holds each group as its members summed, and the trend equals the per-epic sum', async () => {
      expect((await epicsNow()).length).toBe(5);
      expect(await moved()).toBe(0);
      await groupsAgainstMembers();
      expect(await sameUnderEveryFilter()).toBeGreaterThan(6);
    });

    it("moves an epic's history with its new owner and team through an incremental sync", async () => {
      const [jiraEpic] = (await epicsNow()).filter((e) => e.connection === 'jira-main');
      const [adoEpic] = (await epicsNow()).filter((e) => e.connection === 'ado-main');
      p.edit(jiraEpic!.ref, { assignee: { id: 'acct-new-owner', name: 'New Owner' } });
      // The area path alone: the team it gives is read from the tracker's JSON.
      p.ado.store.update(Number(adoEpic!.ref.split(':')[1]), { 'System.AreaPath': 'Payments\\Moved' });
      await p.sync();
      const after = new Map((await epicsNow()).map((e) => [e.ref, e]));
      expect(after.get(jiraEpic!.ref)?.owner_id).toBe('acct-new-owner');
      expect(after.get(adoEpic!.ref)?.team).toBe('Payments\\Moved');
      expect(await moved()).toBe(0);
      await groupsAgainstMembers();
      await sameUnderEveryFilter();
      const owned = await sums(trendSums(p.config, { owner: 'acct-new-owner' }, FROM));
      expect(owned.map((d) => d.total)).toEqual([1, 1, 1, 1, 1, 1]);
    });

    it('moves it through the webhook path alone', async () => {
      hooks = await startHookServer({ db: database.db, connectors: p.connectors, log: p.log });
      p.jira.registerWebhook({ url: `${hooks.url}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });
      p.ado.subscribe({ url: `${hooks.url}/webhooks/azure-devops/ado-main`, ...ADO_HOOK });
      const [jiraEpic] = (await epicsNow()).filter((e) => e.connection === 'jira-main');
      const [adoEpic] = (await epicsNow()).filter((e) => e.connection === 'ado-main');
      p.jira.store.updateIssue(jiraEpic!.ref.split(':')[1]!, { assignee: null });
      p.ado.store.update(Number(adoEpic!.ref.split(':')[1]), { 'System.AreaPath': 'Payments\\Hooked' });
      await p.flushDeliveries();
      await p.webhookProcessor().drain();
      const after = new Map((await epicsNow()).map((e) => [e.ref, e]));
      expect(after.get(adoEpic!.ref)?.team).toBe('Payments\\Hooked');
      expect(after.get(jiraEpic!.ref)?.owner_id).not.toBe(jiraEpic!.owner_id);
      expect(await moved()).toBe(0);
      await groupsAgainstMembers();
      await sameUnderEveryFilter();
    });

    it('corrects for epics item_rollups moved before their groups were', async () => {
      // Written around the refresh: the groups still hold the epic under its old owner.
      const [epic] = await epicsNow();
      await database.db.execute(sql`update item_rollups set owner_id = 'acct-elsewhere' where ref = ${epic!.ref}`);
      await database.db.execute(
        sql`update item_rollups set status_category = 'removed' where kind = 'epic' and ref <> ${epic!.ref}
          and ref = (select max(ref) from item_rollups where kind = 'epic')`,
      );
      expect(await moved()).toBe(2);
      await sameUnderEveryFilter();
      expect((await sums(trendSums(p.config, { owner: 'acct-elsewhere' }, FROM))).map((d) => d.total)).toEqual([
        1, 1, 1, 1, 1, 1,
      ]);
      await database.db.execute(sql`select trend_sync_members()`);
      expect(await moved()).toBe(0);
      await groupsAgainstMembers();
      await sameUnderEveryFilter();
    });
  });
}
