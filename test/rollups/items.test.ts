// Each live item's own roll-up (item_rollups): worked out by hand on a small portfolio across
// both trackers, kept by an incremental refresh exactly as a full one computes it, and filled
// by the migration exactly as the full refresh fills it.
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, MIGRATIONS_FOLDER } from '../../db/client.ts';
import { queryRows, withPipeline } from '../../db/query.ts';
import { findings, itemChecks } from '../../db/schema.ts';
import { addApplicable } from '../../src/findings/store.ts';
import { recomputeRollups } from '../../src/rollups/compute.ts';
import { refreshItemRollups } from '../../src/rollups/items.ts';
import { markDeleted, storeItems } from '../../src/sync/store.ts';
import { dbTargets } from '../helpers/db.ts';
import { daysFrom, item } from '../helpers/items.ts';

const now = new Date('2026-06-15T00:00:00.000Z');
const d = (days: number) => daysFrom(now, days);
const thresholds = { scheduleAmber: 0.9, scheduleRed: 0.7, complianceAmber: 0.8, complianceRed: 0.5 };
const ann = { id: 'u-ann', name: 'Ann Lee' };
const bob = { id: 'u-bob', name: 'Bob Ray' };
const area = (path: string) => ({ fields: { 'System.AreaPath': path } });

const portfolio = [
  item('jira-main:PAY-1', { kind: 'epic', owner: ann, fields: { team: 'Vault' }, due: d(30) }),
  item('jira-main:PAY-3', { parent: 'jira-main:PAY-1', assignee: bob, due: d(10) }),
  item('jira-main:PAY-4', { parent: 'jira-main:PAY-3', kind: 'subtask', due: d(50) }),
  // An epic under an epic is its own children's nearest epic.
  item('jira-main:PAY-10', { kind: 'epic', parent: 'jira-main:PAY-1' }),
  item('jira-main:PAY-11', { parent: 'jira-main:PAY-10', owner: ann, assignee: bob }),
  // A parent cycle in bad data, and an orphan: no epic.
  item('jira-main:PAY-20', { parent: 'jira-main:PAY-21' }),
  item('jira-main:PAY-21', { parent: 'jira-main:PAY-20' }),
  item('jira-main:PAY-30'),
  item('ado-main:100', { kind: 'epic', raw: area('Payments') }),
  item('ado-main:110', { kind: 'feature', parent: 'ado-main:100', raw: area('Payments\\Ledger') }),
  item('ado-main:111', { parent: 'ado-main:110', due: d(20), raw: area('Payments\\Ledger') }),
  // A removed child gives its container no due date.
  item('ado-main:113', { parent: 'ado-main:110', due: d(90), statusCategory: 'removed' }),
  item('ado-main:112', { kind: 'task', parent: 'ado-main:111', fields: { team: 'Ledger squad' } }),
  // Under a deleted feature: the chain to the epic is broken.
  item('ado-main:120', { kind: 'feature', parent: 'ado-main:100' }),
  item('ado-main:121', { parent: 'ado-main:120' }),
];

const base = { message: 'Fix it', firstSeen: d(-2), lastSeen: d(-1), ruleHash: 'r', itemHash: 'i' };

type Row = {
  ref: string;
  epic: string | null;
  team: string | null;
  owner_id: string | null;
  owner_name: string | null;
  child_due: string | null;
  rule_checks: number | null;
  open: string;
  health: string;
};

/** Every row, with a container's health checked against its stored rollup. */
async function rows(database: Database): Promise<Row[]> {
  const out = await queryRows<Row>(
    database.db,
    sql`select i.ref, i.epic, i.team, i.owner_id, i.owner_name, i.child_due::text, i.rule_checks,
        i.open_error || '/' || i.open_warning || '/' || i.open_info as open,
        case when i.health is null then '-' when i.health = r.health then 'as its rollup' else i.health end as health
      from item_rollups i left join rollups r on r.scope = 'epic:' || i.ref order by i.ref`,
  );
  return out.map((r) => ({ ...r, child_due: r.child_due && new Date(r.child_due).toISOString() }));
}

/** Every column of every row, as text: what two ways of filling the table must agree on. */
const everything = (database: Database) =>
  queryRows<{ row: string }>(database.db, sql`select i::text as row from item_rollups i order by ref`);

for (const target of dbTargets()) {
  describe(`item_rollups on ${target.name}`, () => {
    let database: Database;
    const recompute = (changedRefs?: string[]) =>
      database.db.transaction((tx) => recomputeRollups(tx as never, { now, programs: [], thresholds, changedRefs }));

    beforeEach(async () => {
      database = await target.open();
      const { db } = database;
      await storeItems(db, portfolio, now);
      await markDeleted(db, ['ado-main:120'], now);
      await db.insert(itemChecks).values([
        { ref: 'jira-main:PAY-3', ruleChecks: 4 },
        { ref: 'ado-main:111', ruleChecks: 2 },
      ]);
      await db.insert(findings).values([
        { ...base, ref: 'jira-main:PAY-3', rule: 'a', severity: 'warning', status: 'open' },
        { ...base, ref: 'jira-main:PAY-3', rule: 'b', severity: 'warning', status: 'open' },
        { ...base, ref: 'jira-main:PAY-4', rule: 'a', severity: 'error', status: 'resolved' },
        { ...base, ref: 'jira-main:PAY-1', rule: 'c', severity: 'error', status: 'waived' },
        { ...base, ref: 'ado-main:111', rule: 'a', severity: 'error', status: 'open' },
        { ...base, ref: 'ado-main:111', rule: 'd', severity: 'info', status: 'open' },
      ]);
      await recompute();
    });
    afterEach(async () => database?.close());

    it("holds each live item's epic, team, owner, open findings, checks and a container's figures", async () => {
      const row = (ref: string, over: Partial<Row> = {}): Row => ({
        ref,
        epic: null,
        team: null,
        owner_id: null,
        owner_name: null,
        child_due: null,
        rule_checks: null,
        open: '0/0/0',
        health: '-',
        ...over,
      });
      const container = { health: 'as its rollup' };
      expect(await rows(database)).toEqual([
        row('ado-main:100', { epic: 'ado-main:100', team: 'Payments', ...container }),
        row('ado-main:110', { epic: 'ado-main:100', team: 'Payments\\Ledger', child_due: d(20), ...container }),
        row('ado-main:111', { epic: 'ado-main:100', team: 'Payments\\Ledger', rule_checks: 2, open: '1/0/1' }),
        row('ado-main:112', { epic: 'ado-main:100', team: 'Ledger squad' }),
        row('ado-main:113', { epic: 'ado-main:100' }),
        row('ado-main:121'),
        row('jira-main:PAY-1', {
          epic: 'jira-main:PAY-1',
          child_due: d(10),
          team: 'Vault',
          owner_id: 'u-ann',
          owner_name: 'Ann Lee',
          ...container,
        }),
        row('jira-main:PAY-10', { epic: 'jira-main:PAY-10', ...container }),
        row('jira-main:PAY-11', { epic: 'jira-main:PAY-10', owner_id: 'u-ann', owner_name: 'Ann Lee' }),
        row('jira-main:PAY-20'),
        row('jira-main:PAY-21'),
        row('jira-main:PAY-3', {
          epic: 'jira-main:PAY-1',
          owner_id: 'u-bob',
          owner_name: 'Bob Ray',
          rule_checks: 4,
          open: '0/2/0',
        }),
        row('jira-main:PAY-30'),
        row('jira-main:PAY-4', { epic: 'jira-main:PAY-1' }),
      ]);
    });

    it('an incremental refresh of what a change touched leaves what a full refresh computes', async () => {
      const { db } = database;
      // A story moves to the nested epic with its sub-task, a task goes, the broken chain is
      // mended, findings open and resolve.
      await storeItems(
        db,
        [
          item('jira-main:PAY-3', { parent: 'jira-main:PAY-10', assignee: bob, due: d(10) }),
          item('ado-main:120', { kind: 'feature', parent: 'ado-main:100', due: d(5) }),
        ],
        now,
      );
      await markDeleted(db, ['ado-main:112'], now);
      await db.execute(sql`update findings set status = 'resolved' where ref = 'ado-main:111' and rule = 'a'`);
      await db
        .insert(findings)
        .values({ ...base, ref: 'jira-main:PAY-11', rule: 'a', severity: 'error', status: 'open' });
      await recompute(['jira-main:PAY-3', 'ado-main:120', 'ado-main:112', 'ado-main:111', 'jira-main:PAY-11']);
      const incremental = await rows(database);
      const whole = await everything(database);
      await db.transaction((tx) => refreshItemRollups(tx as never, {}));
      expect(incremental).toEqual(await rows(database));
      expect(whole).toEqual(await everything(database));
      expect(incremental.filter((r) => ['jira-main:PAY-4', 'ado-main:121'].includes(r.ref)).map((r) => r.epic)).toEqual(
        ['ado-main:100', 'jira-main:PAY-10'],
      );
    });

    it('keeps rule checks that change without any finding changing', async () => {
      await withPipeline(async (pipeline) => {
        await Promise.all(addApplicable(pipeline, database.db, new Map([['jira-main:PAY-4', 3]])));
      });
      const [row] = (await rows(database)).filter((r) => r.ref === 'jira-main:PAY-4');
      expect(row?.rule_checks).toBe(3);
    });

    it("is filled by its migration as the full refresh fills it (an existing database's first rows)", async () => {
      const before = await everything(database);
      const migration = readFileSync(`${MIGRATIONS_FOLDER}/0016_item_rollups.sql`, 'utf8').split(
        '--> statement-breakpoint',
      );
      // 0019 adds the open rules to the rows an existing database already holds.
      const openRules = readFileSync(`${MIGRATIONS_FOLDER}/0019_open_finding_counts.sql`, 'utf8').split(
        '--> statement-breakpoint',
      );
      await database.db.execute(sql`delete from item_rollups`);
      await database.db.execute(sql.raw(migration.at(-1)!));
      await database.db.execute(sql.raw(openRules.at(-2)!));
      expect(await everything(database)).toEqual(before);
    });
  });
}
