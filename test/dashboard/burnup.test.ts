// A program's burn-up reads its leaves without history as groups of week counts (SQL) and the
// others one by one: the series must be exactly the one burnUpSeries draws from every leaf, on
// the edge cases of categoryAt — removed with and without a date, started before it was
// removed, done without a date, created in the future, dates on a week's end to the millisecond.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { forecasts, itemHistory } from '../../db/schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import { burnUpSeries, loadProgramBurnUp } from '../../src/dashboard/workspace/forecast.ts';
import type { BurnUpLeaf } from '../../src/forecast/burnup.ts';
import { refreshBurnUps, seriesOfSteps, storedBurnUpSteps } from '../../src/forecast/burnup.ts';
import { refreshItemRollups } from '../../src/rollups/items.ts';
import { storeItems } from '../../src/sync/store.ts';
import { dbTargets } from '../helpers/db.ts';
import { item } from '../helpers/items.ts';

const now = new Date('2026-06-15T12:00:00.000Z');
const WEEK = 7 * 86_400_000;
const at = (weeksBack: number, ms = 0) => new Date(now.getTime() - weeksBack * WEEK + ms).toISOString();
const configWith = (include: string) =>
  parseConfig(
    `
connections:
  - { id: jira-main, kind: jira, baseUrl: https://x.test, auth: { email: a@x.test, apiToken: t }, scope: { projects: [PAY] } }
portfolio:
  programs:
    - { id: payments, name: Payments, include: [${include}] }
`,
    { env: {} },
  ).config;
const config = configWith('{ connection: jira-main, project: PAY }');

/** [item, its history or null]: one leaf per case, then many alike (they share a group). */
const cases: [WorkItem, [number, string][] | null][] = [
  [item('jira-main:PAY-1', { created: at(20), points: 3 }), null],
  [item('jira-main:PAY-2', { created: at(9), statusCategory: 'done', resolved: at(4), points: 5 }), null],
  [item('jira-main:PAY-3', { created: at(9), statusCategory: 'done', resolved: null, points: 2 }), null],
  // Removed: with a date, without one (left out), started before it was removed (in progress).
  [item('jira-main:PAY-4', { created: at(12), statusCategory: 'removed', resolved: at(6) }), null],
  [item('jira-main:PAY-5', { created: at(12), statusCategory: 'removed', resolved: null }), null],
  [item('jira-main:PAY-6', { created: at(12), statusCategory: 'removed', started: at(8), resolved: at(6) }), null],
  [item('jira-main:PAY-7', { created: at(12), statusCategory: 'removed', started: at(3), resolved: at(6) }), null],
  // On a week's end to the millisecond, and just after it.
  [item('jira-main:PAY-8', { created: at(5), statusCategory: 'done', resolved: at(2), points: 1.5 }), null],
  [item('jira-main:PAY-9', { created: at(5, 1), statusCategory: 'done', resolved: at(2, 1) }), null],
  [item('jira-main:PAY-10', { created: at(-1) }), null],
  [item('jira-main:PAY-11', { created: at(10), statusCategory: 'in_progress', started: at(7) }), null],
  // With history: the transitions decide, whatever the dates say.
  [
    item('jira-main:PAY-12', { created: at(8), statusCategory: 'done', resolved: at(1), points: 8 }),
    [
      [Math.floor(Date.parse(at(6)) / 60_000), 'p'],
      [Math.floor(Date.parse(at(3)) / 60_000), 'd'],
    ],
  ],
  [
    item('jira-main:PAY-13', { created: at(8), statusCategory: 'removed' }),
    [[Math.floor(Date.parse(at(2)) / 60_000), 'r']],
  ],
  // A history that starts after the work did: its start date says where it stood before.
  [
    item('jira-main:PAY-15', { created: at(9), statusCategory: 'done', started: at(7), resolved: at(2), points: 2 }),
    [[Math.floor(Date.parse(at(5)) / 60_000), 'd']],
  ],
  // An empty history is no history.
  [item('jira-main:PAY-14', { created: at(7), statusCategory: 'removed', resolved: null }), []],
  ...Array.from({ length: 30 }, (_, i): [WorkItem, null] => [
    item(`jira-main:PAY-${100 + i}`, {
      created: at(11),
      statusCategory: i % 3 ? 'todo' : 'done',
      resolved: i % 3 ? null : at(1),
      points: i % 2 ? 1 : null,
    }),
    null,
  ]),
];

const leaves: BurnUpLeaf[] = cases.map(([w, history]) => ({
  statusCategory: w.statusCategory,
  points: w.points,
  created: Date.parse(w.created),
  started: w.started === null ? null : Date.parse(w.started),
  resolved: w.resolved === null ? null : Date.parse(w.resolved),
  transitions: history,
}));

for (const target of dbTargets()) {
  describe(`a program's burn-up on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
      const { db } = database;
      await storeItems(
        db,
        cases.map(([w]) => w),
        now,
      );
      await db
        .insert(itemHistory)
        .values(
          cases.flatMap(([w, h]) => (h === null ? [] : [{ ref: w.ref, connection: 'jira-main', transitions: h }])),
        );
      await refreshItemRollups(db, {});
    });
    afterAll(async () => database?.close());

    it('counts items as burnUpSeries does from every leaf', async () => {
      const b = await loadProgramBurnUp(database.db, config, 'payments', now);

      expect(b && { weeks: b.weeks, doneNow: b.doneNow, scopeNow: b.scopeNow }).toEqual(
        burnUpSeries(leaves, 'items', now),
      );
    });

    it('counts points as burnUpSeries does when the forecast counts points', async () => {
      await database.db.insert(forecasts).values({
        scope: 'program:payments',
        kind: 'program',
        status: 'ok',
        confidence: 'low',
        unit: 'points',
        remaining: 1,
        basis: 'team',
        weeksOfHistory: 0,
        inputsHash: 'h',
      });
      const b = await loadProgramBurnUp(database.db, config, 'payments', now);
      expect(b?.unit).toBe('points');
      expect(b && { weeks: b.weeks, doneNow: b.doneNow, scopeNow: b.scopeNow }).toEqual(
        burnUpSeries(leaves, 'points', now),
      );
    });

    it('stores steps that give the same series at the instant stored and at any later one', async () => {
      // Arrange
      await refreshBurnUps(database.db, { programs: config.portfolio.programs, now });
      const program = config.portfolio.programs[0]!;
      // Act
      const steps = await storedBurnUpSteps(database.db, program);
      // Assert: to the millisecond after a week's end, a day on, three weeks on, for both units.
      expect(steps).not.toBeNull();
      for (const later of [0, 1, 86_400_000 + 37, 3 * WEEK]) {
        const t = new Date(now.getTime() + later);
        for (const unit of ['items', 'points'] as const)
          expect(seriesOfSteps(steps!, unit, t)).toEqual(burnUpSeries(leaves, unit, t));
      }
      const b = await loadProgramBurnUp(database.db, config, 'payments', now);
      expect(b && { weeks: b.weeks, doneNow: b.doneNow, scopeNow: b.scopeNow }).toEqual(
        b && burnUpSeries(leaves, b.unit, now),
      );
    });

    it('reads live when the stored steps do not reach back far enough or were for other projects', async () => {
      // Arrange: steps stored three weeks on; a program that took in a project since.
      await refreshBurnUps(database.db, {
        programs: config.portfolio.programs,
        now: new Date(now.getTime() + 3 * WEEK),
      });
      const wider = configWith('{ connection: jira-main, project: PAY }, { connection: jira-main, project: WEB }');
      // Act
      const early = await loadProgramBurnUp(database.db, config, 'payments', now);
      const other = await storedBurnUpSteps(database.db, wider.portfolio.programs[0]!);
      // Assert
      expect(
        seriesOfSteps((await storedBurnUpSteps(database.db, config.portfolio.programs[0]!))!, 'items', now),
      ).toBeNull();
      expect(early && { weeks: early.weeks, doneNow: early.doneNow, scopeNow: early.scopeNow }).toEqual(
        early && burnUpSeries(leaves, early.unit, now),
      );
      expect(other).toBeNull();
    });
  });
}
