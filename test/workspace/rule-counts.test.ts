// Open findings by rule from open_finding_counts (the explorer's default grouping, the portfolio's
// top rules) over both simulators: after the first sync, an incremental sync and webhook changes
// they equal what the join of every open finding to its item_rollups row counts, under every
// kind of filter, and the table equals that join grouped by its columns.
import { readFileSync } from 'node:fs';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, MIGRATIONS_FOLDER } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { findings, itemRollups } from '../../db/schema.ts';
import { NO_OWNER, NO_TEAM, rollupCondition, type WorkspaceFilter } from '../../src/dashboard/workspace/filter.ts';
import { loadExplorer } from '../../src/dashboard/workspace/findings.ts';
import { topRules } from '../../src/http/queries.ts';
import { refreshItemRollups } from '../../src/rollups/items.ts';
import { epicScope } from '../../src/workspace/epics.ts';
import { toScopeFilter } from '../../src/workspace/filters.ts';
import { dbTargets } from '../helpers/db.ts';
import { type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

type Counts = { key: string; error: number; warning: number; info: number; total: number };

for (const target of dbTargets()) {
  describe(`open findings by rule over both trackers on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    beforeAll(async () => {
      database = await target.open();
      p = await startPortfolio({ database });
      await p.sync();
    });
    afterAll(async () => {
      await p?.close();
      await database?.close();
    });

    /** The reference: every open finding joined to its live item's row, as the reads were before. */
    const joined = (filter: WorkspaceFilter, severity?: string) =>
      and(
        eq(findings.status, 'open'),
        rollupCondition(p.config, filter),
        severity ? eq(findings.severity, severity) : undefined,
      );
    const referenceGroups = async (filter: WorkspaceFilter, severity?: string): Promise<Counts[]> => {
      const rows = await database.db
        .select({
          key: findings.rule,
          error: sql<number>`count(*) filter (where ${findings.severity} = 'error')::int`,
          warning: sql<number>`count(*) filter (where ${findings.severity} = 'warning')::int`,
          info: sql<number>`count(*) filter (where ${findings.severity} = 'info')::int`,
          total: sql<number>`count(*)::int`,
        })
        .from(findings)
        .innerJoin(itemRollups, eq(itemRollups.ref, findings.ref))
        .where(joined(filter, severity))
        .groupBy(findings.rule)
        .orderBy(asc(findings.rule));
      return rows.map((r) => ({ ...r, error: +r.error, warning: +r.warning, info: +r.info, total: +r.total }));
    };
    /** The portfolio's top rules read the API's scope filter (no "(none)" owner or team). */
    const referenceTop = async (filter: WorkspaceFilter) =>
      (
        await database.db
          .select({
            rule: findings.rule,
            severity: sql<string>`max(${findings.severity})`,
            open: sql<number>`count(*)::int`,
          })
          .from(findings)
          .innerJoin(itemRollups, eq(itemRollups.ref, findings.ref))
          .where(and(eq(findings.status, 'open'), epicScope(p.config, toScopeFilter(filter))))
          .groupBy(findings.rule)
          .orderBy(desc(sql`count(*)`), asc(findings.rule))
          .limit(10)
      ).map((r) => ({ ...r, open: +r.open }));

    /** Every kind of filter the data allows: each value of each key, a parent area path, none, a pair. */
    const filters = async (): Promise<WorkspaceFilter[]> => {
      const values = await queryRows<{
        tracker: string;
        project: string;
        team: string | null;
        owner_id: string | null;
        owner_name: string | null;
      }>(
        database.db,
        sql`select distinct tracker, connection || ':' || project as project, team, owner_id, owner_name from item_rollups`,
      );
      const out: WorkspaceFilter[] = [{}, { program: 'payments' }, { owner: NO_OWNER }, { team: NO_TEAM }];
      for (const v of values) {
        out.push({ tracker: v.tracker }, { project: v.project });
        if (v.team) out.push({ team: v.team }, { team: v.team.split('\\')[0]! }, { tracker: v.tracker, team: v.team });
        if (v.owner_id)
          out.push(
            { owner: v.owner_id },
            { owner: v.owner_name!.toUpperCase() },
            { tracker: v.tracker, owner: v.owner_id },
          );
      }
      const seen = new Set<string>();
      return out.filter((f) => !seen.has(JSON.stringify(f)) && Boolean(seen.add(JSON.stringify(f))));
    };

    /** Each filter's groups and top rules, from the counts and from the reference. */
    const compare = async () => {
      const fs = await filters();
      const counted: unknown[] = [];
      const reference: unknown[] = [];
      for (const filter of fs) {
        for (const severity of [undefined, 'error', 'warning', 'info']) {
          const view = await loadExplorer(database.db, p.config, filter, {
            groupBy: 'rule',
            severity,
            rules: new Map(),
          });
          const groups = view.groups
            .map(({ key, error, warning, info, total }) => ({ key, error, warning, info, total }))
            .sort((a, b) => (a.key < b.key ? -1 : 1));
          counted.push({ filter, severity, groups });
          reference.push({ filter, severity, groups: await referenceGroups(filter, severity) });
        }
        counted.push({ filter, top: await topRules(database.db, p.config, toScopeFilter(filter), 10) });
        reference.push({ filter, top: await referenceTop(filter) });
      }
      return { counted, reference, filters: fs.length };
    };

    /** The table itself against the join grouped by its columns (no row left at zero). */
    const table = async () => {
      const cols = sql`connection, project, tracker, team, owner_id, owner_name, rule, severity`;
      const [stored, grouped] = await Promise.all([
        queryRows(database.db, sql`select ${cols}, open from open_finding_counts where open <> 0 order by ${cols}`),
        queryRows(
          database.db,
          sql`select i.connection, i.project, i.tracker, i.team, i.owner_id, i.owner_name, f.rule, f.severity,
              count(*)::int as open
            from findings f join item_rollups i on i.ref = f.ref where f.status = 'open'
            group by ${cols} order by ${cols}`,
        ),
      ]);
      return { stored, grouped };
    };

    const openFindingOf = async (tracker: string) => {
      const [row] = await queryRows<{ ref: string }>(
        database.db,
        sql`select i.ref from item_rollups i where i.tracker = ${tracker} and i.status_category <> 'done'
            and i.kind in ('story', 'bug', 'task') and i.open_error + i.open_warning + i.open_info > 0
            order by i.ref limit 1`,
      );
      return row!.ref;
    };
    /** Finishes one item with open findings per tracker and hands another to a new owner. */
    const change = async () => {
      const jira = await openFindingOf('jira');
      const ado = await openFindingOf('azure-devops');
      p.edit(jira, { status: 'Done' });
      p.edit(ado, { assignee: { id: 'new.owner@example.com', name: 'New Owner' } });
      return [jira, ado];
    };

    it('equals the join after the first sync, under every filter', async () => {
      const { counted, reference, filters } = await compare();
      expect(counted).toEqual(reference);
      expect(filters).toBeGreaterThan(8);
      const t = await table();
      expect(t.stored).toEqual(t.grouped);
      expect(t.stored.length).toBeGreaterThan(0);
    });

    it('follows an incremental sync that resolves findings and moves an item to a new owner', async () => {
      const before = await table();
      await change();
      await p.sync();
      const { counted, reference } = await compare();
      expect(counted).toEqual(reference);
      const after = await table();
      expect(after.stored).toEqual(after.grouped);
      expect(after.stored).not.toEqual(before.stored);
    });

    it('follows webhook changes through the processor', async () => {
      const before = await table();
      const refs = await change();
      await p.queueUpdates(refs, 'rule-counts');
      const processor = p.webhookProcessor({ send: false });
      await processor.drain();
      const { counted, reference } = await compare();
      expect(counted).toEqual(reference);
      const after = await table();
      expect(after.stored).toEqual(after.grouped);
      expect(after.stored).not.toEqual(before.stored);
    });

    it('is filled by its migration and by a full refresh as the increments left it', async () => {
      const before = await table();
      const migration = readFileSync(`${MIGRATIONS_FOLDER}/0019_open_finding_counts.sql`, 'utf8').split(
        '--> statement-breakpoint',
      );
      await database.db.execute(sql`delete from open_finding_counts`);
      await database.db.execute(sql`update item_rollups set open_rules = '{}'::jsonb`);
      for (const statement of migration.slice(-2)) await database.db.execute(sql.raw(statement));
      expect(await table()).toEqual(before);
      await database.db.transaction((tx) => refreshItemRollups(tx as never, {}));
      expect(await table()).toEqual(before);
    });
  });
}
