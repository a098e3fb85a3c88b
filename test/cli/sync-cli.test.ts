// The main job from the command line against running simulators: `sync --dry-run --json`
// prints the DESIGN.md summary and stores items; `report --format json` lists them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { configDir, runCli } from '../helpers/cli.ts';

describe('pmo-sync sync and report against the simulators', () => {
  let jira: JiraSimulator;
  let ado: AdoSimulator;
  let dir: string;
  /** The report's own database: it syncs there first, so it holds in any test order. */
  let reportDir: string;
  const env = { JIRA_API_TOKEN: 'cli-jira-token', ADO_PAT: 'cli-ado-pat' };
  beforeAll(async () => {
    jira = await startJiraSimulator();
    ado = await startAdoSimulator();
    jira.seedPortfolio({ projects: ['PAY'], epics: 4, storiesPerEpic: 5, bugsPerEpic: 1, violationRate: 0.3, seed: 3 });
    ado.addProject('Payments', 'Scrum');
    ado.seedPortfolio({
      process: 'Scrum',
      project: 'Payments',
      epics: 2,
      featuresPerEpic: 2,
      storiesPerFeature: 3,
      seed: 4,
    });
    const config = () =>
      configDir(`
database: { url: ./db }
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: \${JIRA_API_TOKEN} }
    scope: { projects: [PAY] }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${ado.url}
    auth: { pat: \${ADO_PAT} }
    scope: { projects: [Payments] }
`);
    dir = config();
    reportDir = config();
  });
  afterAll(async () => {
    await jira.close();
    await ado.close();
  });

  for (const [id, tracker, total] of [
    ['jira-main', 'jira', 28],
    ['ado-main', 'azure-devops', 18],
  ] as const) {
    it(`syncs ${id} alone in dry-run and prints the summary as JSON`, async () => {
      const r = await runCli(['sync', '--connection', id, '--dry-run', '--json'], { cwd: dir, env });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const s = JSON.parse(r.stdout);
      expect(s.mode).toBe('dry-run');
      expect(typeof s.durationMs).toBe('number');
      expect(s.connections).toHaveLength(1);
      const c = s.connections[0];
      expect({
        id: c.id,
        tracker: c.tracker,
        itemsPulled: c.itemsPulled,
        itemsChanged: c.itemsChanged,
        itemsDeleted: c.itemsDeleted,
      }).toEqual({
        id,
        tracker,
        itemsPulled: total,
        itemsChanged: total,
        itemsDeleted: 0,
      });
      expect(c.requests).toBeGreaterThan(0);
      expect({ throttled: c.throttled, retries: c.retries }).toEqual({ throttled: 0, retries: 0 });
      expect(Object.keys(s.findings).sort()).toEqual([
        'byRule',
        'checks',
        'evaluated',
        'open',
        'opened',
        'resolved',
        'ruleErrors',
        'waived',
      ]);
      expect(s.findings.open).toBeGreaterThan(0);
      expect(s.writes.sent).toBe(0);
      expect(s.writes.planned).toBeGreaterThan(0);
      // Dry-run: nothing reached the tracker.
      if (tracker === 'jira') expect(jira.store.all().every((i) => i.comments.length === 0)).toBe(true);
    });
  }

  it('reports stored items with the model field names, findings and rollups as JSON and CSV', async () => {
    const dir = reportDir;
    expect((await runCli(['sync', '--dry-run'], { cwd: dir, env })).code).toBe(0);
    const r = await runCli(['report', '--format', 'json'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.items).toHaveLength(46);
    const epic = report.items.find((i: { kind: string; tracker: string }) => i.kind === 'epic' && i.tracker === 'jira');
    for (const key of [
      'ref',
      'tracker',
      'project',
      'kind',
      'title',
      'status',
      'statusCategory',
      'assignee',
      'owner',
      'due',
      'points',
      'parent',
      'links',
      'labels',
      'url',
    ]) {
      expect(epic).toHaveProperty(key);
    }
    expect(report.findings[0]).toMatchObject({
      ref: expect.any(String),
      rule: expect.any(String),
      severity: expect.any(String),
      status: 'open',
      message: expect.any(String),
    });
    const portfolio = report.rollups.find((x: { scope: string }) => x.scope === 'portfolio');
    expect(portfolio).toMatchObject({
      percentComplete: expect.any(Number),
      health: expect.stringMatching(/^(green|amber|red)$/),
      healthReason: expect.any(String),
    });
    const csv = await runCli(['report', '--format', 'csv'], { cwd: dir, env });
    expect(csv.stdout.split('\r\n')[0]).toBe(
      'ref,tracker,project,kind,title,status,statusCategory,assignee,due,points,parent,openFindings,url',
    );
    expect(csv.stdout.trim().split('\r\n')).toHaveLength(47);
    const table = await runCli(['report'], { cwd: dir, env });
    expect(table.stdout).toMatch(/^PORTFOLIO {2}(GREEN|AMBER|RED)/);
    expect(table.stdout).toContain('EPICS BY HEALTH');
    const writes = await runCli(['report', '--writes', '--format', 'json'], { cwd: dir, env });
    expect(JSON.parse(writes.stdout).writes.every((w: { status: string }) => w.status === 'planned')).toBe(true);
  });
});
