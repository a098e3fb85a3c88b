// `pmo-sync report` as a PMO runs it: the dashboard's epics and headline, for a program or any
// workspace filter, in natural key order, and CSV of items, findings, rollups or epics.
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { loadDashboard } from '../../src/dashboard/data.ts';
import { configDir, runCli } from '../helpers/cli.ts';
import { seedWorkspace, WORKSPACE_ENV, WORKSPACE_YAML, workspaceConfig } from '../workspace/fixture.ts';

describe('pmo-sync report', () => {
  let dir: string;
  const env = WORKSPACE_ENV;
  // The CLI judges overdue on the real clock: the portfolio is dated around today.
  const now = new Date();
  const config = workspaceConfig();
  let dashboardEpics: Record<string, string[]>;

  beforeAll(async () => {
    dir = configDir(WORKSPACE_YAML);
    const database = await openDatabase('./db', { cwd: dir });
    try {
      await database.migrate();
      await seedWorkspace(database.db, config, now);
      dashboardEpics = {};
      for (const [name, filter] of Object.entries({
        all: {},
        payments: { program: 'payments' },
        ado: { tracker: 'azure-devops' },
      }))
        dashboardEpics[name] = (await loadDashboard(database.db, config, filter, now)).epics.map((e) => e.ref);
    } finally {
      await database.close();
    }
  });

  const run = async (...args: string[]) => {
    const r = await runCli(['report', ...args], { cwd: dir, env });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    return r.stdout;
  };
  const epicRows = (table: string) =>
    table
      .split('\n')
      .filter((l) => /^ {2}(red|amber|green) /.test(l) && /\d{4}-\d{2}-\d{2}|—/.test(l))
      .map((l) => l.trim().split(/\s+/)[2]!);

  it('lists the dashboard’s epics, Azure DevOps Features excluded, in the dashboard’s order', async () => {
    const table = await run();
    expect(epicRows(table.slice(table.indexOf('EPICS BY HEALTH')))).toEqual(dashboardEpics.all);
    expect(table).not.toContain('ado-main:101 ');
    expect(table).toMatch(/^PORTFOLIO {2}(GREEN|AMBER|RED)/);
    expect(table).toContain(`EPICS  ${dashboardEpics.all!.length} (`);
  });

  it('reports one program, with its rollup and only its epics', async () => {
    const table = await run('--program', 'payments');
    expect(table).toMatch(/^PROGRAM payments {2}(GREEN|AMBER|RED) /);
    expect(table).not.toContain('no rollups computed yet');
    expect(epicRows(table.slice(table.indexOf('EPICS BY HEALTH')))).toEqual(dashboardEpics.payments);
  });

  it('takes every workspace filter', async () => {
    const table = await run('--tracker', 'azure-devops');
    expect(table).toMatch(/^FILTER {2}tracker azure-devops/);
    expect(epicRows(table.slice(table.indexOf('EPICS BY HEALTH')))).toEqual(dashboardEpics.ado);
    const team = JSON.parse(await run('--team', 'Payments\\Checkout', '--format', 'json'));
    expect(team.epics.map((e: { ref: string }) => e.ref)).toEqual(['jira-main:PAY-20', 'ado-main:100']);
    const owner = JSON.parse(await run('--owner', 'ALICE ADAMS', '--format', 'json'));
    expect(owner.headline.epics.total).toBe(owner.epics.length);
    expect(owner.epics.map((e: { ref: string }) => e.ref).sort()).toEqual(['jira-main:PAY-20', 'jira-main:PLAT-1']);
  });

  it('exports items in natural key order, and findings, rollups and epics, as CSV', async () => {
    const items = (await run('--format', 'csv', '--program', 'payments')).trim().split('\r\n');
    const refs = items.slice(1).map((l) => l.split(',')[0]);
    expect(refs.indexOf('jira-main:PAY-2')).toBeLessThan(refs.indexOf('jira-main:PAY-10'));
    expect(refs.indexOf('ado-main:9')).toBeLessThan(refs.indexOf('ado-main:100'));
    const findings = (await run('--format', 'csv', '--what', 'findings')).trim().split('\r\n');
    expect(findings[0]).toBe(
      'ref,tracker,project,title,owner,rule,severity,status,message,firstSeen,lastSeen,resolvedAt,waivedReason,waivedUntil',
    );
    expect(findings).toHaveLength(2);
    const rollups = (await run('--format', 'csv', '--what', 'rollups', '--program', 'platform')).trim().split('\r\n');
    expect(rollups[0]).toMatch(/^scope,kind,health,healthRule,healthReason,/);
    expect(rollups.slice(1).map((l) => l.split(',')[0])).toEqual([
      'epic:jira-main:PLAT-1',
      'epic:jira-main:PLAT-5',
      'program:platform',
    ]);
    const epics = (await run('--format', 'csv', '--what', 'epics')).trim().split('\r\n');
    expect(epics.slice(1).map((l) => l.split(',')[0])).toEqual(dashboardEpics.all);
  });

  it('refuses an unknown --what, program or malformed project in one line, exit 2', async () => {
    for (const [args, message] of [
      [['--what', 'people'], '--what must be one of items, findings, rollups, epics, not "people"'],
      [['--program', 'nope'], '--program nope: no such program (configured: payments, platform)'],
      [['--project', 'PAY'], '--project: "PAY" is not <connection>:<project>'],
    ] as const) {
      const r = await runCli(['report', ...args], { cwd: dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(message);
    }
  });
});
