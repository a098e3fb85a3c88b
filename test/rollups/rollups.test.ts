// Rollups over a small portfolio spanning Jira and Azure DevOps, every number computed by hand.
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { findings, itemChecks, rollupSnapshots, rollups } from '../../db/schema.ts';
import { recomputeRollups } from '../../src/rollups/compute.ts';
import { storeItems } from '../../src/sync/store.ts';
import { dbTargets } from '../helpers/db.ts';
import { daysFrom, item } from '../helpers/items.ts';

const now = new Date('2026-06-15T00:00:00.000Z');
const d = (days: number) => daysFrom(now, days);
const thresholds = { scheduleAmber: 0.9, scheduleRed: 0.7, complianceAmber: 0.8, complianceRed: 0.5 };
const programs = [
  {
    id: 'payments',
    include: [
      { connection: 'jira-main', project: 'PAY' },
      { connection: 'ado-main', project: 'Payments' },
    ],
  },
];

const portfolio = [
  item('jira-main:PAY-1', { kind: 'epic', statusCategory: 'in_progress', start: d(-30), due: d(30) }),
  item('jira-main:PAY-2', {
    parent: 'jira-main:PAY-1',
    points: 5,
    statusCategory: 'done',
    started: d(-10),
    resolved: d(-3),
  }),
  item('jira-main:PAY-3', {
    parent: 'jira-main:PAY-1',
    points: 3,
    statusCategory: 'in_progress',
    due: d(-2),
    links: [{ type: 'cross_tracker', target: 'ado-main:101', relation: 'blocked_by' }],
  }),
  item('jira-main:PAY-4', { parent: 'jira-main:PAY-1', kind: 'bug' }),
  item('jira-main:PAY-5', { parent: 'jira-main:PAY-1', points: 2, statusCategory: 'removed' }),
  item('ado-main:100', { kind: 'epic', statusCategory: 'in_progress', start: d(-60), due: d(-5) }),
  item('ado-main:101', { parent: 'ado-main:100', points: 8, statusCategory: 'in_progress' }),
  item('ado-main:102', { parent: 'ado-main:100', points: 2, statusCategory: 'done', started: d(-6), resolved: d(-1) }),
  item('ado-main:200', { kind: 'epic', created: d(-20) }),
];

for (const target of dbTargets()) {
  describe(`rollups on ${target.name}`, () => {
    let database: Database;
    // A fresh, seeded database per test: the recompute tests change items the others read.
    beforeEach(async () => {
      database = await target.open();
      const { db } = database;
      await storeItems(db, portfolio, now);
      await db.insert(itemChecks).values([
        { ref: 'jira-main:PAY-2', ruleChecks: 4 },
        { ref: 'jira-main:PAY-3', ruleChecks: 4 },
      ]);
      const f = { status: 'open', message: 'm', firstSeen: d(-1), lastSeen: d(-1), ruleHash: 'r', itemHash: 'i' };
      await db.insert(findings).values([
        { ...f, ref: 'jira-main:PAY-3', rule: 'owner-required', severity: 'error' },
        { ...f, ref: 'ado-main:100', rule: 'epic-gate', severity: 'warning' },
        { ...f, ref: 'ado-main:101', rule: 'closed-one', severity: 'error', status: 'resolved' },
      ]);
      await recomputeRollups(db, { now, programs, thresholds });
    });
    afterEach(async () => {
      await database.close();
    });

    const stored = async (scope: string) => {
      const [row] = await database.db.select().from(rollups).where(eq(rollups.scope, scope));
      return (
        row && {
          kind: row.kind,
          percentComplete: row.percentComplete,
          health: row.health,
          healthReason: row.healthReason,
          metrics: row.metrics,
        }
      );
    };

    it('rolls up a Jira epic: points-weighted progress, overdue, a cross-tracker block, flow', async () => {
      expect(await stored('epic:jira-main:PAY-1')).toEqual({
        kind: 'epic',
        percentComplete: 0.625,
        health: 'amber',
        healthReason: 'overdue-items: 1 of 4 items overdue; blocked: 1 item blocked by unfinished work',
        metrics: {
          counts: { total: 4, todo: 1, inProgress: 1, done: 1, removed: 1 },
          points: { total: 8, done: 5 },
          percentComplete: 0.625,
          overdue: 1,
          blocked: 1,
          wip: 1,
          findings: { error: 1, warning: 0, info: 0 },
          compliance: 0.875,
          scheduleIndex: 1.25,
          throughputPerWeek: 0.25,
          cycleTimeDays: { median: 7, p85: 7 },
          plannedStart: d(-30),
          // Its own due date is the target; the latest child due (PAY-3) is the planned finish.
          plannedFinish: d(-2),
          targetDate: d(30),
          status: 'in_progress',
          resolved: null,
          children: { total: 3, open: 2 },
          overdueEpics: 0,
          healthRule: 'overdue-items',
        },
      });
    });

    it('flags an Azure DevOps epic past its target date red, with the reason', async () => {
      const r = await stored('epic:ado-main:100');
      expect({ pc: r?.percentComplete, health: r?.health, reason: r?.healthReason }).toEqual({
        pc: 0.2,
        health: 'red',
        reason:
          'past-target: target date 2026-06-10 passed 5 days ago at 20% complete; schedule-index-red: schedule index 0.2 below 0.7',
      });
    });

    it('says an epic without children has no child work yet', async () => {
      const r = await stored('epic:ado-main:200');
      expect({ pc: r?.percentComplete, health: r?.health, reason: r?.healthReason }).toEqual({
        pc: null,
        health: 'green',
        reason: 'on-track: no child work yet',
      });
    });

    it('rolls both trackers into the program and the portfolio', async () => {
      const program = await stored('program:payments');
      const portfolioRow = await stored('portfolio');
      expect(program).toEqual(portfolioRow && { ...portfolioRow, kind: 'program' });
      expect({ pc: program?.percentComplete, health: program?.health, reason: program?.healthReason }).toEqual({
        pc: 0.3889,
        health: 'red',
        reason: 'schedule-index-red: schedule index 0.58 below 0.7',
      });
      expect(program?.metrics).toMatchObject({
        counts: { total: 6, todo: 1, inProgress: 2, done: 2, removed: 1 },
        points: { total: 18, done: 7 },
        overdue: 1,
        blocked: 1,
        overdueEpics: 1,
        findings: { error: 1, warning: 1, info: 0 },
        cycleTimeDays: { median: 6, p85: 6.7 },
        throughputPerWeek: 0.5,
      });
    });

    it('keeps one rollup per project and a daily snapshot per scope', async () => {
      const scopes = (await database.db.select({ scope: rollups.scope }).from(rollups)).map((r) => r.scope).sort();
      expect(scopes).toEqual([
        'epic:ado-main:100',
        'epic:ado-main:200',
        'epic:jira-main:PAY-1',
        'portfolio',
        'program:payments',
        'project:ado-main:Payments',
        'project:jira-main:PAY',
      ]);
      const snaps = await database.db.select({ day: rollupSnapshots.day }).from(rollupSnapshots);
      expect(new Set(snaps.map((s) => s.day))).toEqual(new Set(['2026-06-15']));
      expect(snaps).toHaveLength(7);
    });

    it('recomputes the epics above a changed item and above the items it blocks, across trackers', async () => {
      const { db } = database;
      await storeItems(
        db,
        [item('ado-main:101', { parent: 'ado-main:100', points: 8, statusCategory: 'done', revision: '2' })],
        now,
      );
      const result = await recomputeRollups(db, { now, programs, thresholds, changedRefs: ['ado-main:101'] });
      // PAY-3 (under PAY-1) is blocked by ado-main:101, which is now done.
      expect(result.rollups.filter((r) => r.kind === 'epic').map((r) => r.scope)).toEqual([
        'epic:ado-main:100',
        'epic:jira-main:PAY-1',
      ]);
      expect(result.changedEpics).toEqual(['ado-main:100', 'jira-main:PAY-1']);
      expect((await stored('epic:jira-main:PAY-1'))?.metrics).toMatchObject({ blocked: 0 });
      expect((await stored('epic:ado-main:100'))?.percentComplete).toBe(1);
      expect((await stored('epic:jira-main:PAY-1'))?.percentComplete).toBe(0.625);
    });

    it('counts an epic as changed when only a figure its comment shows moved (work in progress)', async () => {
      const { db } = database;
      const wip = (r: Awaited<ReturnType<typeof stored>>) => (r?.metrics as { wip?: number } | undefined)?.wip;
      const before = await stored('epic:jira-main:PAY-1');
      await storeItems(
        db,
        [
          item('jira-main:PAY-4', {
            parent: 'jira-main:PAY-1',
            kind: 'bug',
            statusCategory: 'in_progress',
            revision: '2',
          }),
        ],
        now,
      );
      const result = await recomputeRollups(db, { now, programs, thresholds, changedRefs: ['jira-main:PAY-4'] });
      const after = await stored('epic:jira-main:PAY-1');
      // Health and progress stay; the comment's "in progress" line does not.
      expect(after?.health).toBe(before?.health);
      expect(after?.healthReason).toBe(before?.healthReason);
      expect(after?.percentComplete).toBe(before?.percentComplete);
      expect(wip(after)).toBe((wip(before) ?? Number.NaN) + 1);
      expect(result.changedEpics).toEqual(['jira-main:PAY-1']);
      // Recomputing with nothing changed reports no epic.
      const again = await recomputeRollups(db, { now, programs, thresholds, changedRefs: ['jira-main:PAY-4'] });
      expect(again.changedEpics).toEqual([]);
    });

    it("leaves the planner's settings as it found them, in a caller's transaction and outside one", async () => {
      const { db } = database;
      const mergeJoin = async (q: Db) => {
        const [row] = await queryRows<{ enable_mergejoin: string }>(q, sql`show enable_mergejoin`);
        return row?.enable_mergejoin;
      };
      // Every setting the statement changes for itself (src/rollups/sql.ts).
      const settings = async (q: Db) =>
        queryRows(
          q,
          sql`select current_setting('enable_mergejoin') as m, current_setting('jit') as j, current_setting('work_mem') as w`,
        );
      const before = await settings(db);
      await db.transaction(async (txRaw) => {
        const tx = txRaw as unknown as Db;
        await recomputeRollups(tx, { now, programs, thresholds });
        expect(await mergeJoin(tx)).toBe('on');
        expect(await settings(tx)).toEqual(before);
      });
      await recomputeRollups(db, { now, programs, thresholds });
      expect(await mergeJoin(db)).toBe('on');
      expect(await settings(db)).toEqual(before);
    });
  });
}
