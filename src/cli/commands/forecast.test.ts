// `pmo-sync forecast backtest` and `pmo-sync baseline` as a user runs them.
import { describe, expect, it } from 'vitest';
import { configDir, runCli } from '../../../test/helpers/cli.ts';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const CONFIG = (db = 'memory://') => `
database: { url: "${db}" }
connections:
  - id: jira-main
    kind: jira
    baseUrl: https://acme.atlassian.net
    auth: { email: bot@acme.test, apiToken: t }
    scope: { projects: [PAY] }
`;

describe('pmo-sync forecast backtest', () => {
  it("reports calibration on the generator's portfolio", async () => {
    const r = await runCli(['forecast', 'backtest', '--as-of', day(Date.now() - 70 * DAY), '--generated', '--json']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = JSON.parse(r.stdout) as { forecast: number; p50: { share: number }; p85: { share: number } };
    expect(out.forecast).toBeGreaterThan(0);
    expect(out.p85.share).toBeGreaterThanOrEqual(out.p50.share);
  });

  it('refuses an --as-of that is not a past date, with exit code 2', async () => {
    const bad = await runCli(['forecast', 'backtest', '--as-of', 'last tuesday', '--generated']);
    const future = await runCli(['forecast', 'backtest', '--as-of', day(Date.now() + 2 * DAY), '--generated']);
    expect([bad.code, bad.stderr.trim().split('\n').length, future.code]).toEqual([2, 1, 2]);
    expect(bad.stderr).toMatch(/--as-of must be a date/);
  });
});

describe('pmo-sync baseline', () => {
  it('creates a named baseline, reports against it, and refuses an unknown program or name', async () => {
    const dir = configDir(CONFIG('./db'));
    const ok = await runCli(['baseline', 'create', 'Q1 plan'], { cwd: dir });
    const again = await runCli(['baseline', 'create', 'Q1 plan'], { cwd: dir });
    const unknown = await runCli(['baseline', 'create', 'Q2', '--program', 'nope'], { cwd: dir });
    const report = await runCli(['report', '--baseline', 'Q1 plan', '--format', 'json'], { cwd: dir });
    const missing = await runCli(['baseline', 'slip', 'nope'], { cwd: dir });
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/^baseline "Q1 plan" \(1\) captured 0 epics/) });
    expect(again).toMatchObject({ code: 2, stderr: expect.stringMatching(/exists already/) });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown program "nope"/) });
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ baseline: { name: 'Q1 plan' }, rows: [] });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/no baseline named "nope"/) });
  });
});
