// Each workspace metric pinned on a small hand-computed portfolio across Jira and Azure DevOps:
// done-late epics, a done epic with open children, epics without a target, an ADO Feature (which
// is not an epic), a removed epic; and every filter. The rollups, the API, the dashboard data and
// `report` must say the same, and every headline count must equal the rows it summarizes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { forecasts } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { loadDashboard } from '../../src/dashboard/data.ts';
import { createApp } from '../../src/http/app.ts';
import { formatCsv, formatTable } from '../../src/report/format.ts';
import { loadReport } from '../../src/report/load.ts';
import { recomputeRollups } from '../../src/rollups/compute.ts';
import { filterToQuery, parseFilter, toScopeFilter, type WorkspaceFilter } from '../../src/workspace/filters.ts';
import {
  assessHealth,
  compareNatural,
  DEFAULT_FORECAST_ON_TIME,
  HEALTH_RULES,
  type HealthInput,
  METRICS,
} from '../../src/workspace/metrics.ts';
import { dbTargets } from '../helpers/db.ts';
import { daysFrom } from '../helpers/items.ts';
import { seedWorkspace, WORKSPACE_ENV, WORKSPACE_YAML, workspaceConfig } from './fixture.ts';

const now = new Date('2026-06-15T12:00:00.000Z');
const d = (days: number) => daysFrom(new Date('2026-06-15T00:00:00.000Z'), days);
const config = workspaceConfig();

/** Epic rows, in the order every view lists them, for each filter. */
const EXPECTED: {
  name: string;
  filter: WorkspaceFilter;
  epics: string[];
  red: number;
  amber: number;
  green: number;
  overdue: number;
}[] = [
  {
    name: 'no filter',
    filter: {},
    epics: [
      'jira-main:PAY-10',
      'jira-main:PAY-20',
      'jira-main:PLAT-1',
      'ado-main:9',
      'ado-main:100',
      'jira-main:PAY-2',
      'jira-main:PLAT-5',
    ],
    red: 2,
    amber: 1,
    green: 4,
    overdue: 1,
  },
  {
    name: 'program payments',
    filter: { program: 'payments' },
    epics: ['jira-main:PAY-10', 'jira-main:PAY-20', 'ado-main:9', 'ado-main:100', 'jira-main:PAY-2'],
    red: 2,
    amber: 0,
    green: 3,
    overdue: 1,
  },
  {
    name: 'program platform',
    filter: { program: 'platform' },
    epics: ['jira-main:PLAT-1', 'jira-main:PLAT-5'],
    red: 0,
    amber: 1,
    green: 1,
    overdue: 0,
  },
  {
    name: 'tracker azure-devops',
    filter: { tracker: 'azure-devops' },
    epics: ['ado-main:9', 'ado-main:100'],
    red: 0,
    amber: 0,
    green: 2,
    overdue: 0,
  },
  {
    name: 'project jira-main:PLAT',
    filter: { project: 'jira-main:PLAT' },
    epics: ['jira-main:PLAT-1', 'jira-main:PLAT-5'],
    red: 0,
    amber: 1,
    green: 1,
    overdue: 0,
  },
  {
    name: 'team Payments (an area path or team field, and the paths under it)',
    filter: { team: 'Payments' },
    epics: ['jira-main:PAY-20', 'ado-main:9', 'ado-main:100'],
    red: 1,
    amber: 0,
    green: 2,
    overdue: 1,
  },
  {
    name: 'team Payments\\Checkout across both trackers',
    filter: { team: 'Payments\\Checkout' },
    epics: ['jira-main:PAY-20', 'ado-main:100'],
    red: 1,
    amber: 0,
    green: 1,
    overdue: 1,
  },
  {
    name: 'owner alice (owner, else assignee; name in any case)',
    filter: { owner: 'alice adams' },
    epics: ['jira-main:PAY-20', 'jira-main:PLAT-1'],
    red: 1,
    amber: 1,
    green: 0,
    overdue: 1,
  },
  {
    name: 'tracker and owner together',
    filter: { tracker: 'jira', owner: 'u-carol' },
    epics: [],
    red: 0,
    amber: 0,
    green: 0,
    overdue: 0,
  },
];

for (const target of dbTargets()) {
  describe(`metric definitions on ${target.name}`, () => {
    let database: Database;
    let token: string;
    const app = () => createApp({ database, config, log: silentLogger(), now: () => now });
    const api = async (path: string) => {
      const res = await app().request(path, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return res.json() as Promise<Record<string, unknown>>;
    };

    beforeAll(async () => {
      database = await target.open();
      const { db } = database;
      await seedWorkspace(db, config, now);
      token = (await createToken(db, { scope: 'read' })).token;
    });
    afterAll(async () => {
      await database.close();
    });

    const epicRollup = async (ref: string) => {
      const r = await loadReport(database.db, { config, now });
      const row = r.rollups.find((x) => x.scope === `epic:${ref}`);
      const m = row?.metrics as Record<string, unknown>;
      return {
        health: row?.health,
        rule: m.healthRule,
        reason: row?.healthReason,
        percentComplete: row?.percentComplete,
        targetDate: m.targetDate,
        plannedFinish: m.plannedFinish,
        scheduleIndex: m.scheduleIndex,
      };
    };

    it('target date is the epic’s own due date; planned finish the latest child due', async () => {
      expect(await epicRollup('jira-main:PAY-20')).toEqual({
        health: 'red',
        rule: 'past-target',
        reason:
          'past-target: target date 2026-06-11 passed 4 days ago at 25% complete; schedule-index-red: schedule index 0.25 below 0.7',
        percentComplete: 0.25,
        targetDate: d(-4),
        plannedFinish: d(10),
        // (1 of 4 points) ÷ (all of the time from start to target elapsed).
        scheduleIndex: 0.25,
      });
    });

    it('judges done work as done: late is still done, open children are red for epic-done-open-children', async () => {
      expect(await epicRollup('jira-main:PAY-2')).toMatchObject({
        health: 'green',
        rule: 'done',
        reason: 'done: 10 days after its target date 2026-05-26',
      });
      expect(await epicRollup('ado-main:9')).toMatchObject({
        health: 'green',
        rule: 'done',
        reason: 'done: by its target date 2026-05-16',
      });
      expect(await epicRollup('jira-main:PAY-10')).toMatchObject({
        health: 'red',
        rule: 'epic-done-open-children',
        reason: 'epic-done-open-children: done with 1 of 2 items still open',
      });
    });

    it('never calls an epic without a target "past target"; its passed planned finish is amber', async () => {
      expect(await epicRollup('jira-main:PLAT-1')).toEqual({
        health: 'amber',
        rule: 'planned-finish-passed',
        reason:
          'planned-finish-passed: no target date, and its planned finish 2026-06-14 passed 1 day ago; overdue-items: 1 of 2 items overdue',
        percentComplete: 0.9,
        targetDate: null,
        plannedFinish: d(-1),
        // No target: the planned finish ends the planned time, all of which has elapsed.
        scheduleIndex: 0.9,
      });
      expect(await epicRollup('jira-main:PLAT-5')).toMatchObject({
        health: 'green',
        rule: 'on-track',
        reason: 'on-track: no child work yet',
        targetDate: null,
        plannedFinish: null,
      });
    });

    it('computes % complete by points and the schedule index to the target date', async () => {
      // ado-main:100: 5 of 10 points; 30 of 90 days elapsed → 0.5 ÷ 0.3333 = 1.5.
      expect(await epicRollup('ado-main:100')).toEqual({
        health: 'green',
        rule: 'on-track',
        reason: 'on-track: 50% complete, schedule index 1.5, compliance 100%',
        percentComplete: 0.5,
        targetDate: d(60),
        plannedFinish: d(50),
        scheduleIndex: 1.5,
      });
    });

    it('counts compliance as passed ÷ applicable checks, one failed check per open finding', async () => {
      const r = await loadReport(database.db, { config, now });
      expect(r.headline.compliance).toBe(0.875);
      expect(r.rollups.find((x) => x.scope === 'portfolio')?.metrics.compliance).toBe(0.875);
      expect(r.rollups.find((x) => x.scope === 'program:payments')?.metrics.compliance).toBe(0.875);
    });

    for (const e of EXPECTED) {
      it(`lists the same epics and counts them in every view: ${e.name}`, async () => {
        const headline = { total: e.epics.length, red: e.red, amber: e.amber, green: e.green };
        // report (what the CLI prints).
        const report = await loadReport(database.db, { config, filter: e.filter, now });
        expect(report.epics.map((x) => x.ref)).toEqual(e.epics);
        expect(report.headline.epics).toEqual(headline);
        expect(report.headline.overdueEpics).toBe(e.overdue);
        expect(report.epics.filter((x) => x.overdue)).toHaveLength(e.overdue);
        expect(report.headline.items).toBe(report.items.length);
        // The table prints the rows in that order.
        const table = formatTable(report);
        const printed = e.epics.map((ref) => table.indexOf(`  ${ref} `));
        expect(printed.every((i) => i > 0)).toBe(true);
        expect([...printed].sort((a, b) => a - b)).toEqual(printed);
        // Dashboard data.
        const dash = await loadDashboard(database.db, config, e.filter, now);
        expect(dash.ignored).toEqual([]);
        expect(dash.epics.map((x) => x.ref)).toEqual(e.epics);
        expect(dash.headline).toEqual(report.headline);
        // Programs table: each row's epics add up to the headline.
        const sum = dash.programs.reduce((n, p) => n + p.headline.epics.total, 0);
        expect(sum).toBe(headline.total);
        // API.
        const body = await api(`/api/v1/portfolio${apiQuery(e.filter)}`);
        expect((body.epics as { ref: string }[]).map((x) => x.ref)).toEqual(e.epics);
        expect(body.headline).toEqual(report.headline);
        expect((body.programs as unknown[]).length).toBe(dash.programs.length);
        expect(body.freshness).toEqual(dash.freshness);
        // The trend's one day (today's snapshots) counts the same epics; no epics, no days here.
        expect((body.trend as { days: { epics: unknown }[] }).days.map((x) => x.epics)).toEqual(
          e.epics.length > 0 ? [{ total: headline.total, green: e.green, amber: e.amber, red: e.red }] : [],
        );
        expect(dash.trend).toEqual(body.trend);
        // The findings the headline counts are the findings the API lists for the filter.
        const q = apiQuery(e.filter);
        const open = await api(`/api/v1/findings${q ? `${q}&` : '?'}status=open`);
        expect((open.findings as unknown[]).length).toBe(report.headline.openFindings);
      });
    }

    it('keeps freshness and programs to the connections a filter includes', async () => {
      const ado = await loadDashboard(database.db, config, { tracker: 'azure-devops' }, now);
      expect(ado.freshness.map((f) => f.connection)).toEqual(['ado-main']);
      expect(ado.programs.map((p) => p.id)).toEqual(['payments']);
      const platform = await loadDashboard(database.db, config, { program: 'platform' }, now);
      expect(platform.freshness.map((f) => f.connection)).toEqual(['jira-main']);
      expect(platform.trend.scope).toBe('program:platform');
    });

    it('exports items, findings, rollups and epics as CSV in natural key order', async () => {
      const report = await loadReport(database.db, { config, filter: { program: 'payments' }, now });
      const col = (csv: string) =>
        csv
          .trim()
          .split('\r\n')
          .slice(1)
          .map((l) => l.split(',')[0]);
      expect(col(formatCsv(report, 'items')).filter((r) => r?.startsWith('jira-main:PAY-'))).toEqual([
        'jira-main:PAY-2',
        'jira-main:PAY-3',
        'jira-main:PAY-10',
        'jira-main:PAY-11',
        'jira-main:PAY-12',
        'jira-main:PAY-20',
        'jira-main:PAY-21',
        'jira-main:PAY-22',
      ]);
      expect(formatCsv(report, 'findings').split('\r\n')[1]).toMatch(
        /^jira-main:PAY-21,jira,PAY,.*,owner-required,warning,open,Set an owner\./,
      );
      expect(col(formatCsv(report, 'rollups'))).toContain('program:payments');
      expect(col(formatCsv(report, 'rollups'))).not.toContain('program:platform');
      expect(col(formatCsv(report, 'epics'))).toEqual(EXPECTED[1]!.epics);
      expect(formatTable(report)).toMatch(/^PROGRAM payments {2}(RED|AMBER|GREEN)/);
    });
  });
}

// Health cites the forecast (issue 26.4): an open epic whose on-time probability is under the
// forecast-on-time rule's threshold is amber for rule forecast-on-time, naming its P85 date.
for (const target of dbTargets()) {
  describe(`health rule forecast-on-time on ${target.name}`, () => {
    let database: Database;
    const epic = async (ref: string) => {
      const r = await loadReport(database.db, { config, now });
      const row = r.rollups.find((x) => x.scope === `epic:${ref}`);
      return {
        health: row?.health,
        rule: (row?.metrics as { healthRule: string } | undefined)?.healthRule,
        reason: row?.healthReason,
      };
    };
    const recompute = (thresholds = config.portfolio.health) =>
      recomputeRollups(database.db, { now, programs: config.portfolio.programs, thresholds });

    beforeAll(async () => {
      database = await target.open();
      await seedWorkspace(database.db, config, now);
      const row = {
        kind: 'epic',
        status: 'forecast',
        confidence: 'high',
        unit: 'points',
        basis: 'team',
        inputsHash: 'h',
      };
      await database.db.insert(forecasts).values([
        // ado-main:100 is on track by its dates (schedule index 1.5) but unlikely by its forecast.
        {
          ...row,
          scope: 'epic:ado-main:100',
          remaining: 5,
          p50: d(70).slice(0, 10),
          p85: d(84).slice(0, 10),
          p95: d(95).slice(0, 10),
          target: d(60).slice(0, 10),
          onTimeProbability: 0.3,
          weeksOfHistory: 12,
        },
        // PAY-20 is already red for its passed target: red still wins over the forecast's amber.
        {
          ...row,
          scope: 'epic:jira-main:PAY-20',
          remaining: 3,
          p50: d(5).slice(0, 10),
          p85: d(9).slice(0, 10),
          p95: d(14).slice(0, 10),
          target: d(-4).slice(0, 10),
          onTimeProbability: 0,
          weeksOfHistory: 12,
        },
      ]);
    });
    afterAll(async () => {
      await database.close();
    });

    it('turns an open epic amber when its on-time probability is under the threshold, naming the P85', async () => {
      await recompute();
      expect(await epic('ado-main:100')).toEqual({
        health: 'amber',
        rule: 'forecast-on-time',
        reason: 'forecast-on-time: 30% likely by its target date 2026-08-14, below 50%; 85% likely done by 2026-09-07',
      });
      expect(await epic('jira-main:PAY-20')).toMatchObject({ health: 'red', rule: 'past-target' });
    });

    it('follows the configured threshold: at or above it the epic is judged by its dates again', async () => {
      await recompute({ ...config.portfolio.health, forecastOnTime: 0.3 });
      expect(await epic('ado-main:100')).toMatchObject({ health: 'green', rule: 'on-track' });
      await recompute({ ...config.portfolio.health, forecastOnTime: 0.35 });
      expect(await epic('ado-main:100')).toMatchObject({
        health: 'amber',
        reason: 'forecast-on-time: 30% likely by its target date 2026-08-14, below 35%; 85% likely done by 2026-09-07',
      });
    });
  });
}

describe('the forecast-on-time threshold', () => {
  const base: HealthInput = {
    kind: 'epic',
    statusCategory: 'in_progress',
    targetDate: '2026-08-01',
    plannedFinish: null,
    resolved: null,
    percentComplete: 0.5,
    scheduleIndex: null,
    compliance: null,
    openChildren: 1,
    totalChildren: 2,
    overdue: 0,
    total: 2,
    blocked: 0,
    errorFindings: 0,
    overdueEpics: 0,
  };
  const t = { scheduleAmber: 0.9, scheduleRed: 0.7, complianceAmber: 0.8, complianceRed: 0.5 };

  it('is the rule override when health does not set one, else 0.5 (the rule’s default)', () => {
    const withRule = `${WORKSPACE_YAML}rules:\n  overrides:\n    forecast-on-time: { params: { threshold: 0.7 } }\n`;
    expect(parseConfig(withRule, { env: WORKSPACE_ENV }).config.portfolio.health.forecastOnTime).toBe(0.7);
    const own = `${withRule.replace('portfolio:\n', 'portfolio:\n  health: { forecastOnTime: 0.2 }\n')}`;
    expect(parseConfig(own, { env: WORKSPACE_ENV }).config.portfolio.health.forecastOnTime).toBe(0.2);
    expect(workspaceConfig().portfolio.health.forecastOnTime).toBeUndefined();
    expect(DEFAULT_FORECAST_ON_TIME).toBe(0.5);
  });

  it('judges only open epics with a target and a probability; none, no amber', () => {
    const now = new Date('2026-06-15T00:00:00Z');
    const f = { onTimeProbability: 0.49, p85: '2026-09-01' };
    expect(assessHealth({ ...base, forecast: f }, t, now).rule).toBe('forecast-on-time');
    expect(assessHealth({ ...base, forecast: { ...f, onTimeProbability: 0.5 } }, t, now).rule).toBe('on-track');
    expect(assessHealth({ ...base, forecast: { ...f, onTimeProbability: null } }, t, now).rule).toBe('on-track');
    expect(assessHealth({ ...base, targetDate: null, forecast: f }, t, now).rule).toBe('on-track');
    expect(assessHealth({ ...base, statusCategory: 'done', openChildren: 0, forecast: f }, t, now).rule).toBe('done');
    expect(assessHealth({ ...base, kind: 'program', statusCategory: null, forecast: f }, t, now).rule).toBe('on-track');
  });
});

/** The API names a project by connection and key; the workspace URL as `<connection>:<key>`. */
function apiQuery(f: WorkspaceFilter): string {
  const scope = toScopeFilter(f);
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(scope)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

describe('filters in the URL', () => {
  it('round-trips every filter through query parameters in one fixed order', () => {
    const f = {
      owner: 'Alice Adams',
      team: 'Payments\\Checkout',
      project: 'jira-main:PAY',
      tracker: 'jira',
      program: 'payments',
    };
    const q = filterToQuery(f);
    expect(q).toBe('?program=payments&tracker=jira&project=jira-main%3APAY&team=Payments%5CCheckout&owner=Alice+Adams');
    expect(parseFilter(new URLSearchParams(q.slice(1)))).toEqual({ filter: f, problems: [] });
    expect(filterToQuery({})).toBe('');
  });

  it('drops hostile or malformed values and says which', () => {
    expect(
      parseFilter({ program: 'x'.repeat(301), owner: 'a\u0000b', project: 'PAY', team: ['one', 'two'], tracker: '  ' }),
    ).toEqual({
      filter: { team: 'one' },
      problems: [
        'program: longer than 300 characters',
        'project: "PAY" is not <connection>:<project>',
        'owner: contains control characters',
      ],
    });
  });
});

describe('definitions', () => {
  it('sorts keys naturally: :2 before :10, PAY-9 before PAY-10', () => {
    expect(['a:10', 'a:2', 'a:1', 'PAY-10', 'PAY-9', 'b'].sort(compareNatural)).toEqual([
      'PAY-9',
      'PAY-10',
      'a:1',
      'a:2',
      'a:10',
      'b',
    ]);
  });

  it('writes each definition and health rule once, and docs/metrics.md repeats them word for word', () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    for (const m of Object.values(METRICS)) {
      expect(doc).toContain(`**${m.label}**`);
      expect(doc).toContain(m.definition);
    }
    for (const [id, r] of Object.entries(HEALTH_RULES))
      expect(doc).toContain(`| \`${id}\` | ${r.health} | ${r.text} |`);
    // Two dates, two names: nothing is called both.
    expect(METRICS.targetDate.label).not.toBe(METRICS.plannedFinish.label);
    expect(METRICS.plannedFinish.definition).toContain('never called a target');
  });
});
