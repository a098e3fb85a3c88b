// `sync` on a terminal: a bar per connection with the tracker's total (Jira's first pages or count,
// the Azure DevOps WIQL's ids), its phase named, the pass's phases after, and every line written
// during the pass (errors, logs) whole above the bars. Read from a terminal emulator's screen.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { configDir, runCli } from '../helpers/cli.ts';
import { type TestTerminal, testTerminal } from '../helpers/terminal.ts';

const COUNT = 'POST search/approximate-count';

describe('sync progress on a terminal', () => {
  let jira: JiraSimulator;
  let ado: AdoSimulator;
  let term: TestTerminal | undefined;
  const env = { JIRA_API_TOKEN: 'progress-jira-token', ADO_PAT: 'progress-ado-pat' };
  const connections = (jiraToken = `\${JIRA_API_TOKEN}`) => `
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: ${jiraToken} }
    scope: { projects: [PAY, OPS] }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${ado.url}
    auth: { pat: \${ADO_PAT} }
    scope: { projects: [Payments] }
`;

  beforeAll(async () => {
    jira = await startJiraSimulator({ auth: { email: 'pmo-bot@example.com', apiToken: env.JIRA_API_TOKEN } });
    ado = await startAdoSimulator();
    jira.seedPortfolio({ projects: ['PAY', 'OPS'], epics: 3, storiesPerEpic: 4, bugsPerEpic: 1, seed: 7 });
    ado.addProject('Payments', 'Scrum');
    ado.seedPortfolio({
      process: 'Scrum',
      project: 'Payments',
      epics: 2,
      featuresPerEpic: 2,
      storiesPerFeature: 3,
      seed: 8,
    });
  });
  afterEach(() => {
    term?.dispose();
    term = undefined;
    jira.resetCounts();
  });
  afterAll(async () => {
    await jira.close();
    await ado.close();
  });

  it('draws each connection done with its full bar and total, then the pass done', async () => {
    term = testTerminal({ cols: 100 });
    const dir = configDir(`database: { url: "memory://" }\n${connections()}`);
    const r = await runCli(['sync', '--dry-run'], { cwd: dir, env, terminal: term.stream });
    const full = '█'.repeat(30);
    expect({ code: r.code, stderr: r.stderr, screen: await term.screen() }).toEqual({
      code: 0,
      stderr: '',
      screen: [
        ` jira-main  done     ${full} 100%  ${jira.store.all().length}/${jira.store.all().length} items`,
        ` ado-main   done     ${full} 100%  18/18 items`,
        ' all        done',
      ],
    });
    // Each project's search is one page, so the pages tell the total: no count is asked.
    expect(jira.requestCounts()[COUNT] ?? 0).toBe(0);
  });

  it('writes a failing connection’s line whole above the bars', async () => {
    term = testTerminal({ cols: 100 });
    const dir = configDir(`database: { url: "memory://" }\n${connections('wrong-token-value')}`);
    const r = await runCli(['sync', '--dry-run'], { cwd: dir, env, terminal: term.stream });
    const screen = await term.screen();
    expect({
      code: r.code,
      lines: screen.length,
      error: /^pmo-sync: connection jira-main: sync failed: .*401/.test(screen[0] ?? ''),
      bars: screen.slice(1).map((l) => l.replace(/█+ 100% {2}\d+\/\d+ items$/, '[bar]')),
    }).toEqual({
      code: 1,
      lines: 4,
      error: true,
      bars: [' jira-main  failed   0 items', ' ado-main   done     [bar]', ' all        done'],
    });
  });

  it('draws nothing and asks no count with --json, or without a terminal', async () => {
    term = testTerminal();
    const dir = configDir(`database: { url: "memory://" }\n${connections()}`);
    const json = await runCli(['sync', '--dry-run', '--json'], { cwd: dir, env, terminal: term.stream });
    const plain = await runCli(['sync', '--dry-run'], { cwd: dir, env });
    expect({
      codes: [json.code, plain.code],
      screen: await term.screen(),
      counts: jira.requestCounts()[COUNT] ?? 0,
    }).toEqual({ codes: [0, 0], screen: [], counts: 0 });
  });
});
