import { describe, expect, it } from 'vitest';
import { ForecastConfig } from '../config/schema.ts';
import { type TeamFacts, teamFor } from './teams.ts';
import { type FlowItem, teamFlowOf, WEEK_MS } from './throughput.ts';

const facts = (over: Partial<TeamFacts> = {}): TeamFacts => ({
  connection: 'jira-main',
  project: 'PLAT',
  areaPath: null,
  labels: [],
  fields: {},
  teamOf: null,
  ...over,
});

const teams = ForecastConfig.parse({
  teams: [
    { id: 'payments', match: { connection: 'jira-main', label: 'payments' } },
    { id: 'web', name: 'Web', match: { areaPath: 'Fabrikam\\Web' } },
    { id: 'data', match: { field: { name: 'squad', value: 'data' } } },
    { id: 'core', match: { project: 'CORE' } },
    { id: 'checkout', match: { connection: 'jira-main', board: 12 } },
  ],
}).teams;

describe('the team of an item', () => {
  it('is the Jira project when nothing else says', () => {
    expect(teamFor(facts())).toBe('jira-main:PLAT');
    expect(teamFor(facts(), teams)).toBe('jira-main:PLAT');
  });

  it('is the area path (the workspace filter’s team) for an Azure DevOps item no team claims', () => {
    const item = facts({
      connection: 'ado-main',
      project: 'Fabrikam',
      areaPath: 'Fabrikam\\Ops',
      teamOf: 'Fabrikam\\Ops',
    });
    expect(teamFor(item, teams)).toBe('Fabrikam\\Ops');
  });

  it('is a configured team matched by label, only on the connection it names', () => {
    expect(teamFor(facts({ labels: ['x', 'payments'] }), teams)).toBe('payments');
    expect(teamFor(facts({ connection: 'jira-other', labels: ['payments'] }), teams)).toBe('jira-other:PLAT');
  });

  it('is a configured team matched by area path, at the node or under it, in any case', () => {
    const at = (areaPath: string) =>
      teamFor(facts({ connection: 'ado-main', project: 'Fabrikam', areaPath, teamOf: areaPath }), teams);
    expect(at('Fabrikam\\Web')).toBe('web');
    expect(at('fabrikam\\web\\Checkout')).toBe('web');
    // A sibling whose name merely starts the same is not under it.
    expect(at('Fabrikam\\Webhooks')).toBe('Fabrikam\\Webhooks');
  });

  it('is a configured team matched by a normalized field or a project; the first match wins', () => {
    expect(teamFor(facts({ fields: { squad: 'data' } }), teams)).toBe('data');
    expect(teamFor(facts({ fields: { squad: { value: 'data' } } }), teams)).toBe('jira-main:PLAT');
    expect(teamFor(facts({ project: 'CORE' }), teams)).toBe('core');
    expect(teamFor(facts({ project: 'CORE', labels: ['payments'] }), teams)).toBe('payments');
  });

  it('is a configured team matched by a Jira board the item is on, only on the connection it names', () => {
    expect(teamFor(facts({ boards: [3, 12] }), teams)).toBe('checkout');
    expect(teamFor(facts({ boards: [3] }), teams)).toBe('jira-main:PLAT');
    expect(teamFor(facts(), teams)).toBe('jira-main:PLAT');
    expect(teamFor(facts({ connection: 'jira-other', boards: [12] }), teams)).toBe('jira-other:PLAT');
  });

  it('refuses a board without its connection', () => {
    const r = ForecastConfig.safeParse({ teams: [{ id: 'a', match: { board: 7 } }] });
    expect(r.error?.issues.map((i) => ({ path: i.path, message: i.message }))).toEqual([
      { path: ['teams', 0, 'match', 'connection'], message: "a board is a Jira connection's: give its connection too" },
    ]);
  });

  it('rejects a team with an empty match and duplicate team ids', () => {
    expect(ForecastConfig.safeParse({ teams: [{ id: 'a', match: {} }] }).success).toBe(false);
    const dup = ForecastConfig.safeParse({
      teams: [
        { id: 'a', match: { label: 'x' } },
        { id: 'a', match: { label: 'y' } },
      ],
    });
    expect(dup.success).toBe(false);
    expect(dup.error?.issues[0]?.path).toEqual(['teams', 1, 'id']);
  });

  it('groups throughput and cycle time by team', () => {
    // Arrange: one Jira project worked by two labelled teams, and an Azure DevOps area path.
    const END = Date.parse('2026-12-07T00:00:00Z');
    const done = (ref: string, f: TeamFacts, daysAgo: number, cycleDays: number): FlowItem => {
      const at = END - daysAgo * 86_400_000;
      return {
        ref,
        team: teamFor(f, teams),
        project: `${f.connection}:${f.project}`,
        kind: 'story',
        parent: null,
        statusCategory: 'done',
        points: null,
        created: new Date(END - 10 * WEEK_MS).toISOString(),
        started: null,
        resolved: new Date(at).toISOString(),
        due: null,
        transitions: [
          [Math.floor((at - cycleDays * 86_400_000) / 60_000), 'p'],
          [Math.floor(at / 60_000), 'd'],
        ],
      };
    };
    const ops = facts({
      connection: 'ado-main',
      project: 'Fabrikam',
      areaPath: 'Fabrikam\\Ops',
      teamOf: 'Fabrikam\\Ops',
    });
    const items = [
      done('p1', facts({ labels: ['payments'] }), 1, 2),
      done('p2', facts({ labels: ['payments'] }), 2, 4),
      done('x1', facts(), 8, 3),
      done('o1', ops, 1, 5),
    ];

    // Act
    const flow = teamFlowOf(items, END, 2);

    // Assert: weeks oldest first; the last week ends at END.
    expect([...flow.keys()].sort()).toEqual(['Fabrikam\\Ops', 'jira-main:PLAT', 'payments']);
    expect(flow.get('payments')!.weeks.items).toEqual([0, 2]);
    expect(flow.get('payments')!.cycleTimeDays).toMatchObject({ n: 2, p50: 2, p85: 4 });
    expect(flow.get('jira-main:PLAT')!.weeks.items).toEqual([1, 0]);
    expect(flow.get('Fabrikam\\Ops')!.weeks.items).toEqual([0, 1]);
  });
});
