import { describe, expect, it } from 'vitest';
import { forecast } from './forecaster.ts';

const TODAY = '2027-01-04';

describe('forecast', () => {
  it('gives one exact date for every percentile when throughput never varies', () => {
    // 12 items at 5 a week: 5 + 5 in two weeks, then 2 of the third week's 5 take 3 of its 7 days.
    const f = forecast({
      remaining: 12,
      unit: 'items',
      weeklyThroughput: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5],
      today: TODAY,
      target: '2027-01-21',
    });
    expect(f).toEqual({
      status: 'forecast',
      confidence: 'high',
      unit: 'items',
      remaining: 12,
      trials: 10_000,
      weeksOfHistory: 12,
      p50: '2027-01-21',
      p85: '2027-01-21',
      p95: '2027-01-21',
      onTimeProbability: 1,
      reason: null,
    });
    expect(
      forecast({ remaining: 12, unit: 'items', weeklyThroughput: [5], today: TODAY, target: '2027-01-20' })
        .onTimeProbability,
    ).toBe(0);
  });

  it('says today, with certainty, when nothing is left', () => {
    const f = forecast({ remaining: 0, unit: 'points', weeklyThroughput: [], today: TODAY, target: '2027-02-01' });
    expect([f.status, f.p50, f.p85, f.p95, f.onTimeProbability]).toEqual(['done', TODAY, TODAY, TODAY, 1]);
  });

  it('gives a low-confidence form without dates when there is no history', () => {
    expect(forecast({ remaining: 8, unit: 'items', weeklyThroughput: [], today: TODAY, target: '2027-02-01' })).toEqual(
      {
        status: 'no-history',
        confidence: 'low',
        unit: 'items',
        remaining: 8,
        trials: 10_000,
        weeksOfHistory: 0,
        p50: null,
        p85: null,
        p95: null,
        onTimeProbability: null,
        reason: 'no throughput history in items for the teams doing it',
      },
    );
    const stalled = forecast({ remaining: 8, unit: 'items', weeklyThroughput: [0, 0, 0], today: TODAY });
    expect([stalled.status, stalled.confidence, stalled.p85]).toEqual(['stalled', 'low', null]);
  });

  it('gives the same answer for the same inputs and seed, and another for another seed', () => {
    const input = {
      remaining: 40,
      unit: 'items' as const,
      weeklyThroughput: [0, 3, 7, 2, 9, 4, 1, 6],
      today: TODAY,
      target: '2027-03-01',
    };
    const a = forecast({ ...input, seed: 42 });
    expect(forecast({ ...input, seed: 42 })).toEqual(a);
    const others = [1, 2, 3, 4, 5].map((seed) => forecast({ ...input, seed, trials: 200 }).onTimeProbability);
    expect(new Set(others).size).toBeGreaterThan(1);
  });

  it('orders its percentiles and agrees with the binomial arithmetic of a two-valued history', () => {
    // A week finishes 10 items with chance 1/3, else none; 10 items remain: the finish week is
    // geometric, P(finish within week k) = 1 − (2/3)^k = .33, .56, .70, .80, .87, .91, .94, .96…:
    // P50 ends week 2, P85 week 5, P95 week 8.
    const f = forecast({
      remaining: 10,
      unit: 'items',
      weeklyThroughput: [0, 0, 10],
      today: TODAY,
      target: '2027-01-18',
      seed: 7,
    });
    expect([f.p50, f.p85, f.p95]).toEqual(['2027-01-18', '2027-02-08', '2027-03-01']);
    // Target at the end of week 2: 1 − 4/9 = 0.556, within sampling error of 10,000 trials.
    expect(Math.abs(f.onTimeProbability! - 5 / 9)).toBeLessThan(0.02);
    expect(f.confidence).toBe('low');
  });

  it('forecasts points as it does items', () => {
    const f = forecast({ remaining: 21, unit: 'points', weeklyThroughput: Array(8).fill(7), today: TODAY });
    expect([f.unit, f.p50, f.confidence, f.onTimeProbability]).toEqual(['points', '2027-01-25', 'medium', null]);
  });

  it('refuses a date it cannot read', () => {
    expect(() => forecast({ remaining: 1, unit: 'items', weeklyThroughput: [1], today: 'soon' })).toThrow(/not a date/);
  });
});
