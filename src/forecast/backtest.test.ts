// The backtest on the generator's portfolio: forecasts from what was known ten weeks ago against
// what happened since. The figures are printed (BENCHMARKS.md quotes them); the assertions hold
// the forecaster to being roughly calibrated, and to the arithmetic on a case with a known answer.
import { describe, expect, it } from 'vitest';
import { planFlowPortfolio } from '../../connectors/flow-portfolio.ts';
import { backtest, flowItemsOf } from './backtest.ts';
import type { FlowItem } from './throughput.ts';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const WEEK = 7 * 86_400_000;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

describe('backtest', () => {
  it('is roughly calibrated on the generated portfolio', () => {
    // Arrange: 12 teams of varied pace, 24 epics each, 40 weeks of history.
    const items = flowItemsOf(planFlowPortfolio({ teams: 12, epicsPerTeam: 24, weeksBack: 40, now: NOW, seed: 26 }));

    // Act
    const r = backtest(items, {
      asOf: new Date(NOW - 10 * WEEK),
      now: new Date(NOW),
      settings: { trials: 10_000, windowWeeks: 26 },
    });

    // Assert
    console.log(`backtest as of ${r.asOf.slice(0, 10)}: ${JSON.stringify(r)}`);
    expect(r.forecast).toBeGreaterThan(15);
    expect(r.p50.share).toBeGreaterThan(0.3);
    expect(r.p50.share).toBeLessThan(0.75);
    expect(r.p85.share).toBeGreaterThan(0.7);
    expect(r.p95.share).toBeGreaterThan(0.8);
  });

  it('scores a forecast that came true at its P50 with zero error', () => {
    // Arrange: one team finishing exactly 2 items a week for 12 weeks; an epic of 4 items opened
    // at the as-of instant finishes in two weeks, which is what the forecast says.
    const asOf = NOW - 4 * WEEK;
    const items: FlowItem[] = [];
    for (let w = 0; w < 12; w++)
      for (let k = 0; k < 2; k++) {
        const done = asOf - (12 - w) * WEEK + (k + 1) * 86_400_000;
        items.push(leaf(`old-${w}-${k}`, null, done - 2 * 86_400_000, done, asOf - 13 * WEEK));
      }
    items.push({ ...leaf('E1', null, null, null, asOf - WEEK), kind: 'epic', due: '2026-12-31' });
    for (let k = 0; k < 4; k++) {
      const done = asOf + (k < 2 ? WEEK : 2 * WEEK) - 86_400_000;
      items.push(leaf(`new-${k}`, 'x:E1', done - 86_400_000, done, asOf - WEEK));
    }

    // Act
    const r = backtest(items, {
      asOf: new Date(asOf),
      now: new Date(NOW),
      settings: { trials: 1000, windowWeeks: 12 },
    });

    // Assert
    expect({ forecast: r.forecast, finished: r.finished, mae: r.maeDays, p50: r.p50, p95: r.p95 }).toEqual({
      forecast: 1,
      finished: 1,
      mae: 1,
      p50: { evaluable: 1, finishedBy: 1, share: 1 },
      p95: { evaluable: 1, finishedBy: 1, share: 1 },
    });
  });
});

function leaf(
  id: string,
  parent: string | null,
  started: number | null,
  resolved: number | null,
  created: number,
): FlowItem {
  const transitions: [number, string][] = [];
  if (started !== null) transitions.push([Math.floor(started / 60_000), 'p']);
  if (resolved !== null) transitions.push([Math.floor(resolved / 60_000), 'd']);
  return {
    ref: `x:${id}`,
    team: 'x:T',
    kind: 'story',
    parent,
    statusCategory: resolved !== null ? 'done' : 'todo',
    points: null,
    created: iso(created)!,
    started: iso(started),
    resolved: iso(resolved),
    due: null,
    transitions,
  };
}
