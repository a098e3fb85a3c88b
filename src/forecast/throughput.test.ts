import { describe, expect, it } from 'vitest';
import { publish, roundOnTime } from './compute.ts';
import {
  categoriesAt,
  categoryAt,
  compactTransitions,
  compactValues,
  type FlowItem,
  itemsAsOf,
  leavesByContainer,
  openLeavesByTeam,
  scopeInputs,
  teamFlowOf,
  WEEK_MS,
} from './throughput.ts';

const END = Date.parse('2026-12-07T00:00:00Z');
const min = (ms: number) => Math.floor(ms / 60_000);
const iso = (ms: number) => new Date(ms).toISOString();

function story(ref: string, team: string, doneMs: number | null, opts: Partial<FlowItem> = {}): FlowItem {
  const transitions: [number, string][] = [];
  if (doneMs !== null) transitions.push([min(doneMs - 2 * 86_400_000), 'p'], [min(doneMs), 'd']);
  return {
    ref,
    team,
    kind: 'story',
    parent: null,
    statusCategory: doneMs === null ? 'todo' : 'done',
    points: null,
    created: iso(END - 30 * WEEK_MS),
    started: null,
    resolved: doneMs === null ? null : iso(doneMs),
    due: null,
    transitions,
    ...opts,
  };
}

describe('flow', () => {
  it('counts throughput per team per week and cycle times from history', () => {
    // Arrange: team A finishes 1 item in the last week and 2 in the one before; team B nothing.
    const items = [
      story('a:1', 'A', END - 3 * 86_400_000),
      story('a:2', 'A', END - 8 * 86_400_000),
      story('a:3', 'A', END - 9 * 86_400_000),
      story('b:1', 'B', null),
    ];

    // Act
    const flow = teamFlowOf(items, END, 4);

    // Assert
    expect(flow.get('A')!.weeks.items).toEqual([0, 0, 2, 1]);
    expect(flow.get('A')!.cycleTimeDays).toEqual({ n: 3, p50: 2, p85: 2, p95: 2 });
    expect(flow.get('B')!.weeks.items).toEqual([0, 0, 0, 0]);
  });

  it('answers where an item stood at a past instant from its history', () => {
    const it = story('a:1', 'A', END - 10 * 86_400_000);
    expect([
      categoryAt(it, END - 40 * WEEK_MS),
      categoryAt(it, END - 20 * 86_400_000),
      categoryAt(it, END - 11 * 86_400_000),
      categoryAt(it, END),
    ]).toEqual([null, 'todo', 'in_progress', 'done']);
  });

  it('takes an item whose history starts after its start date as in progress from that date', () => {
    // Arrange: started before the horizon, so its history holds only its close (an Azure DevOps
    // stream shows such an item first at the revision it was closed in, or at a later edit).
    const done = END - 5 * 86_400_000;
    const it = story('a:1', 'A', null, {
      statusCategory: 'done',
      started: iso(END - 60 * 86_400_000),
      resolved: iso(done),
      transitions: [[min(done), 'd']],
    });

    // Act
    const stood = [90, 30, 1].map((days) => categoryAt(it, END - days * 86_400_000));
    const flow = teamFlowOf([it], END, 4);

    // Assert
    expect(stood).toEqual(['todo', 'in_progress', 'done']);
    expect(flow.get('A')!.cycleTimeDays).toEqual({ n: 1, p50: 55, p85: 55, p95: 55 });
  });

  it('answers for many instants at once exactly as one instant at a time', () => {
    const ms = (v: string | null) => (v === null ? null : Date.parse(v));
    const items = [
      story('a:1', 'A', END - 10 * 86_400_000),
      story('a:2', 'A', null, { transitions: [] }),
      story('a:3', 'A', null, { statusCategory: 'removed', resolved: iso(END - 3 * WEEK_MS), transitions: null }),
      story('a:4', 'A', null, {
        statusCategory: 'removed',
        started: iso(END - 5 * WEEK_MS),
        resolved: iso(END - 3 * WEEK_MS),
        transitions: null,
      }),
      story('a:5', 'A', null, { statusCategory: 'done', resolved: iso(END - WEEK_MS), transitions: null }),
      story('a:6', 'A', null, { created: iso(END + WEEK_MS), transitions: [[min(END - WEEK_MS), 'r']] }),
      story('a:7', 'A', null, {
        statusCategory: 'done',
        started: iso(END - 9 * WEEK_MS),
        resolved: iso(END - 2 * WEEK_MS),
        transitions: [[min(END - 2 * WEEK_MS), 'd']],
      }),
    ];
    const times = Array.from({ length: 40 }, (_, i) => END - (39 - i) * WEEK_MS + (i % 3) * 60_000);
    for (const it of items) {
      const timed = { ...it, created: Date.parse(it.created), started: ms(it.started), resolved: ms(it.resolved) };
      expect([it.ref, categoriesAt(timed, times)]).toEqual([it.ref, times.map((t) => categoryAt(it, t))]);
    }
  });

  it("shares a team's throughput by the scope's part of its open work", () => {
    // Arrange: team A finished 4 a week; 6 items open, 2 of them in this epic → a third of its pace.
    const done = Array.from({ length: 8 }, (_, i) => story(`a:d${i}`, 'A', END - (i < 4 ? 1 : 8) * 86_400_000));
    const open = Array.from({ length: 6 }, (_, i) => story(`a:o${i}`, 'A', null));
    const all = [...done, ...open];

    // Act
    const inputs = scopeInputs(open.slice(0, 2), teamFlowOf(all, END, 2), openLeavesByTeam(all, END), END, 2);

    // Assert
    expect(inputs).toEqual({
      remaining: 2,
      ahead: 0,
      unit: 'items',
      series: [4 / 3, 4 / 3],
      basis: 'team',
      scope: ['a:o0', 'a:o1'],
    });
  });

  it('puts a scope not started yet behind the work its teams have started', () => {
    // Arrange: team A finishes 4 a week; 3 items of a started epic are open; a new epic has 2.
    const done = Array.from({ length: 8 }, (_, i) => story(`a:d${i}`, 'A', END - (i < 4 ? 1 : 8) * 86_400_000));
    const fresh = [story('a:n1', 'A', null), story('a:n2', 'A', null)];
    const load = {
      open: new Map([['A', 5]]),
      started: new Map([['A', { items: 3, points: 0 }]]),
    };

    // Act
    const inputs = scopeInputs(fresh, teamFlowOf([...done, ...fresh], END, 2), load, END, 2);

    // Assert: it draws 2 + 3 items at the team's whole pace.
    expect({ remaining: inputs.remaining, ahead: inputs.ahead, series: inputs.series }).toEqual({
      remaining: 2,
      ahead: 3,
      series: [4, 4],
    });
  });

  it('collapses repeated categories when transitions are stored', () => {
    expect(
      compactTransitions([
        { at: '2026-01-01T00:00:00Z', to: 'in_progress' },
        { at: '2026-01-02T00:00:00Z', to: 'in_progress' },
        { at: '2026-01-03T00:00:00Z', to: 'done' },
      ]),
    ).toEqual([
      [min(Date.parse('2026-01-01T00:00:00Z')), 'p'],
      [min(Date.parse('2026-01-03T00:00:00Z')), 'd'],
    ]);
  });
});

describe('publish', () => {
  const S = { p85MoveDays: 5, onTimeMove: 0.05 };

  it('keeps what is shown while the forecast moves less than the thresholds', () => {
    const shown = { p85: '2027-03-01', onTime: 0.6 };
    expect(publish({ p85: '2027-03-04', onTimeProbability: 0.63 }, shown, S)).toEqual(shown);
    expect(publish({ p85: '2027-03-06', onTimeProbability: 0.52 }, shown, S)).toEqual({
      p85: '2027-03-06',
      onTime: 0.5,
    });
  });

  it('rounds on-time probability to 5% steps, and shows a first forecast as it is', () => {
    expect([roundOnTime(0.574), roundOnTime(0.576), roundOnTime(null)]).toEqual([0.55, 0.6, null]);
    expect(publish({ p85: null, onTimeProbability: null }, undefined, S)).toEqual({ p85: null, onTime: null });
  });
});

describe('target dates and parents as of a past instant', () => {
  const at = (days: number) => END - days * 86_400_000;

  it('stores values over time compactly: repeats collapsed, a later value in one minute replacing', () => {
    // Act
    const first = compactValues([
      { at: iso(at(30)), value: '2027-01-01' },
      { at: iso(at(20)), value: '2027-01-01' },
      { at: iso(at(10)), value: '2027-02-01' },
    ]);
    const appended = compactValues(
      [
        { at: iso(at(5)), value: '2027-02-01' },
        { at: iso(at(5) + 1000), value: null },
      ],
      first,
    );

    // Assert
    expect(first).toEqual([
      [min(at(30)), '2027-01-01'],
      [min(at(10)), '2027-02-01'],
    ]);
    expect(appended).toEqual([
      [min(at(30)), '2027-01-01'],
      [min(at(10)), '2027-02-01'],
      [min(at(5)), null],
    ]);
  });

  it('gives each item the target and parent it had then; the first known value before that, the current without any', () => {
    // Arrange: epic E's target moved 10 days ago; story s1 moved from E to F 5 days ago; s2 has no history.
    const epic = (ref: string, due: string, dueChanges?: FlowItem['dueChanges']) =>
      story(ref, 'A', null, { kind: 'epic', due, dueChanges });
    const items = [
      epic('j:E', '2027-03-01', [
        [min(at(60)), '2027-01-15'],
        [min(at(10)), '2027-03-01'],
      ]),
      epic('j:F', '2027-04-01'),
      story('j:s1', 'A', null, {
        parent: 'j:F',
        parentChanges: [
          [min(at(60)), 'j:E'],
          [min(at(5)), 'j:F'],
        ],
      }),
      story('j:s2', 'A', null, { parent: 'j:E' }),
    ];

    // Act
    const then = itemsAsOf(items, at(20));
    const before = itemsAsOf(items, at(90));
    const now = itemsAsOf(items, END);

    // Assert
    const view = (xs: FlowItem[]) => xs.map((x) => [x.ref, x.due, x.parent]);
    expect(view(then)).toEqual([
      ['j:E', '2027-01-15', null],
      ['j:F', '2027-04-01', null],
      ['j:s1', null, 'j:E'],
      ['j:s2', null, 'j:E'],
    ]);
    expect(view(before)).toEqual(view(then));
    expect(view(now)).toEqual(view(items));
    expect(
      leavesByContainer(then)
        .get('j:E')!
        .map((l) => l.ref),
    ).toEqual(['j:s1', 'j:s2']);
    expect(
      leavesByContainer(now)
        .get('j:F')!
        .map((l) => l.ref),
    ).toEqual(['j:s1']);
  });
});
