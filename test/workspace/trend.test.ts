// The workspace trend (src/workspace/queries.ts loadTrend) pinned on the hand-computed portfolio
// of metrics.test.ts with several days of snapshots written by hand: each day's epic health
// counts are the snapshots of the epics the filter includes today (not the removed epic, not the
// Feature), % complete is the filter's stored scope's where it has that day, else the epics'
// points done ÷ total, else their items done ÷ counted; nothing older than 90 days.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { rollupSnapshots } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { silentLogger } from '../../src/core/log.ts';
import { loadDashboard } from '../../src/dashboard/data.ts';
import { createApp } from '../../src/http/app.ts';
import { toScopeFilter, type WorkspaceFilter } from '../../src/workspace/filters.ts';
import type { TrendDay } from '../../src/workspace/queries.ts';
import { dbTargets } from '../helpers/db.ts';
import { seedWorkspace, workspaceConfig } from './fixture.ts';

const now = new Date('2026-06-15T12:00:00.000Z');
const config = workspaceConfig();

// Days: OLD is 91 days back (outside the trend), PORTFOLIO_ONLY has no epic snapshot.
const OLD = '2026-03-16';
const PORTFOLIO_ONLY = '2026-05-01';
const A = '2026-06-01';
const B = '2026-06-08';
const C = '2026-06-15';

type Figures = [health: string, pointsDone: number, pointsTotal: number, done: number, total: number, removed: number];
const m = ([, pd, pt, cd, ct, cr]: Figures) => ({
  points: { done: pd, total: pt },
  counts: { total: ct, todo: ct - cd - cr, inProgress: 0, done: cd, removed: cr },
});

/** Each epic's snapshot per day; `no figures`: metrics without points or counts (`{}`). */
const EPIC_DAYS: Record<string, Record<string, Figures | 'no figures'>> = {
  'jira-main:PAY-2': { [A]: ['green', 1, 3, 0, 1, 0], [B]: ['green', 3, 3, 1, 1, 0], [C]: ['green', 3, 3, 1, 1, 0] },
  'jira-main:PAY-10': { [A]: ['amber', 0, 4, 0, 2, 0], [B]: ['red', 2, 4, 1, 2, 0], [C]: ['red', 2, 4, 1, 2, 0] },
  'jira-main:PAY-20': { [A]: ['green', 0, 4, 0, 2, 0], [B]: ['amber', 1, 4, 1, 2, 0], [C]: ['red', 1, 4, 1, 2, 0] },
  'jira-main:PLAT-1': {
    [A]: ['green', 2, 10, 0, 2, 0],
    [B]: ['amber', 9, 10, 1, 3, 1],
    [C]: ['amber', 9, 10, 1, 2, 0],
  },
  // Created after day A: no snapshot that day.
  'jira-main:PLAT-5': { [B]: ['green', 0, 0, 0, 0, 0], [C]: ['green', 0, 0, 0, 0, 0] },
  'ado-main:100': { [A]: 'no figures', [B]: ['green', 0, 10, 0, 2, 0], [C]: ['green', 5, 10, 1, 2, 0] },
  // Day A has no points: the azure-devops trend falls back to items (1 done of 3 − 1 removed).
  'ado-main:9': { [A]: ['red', 0, 0, 1, 3, 1], [B]: ['green', 2, 2, 1, 1, 0], [C]: ['green', 2, 2, 1, 1, 0] },
  // Removed today, and a Feature (a container with an `epic:` rollup, not an epic): never counted.
  'ado-main:200': { [A]: ['red', 1, 1, 1, 1, 0], [B]: ['red', 1, 1, 1, 1, 0], [C]: ['red', 1, 1, 1, 1, 0] },
  'ado-main:101': { [C]: ['amber', 5, 10, 1, 2, 0] },
};

/** The stored scopes' own days: the program has none on day A. */
const STORED = [
  { scope: 'portfolio', day: OLD, percentComplete: 0.01, health: 'green', metrics: { compliance: 0.5 } },
  { scope: 'portfolio', day: PORTFOLIO_ONLY, percentComplete: 0.05, health: 'green', metrics: { compliance: 0.6 } },
  { scope: 'portfolio', day: A, percentComplete: 0.1, health: 'amber', metrics: { compliance: 0.7 } },
  { scope: 'portfolio', day: B, percentComplete: 0.4, health: 'red', metrics: { compliance: 0.8 } },
  { scope: 'portfolio', day: C, percentComplete: 0.6, health: 'red', metrics: { compliance: 0.875 } },
  { scope: 'program:payments', day: B, percentComplete: 0.3, health: 'red', metrics: { compliance: 0.75 } },
  { scope: 'program:payments', day: C, percentComplete: 0.5, health: 'red', metrics: {} },
];

const epics = (total: number, green: number, amber: number, red: number) => ({ total, green, amber, red });
const summed = (day: string, percentComplete: number | null, health: string, e: TrendDay['epics']): TrendDay => ({
  day,
  percentComplete,
  health,
  compliance: null,
  metrics: {},
  epics: e,
});
const stored = (day: string, e: TrendDay['epics']): TrendDay => {
  const s = STORED.find((x) => x.scope === 'portfolio' && x.day === day)!;
  return {
    day,
    percentComplete: s.percentComplete,
    health: s.health,
    compliance: s.metrics.compliance ?? null,
    metrics: s.metrics,
    epics: e,
  };
};

const EXPECTED: { name: string; filter: WorkspaceFilter; scope: string; days: TrendDay[] }[] = [
  {
    name: 'no filter: the portfolio’s own days, every live epic counted',
    filter: {},
    scope: 'portfolio',
    days: [
      stored(PORTFOLIO_ONLY, epics(0, 0, 0, 0)),
      stored(A, epics(6, 4, 1, 1)),
      stored(B, epics(7, 4, 2, 1)),
      stored(C, epics(7, 4, 1, 2)),
    ],
  },
  {
    name: 'program payments: a day the program has no snapshot of is summed from its epics',
    filter: { program: 'payments' },
    scope: 'program:payments',
    days: [
      // Points 1 of 3 + 0 of 4 + 0 of 4 + none + 0 of 0 = 1 of 11; the worst epic is red.
      summed(A, 0.0909, 'red', epics(5, 3, 1, 1)),
      {
        day: B,
        percentComplete: 0.3,
        health: 'red',
        compliance: 0.75,
        metrics: { compliance: 0.75 },
        epics: epics(5, 3, 1, 1),
      },
      { day: C, percentComplete: 0.5, health: 'red', compliance: null, metrics: {}, epics: epics(5, 3, 0, 2) },
    ],
  },
  {
    name: 'tracker azure-devops: items done ÷ counted where no epic has points',
    filter: { tracker: 'azure-devops' },
    scope: 'epics',
    // A: 0 points in all, so 1 done of (3 − 1) items; B: 2 of 12 points; C: 7 of 12.
    days: [
      summed(A, 0.5, 'red', epics(2, 1, 0, 1)),
      summed(B, 0.1667, 'green', epics(2, 2, 0, 0)),
      summed(C, 0.5833, 'green', epics(2, 2, 0, 0)),
    ],
  },
  {
    name: 'team Payments\\Checkout across both trackers',
    filter: { team: 'Payments\\Checkout' },
    scope: 'epics',
    // PAY-20 and ado-main:100: 0 of 4 points (ado-main:100 none); 1 of 14; 6 of 14.
    days: [
      summed(A, 0, 'green', epics(2, 2, 0, 0)),
      summed(B, 0.0714, 'amber', epics(2, 1, 1, 0)),
      summed(C, 0.4286, 'red', epics(2, 1, 0, 1)),
    ],
  },
  {
    name: 'owner alice (PAY-20 as owner, PLAT-1 as assignee)',
    filter: { owner: 'alice adams' },
    scope: 'epics',
    days: [
      summed(A, 0.1429, 'green', epics(2, 2, 0, 0)),
      summed(B, 0.7143, 'amber', epics(2, 0, 2, 0)),
      summed(C, 0.7143, 'red', epics(2, 0, 1, 1)),
    ],
  },
  {
    name: 'project jira-main:PLAT: the project has no snapshots, its epics make every day',
    filter: { project: 'jira-main:PLAT' },
    scope: 'project:jira-main:PLAT',
    // 2 of 10 points; 9 of 10 (PLAT-5 has none); the same.
    days: [
      summed(A, 0.2, 'green', epics(1, 1, 0, 0)),
      summed(B, 0.9, 'amber', epics(2, 1, 1, 0)),
      summed(C, 0.9, 'amber', epics(2, 1, 1, 0)),
    ],
  },
  {
    name: 'tracker and owner together: no epics, no days',
    filter: { tracker: 'jira', owner: 'u-carol' },
    scope: 'epics',
    days: [],
  },
];

for (const target of dbTargets()) {
  describe(`workspace trend over days of snapshots on ${target.name}`, () => {
    let database: Database;
    let token: string;

    beforeAll(async () => {
      database = await target.open();
      const { db } = database;
      await seedWorkspace(db, config, now);
      // Today's snapshots from the rollups are replaced by the hand-written days.
      await db.delete(rollupSnapshots);
      const days = Object.entries(EPIC_DAYS).flatMap(([ref, byDay]) =>
        Object.entries<Figures | 'no figures'>({ ...byDay, [OLD]: ['red', 1, 1, 1, 1, 0] }).map(([day, f]) => ({
          day,
          scope: `epic:${ref}`,
          percentComplete: null,
          health: f === 'no figures' ? 'green' : f[0],
          metrics: f === 'no figures' ? {} : m(f),
        })),
      );
      await db.insert(rollupSnapshots).values([...days, ...STORED]);
      token = (await createToken(db, { scope: 'read' })).token;
    });
    afterAll(async () => {
      await database.close();
    });

    for (const e of EXPECTED) {
      it(`API and dashboard: ${e.name}`, async () => {
        const app = createApp({ database, config, log: silentLogger(), now: () => now });
        // The API's parameters: a project is its connection and key.
        const query = new URLSearchParams(
          Object.entries(toScopeFilter(e.filter)).filter((kv): kv is [string, string] => Boolean(kv[1])),
        );
        const res = await app.request(`/api/v1/portfolio?${query}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { trend: unknown };
        expect(body.trend).toEqual({ scope: e.scope, days: e.days });
        expect((await loadDashboard(database.db, config, e.filter, now)).trend).toEqual(body.trend);
      });
    }
  });
}
