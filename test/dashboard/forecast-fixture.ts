// The workspace fixture with forecasts stored as the forecaster would store them, and a baseline
// to slip against: an epic forecast to finish after its target (with a hostile title), a
// low-confidence epic with no dates (and a hostile reason), a program forecast, and a baseline
// whose name is markup. Hand-written rows, so every figure the pages show is known in advance.
import type { Database } from '../../db/client.ts';
import { baselineItems, baselines, forecasts } from '../../db/schema.ts';
import type { Seeded } from '../api/fixture.ts';
import { daysFrom } from '../helpers/items.ts';
import { NOW, seedWorkspace } from './fixture.ts';

const day = (days: number) => daysFrom(NOW, days).slice(0, 10);

export const HOSTILE_REASON = '<script>window.pwned=2</script> no history yet';
export const BASELINE = 'Q3 <b>plan</b> & "cut"';

/** PAY-1: P50/P85/P95 = +20/+35/+50 days, target +30, 60% on time; P85 5 days after target. */
export const PAY1 = { p50: day(20), p85: day(35), p95: day(50), target: day(30) };

export async function seedForecasts(database: Database): Promise<Seeded> {
  const seeded = await seedWorkspace(database);
  const { db } = database;
  const row = {
    basis: 'team',
    weeksOfHistory: 12,
    reason: null,
    inputsHash: 'h',
    status: 'forecast',
    confidence: 'medium',
  };
  await db.insert(forecasts).values([
    {
      ...row,
      scope: 'epic:jira-main:PAY-1',
      kind: 'epic',
      unit: 'points',
      remaining: 3,
      ...PAY1,
      onTimeProbability: 0.6,
    },
    {
      ...row,
      scope: 'epic:jira-main:PAY-20',
      kind: 'epic',
      unit: 'items',
      remaining: 1,
      p50: day(45),
      p85: day(55),
      p95: day(70),
      target: day(40),
      onTimeProbability: 0.3,
    },
    {
      ...row,
      scope: 'epic:ado-main:200',
      kind: 'epic',
      unit: 'items',
      remaining: 1,
      status: 'no-history',
      confidence: 'low',
      weeksOfHistory: 0,
      p50: null,
      p85: null,
      p95: null,
      target: null,
      onTimeProbability: null,
      reason: HOSTILE_REASON,
    },
    {
      ...row,
      scope: 'program:payments',
      kind: 'program',
      unit: 'items',
      remaining: 6,
      p50: day(40),
      p85: day(60),
      p95: day(75),
      target: null,
      onTimeProbability: null,
    },
  ]);
  const [b] = await db
    .insert(baselines)
    .values({ name: BASELINE, program: 'payments', asOf: daysFrom(NOW, -30) })
    .returning({ id: baselines.id });
  await db.insert(baselineItems).values([
    // Target moved 10 days later, P85 5 days later; PAY-4 added since, PAY-99 removed.
    {
      baselineId: b!.id,
      ref: 'jira-main:PAY-1',
      target: day(20),
      p85: day(30),
      scope: ['jira-main:PAY-2', 'jira-main:PAY-3', 'jira-main:PAY-99'],
    },
    // Unchanged target, no forecast then or now.
    { baselineId: b!.id, ref: 'ado-main:100', target: day(-5), p85: null, scope: ['ado-main:101', 'ado-main:102'] },
  ]);
  return seeded;
}
