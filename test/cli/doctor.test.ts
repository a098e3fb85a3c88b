// `pmo-sync doctor` through the real CLI against both simulators: all green on a good config, and
// each problem an admin meets (a missing permission, a missing field, an unhealthy hook, a bad
// token) seeded in the simulator and reported on its own line with its fix and exit code 1.
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { openDatabase } from '../../db/client.ts';
import { configDir, runCli, spawnCli } from '../helpers/cli.ts';
import { covers, openIsolatedPostgres, postgresUrl } from '../helpers/db.ts';
import { tempDir } from '../helpers/temp.ts';

const PUBLIC_URL = 'http://127.0.0.1:9/pmo';
const env = {
  JIRA_API_TOKEN: 'doctor-jira-token',
  ADO_PAT: 'doctor-ado-pat',
  ADO_HOOK_PASSWORD: 'doctor-hook-password',
};

interface World {
  jira: JiraSimulator;
  ado: AdoSimulator;
  dir: string;
}

interface Line {
  scope: string;
  check: string;
  status: string;
  detail: string;
  fix?: string;
}

let database: string;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  // One migrated database for the file: doctor reads it, never writes it.
  database = join(tempDir(), 'db');
  const r = await runCli(['migrate'], {
    cwd: configDir(configYaml('http://127.0.0.1:1', 'http://127.0.0.1:1/acme')),
    env,
  });
  expect(r.code).toBe(0);
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function configYaml(jiraUrl: string, adoUrl: string, tokens: { jira?: string } = {}): string {
  return `
database: { url: ${database} }
server: { publicUrl: ${PUBLIC_URL} }
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jiraUrl}
    auth: { email: pmo-bot@example.com, apiToken: ${tokens.jira ?? `\${JIRA_API_TOKEN}`} }
    scope: { projects: [PAY] }
    fields: { points: customfield_10016, start: customfield_10015 }
    writeback: { comment: true, labels: true, fields: { health: customfield_12346, compliance: customfield_12345 } }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${adoUrl}
    auth: { pat: \${ADO_PAT} }
    scope: { projects: [Payments] }
    webhookAuth: { username: pmo-sync, password: \${ADO_HOOK_PASSWORD} }
    writeback: { comment: true, tags: true, fields: { health: Custom.PMOHealth } }
`;
}

/** Both trackers set up as docs/setup-*.md say, and the webhooks installed by the CLI. */
async function goodWorld(opts: { jiraToken?: string } = {}): Promise<World> {
  const jira = await startJiraSimulator({ auth: { email: 'pmo-bot@example.com', apiToken: env.JIRA_API_TOKEN } });
  const ado = await startAdoSimulator({ pats: [env.ADO_PAT] });
  const w = { jira, ado, dir: '' };
  closers.push(
    () => jira.close(),
    () => ado.close(),
  );
  jira.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 2, bugsPerEpic: 0, violationRate: 0, seed: 1 });
  jira.admin.addField({ id: 'customfield_12345', name: 'PMO compliance', type: 'number' });
  jira.admin.addField({ id: 'customfield_12346', name: 'PMO health' });
  ado.addProject('Payments', 'Scrum');
  ado.admin.addField({ referenceName: 'Custom.PMOHealth', name: 'PMO health' });
  const install = await runCli(['webhooks', 'install'], { cwd: configDir(configYaml(jira.url, ado.url)), env });
  expect({ code: install.code, stderr: install.stderr.replace(/^.*generated a webhook secret.*\n/m, '') }).toEqual({
    code: 0,
    stderr: '',
  });
  w.dir = configDir(configYaml(jira.url, ado.url, { jira: opts.jiraToken }));
  return w;
}

async function doctor(w: World, args: string[] = []) {
  const r = await runCli(['doctor', '--json', ...args], { cwd: w.dir, env });
  return { code: r.code, stderr: r.stderr, out: JSON.parse(r.stdout) as { ok: boolean; checks: Line[] } };
}

const failures = (checks: Line[]) =>
  checks.filter((c) => c.status !== 'ok').map((c) => ({ scope: c.scope, check: c.check, status: c.status }));

// Skipped in a Postgres-only run: nothing here reaches Postgres (test/helpers/targets.ts).
describe.runIf(covers('pglite'))('pmo-sync doctor', () => {
  it('passes every check of a good config against both simulators and exits 0', async () => {
    const w = await goodWorld();

    const r = await doctor(w);

    expect({ code: r.code, stderr: r.stderr, ok: r.out.ok }).toEqual({ code: 0, stderr: '', ok: true });
    expect(r.out.checks.every((c) => c.status === 'ok' && !('fix' in c))).toBe(true);
    // One line per check: each tracker's whole list, then the database.
    expect(r.out.checks.map((c) => `${c.scope} ${c.check}`)).toEqual([
      'jira-main credentials',
      'jira-main project PAY',
      'jira-main permission: browse',
      'jira-main permission: comment',
      'jira-main permission: labels',
      'jira-main permission: edit fields',
      'jira-main permission: webhooks',
      'jira-main field points (customfield_10016)',
      'jira-main field start (customfield_10015)',
      'jira-main field health (customfield_12346)',
      'jira-main field compliance (customfield_12345)',
      'jira-main field labels',
      'jira-main webhook 1',
      'jira-main rate limit',
      'ado-main credentials',
      'ado-main project Payments',
      'ado-main permission: browse',
      'ado-main permission: comment',
      'ado-main permission: edit fields',
      'ado-main permission: tags',
      'ado-main permission: tags: create',
      'ado-main permission: service hooks',
      'ado-main field health (Custom.PMOHealth)',
      'ado-main service hooks',
      'ado-main rate limit',
      'database reachable',
      'database migrated',
    ]);
    expect(r.out.checks.find((c) => c.check === 'webhook 1')!.detail).toBe(
      `enabled, points at ${PUBLIC_URL}/webhooks/jira/jira-main`,
    );
  });

  it('prints the checklist as text, one line per check, and a summary', async () => {
    const w = await goodWorld();
    const json = await doctor(w);

    const r = await runCli(['doctor'], { cwd: w.dir, env });

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      `${json.out.checks.map((c) => `ok    ${c.scope.padEnd(9)}  ${c.check}: ${c.detail}\n`).join('')}all 27 checks passed\n`,
    );
  });

  it('reports a bad Jira token on its own line, names the setting, and exits 1', async () => {
    const w = await goodWorld({ jiraToken: 'a-revoked-token' });

    const r = await doctor(w);

    expect(r.code).toBe(1);
    expect(failures(r.out.checks)).toEqual([{ scope: 'jira-main', check: 'credentials', status: 'fail' }]);
    const line = r.out.checks.find((c) => c.status === 'fail')!;
    expect(line.detail).toBe('Jira rejected the API token (401: invalid, expired or revoked)');
    expect(line.fix).toMatch(/auth\.apiToken of connection jira-main/);
    // The other connection and the database are still checked.
    expect(r.out.checks.filter((c) => c.scope !== 'jira-main').every((c) => c.status === 'ok')).toBe(true);
  });

  it('reports a bad Azure DevOps PAT on its own line and exits 1', async () => {
    const w = await goodWorld();
    w.ado.configure({ pats: ['another-pat'] });

    const r = await doctor(w);

    expect(r.code).toBe(1);
    expect(failures(r.out.checks)).toEqual([{ scope: 'ado-main', check: 'credentials', status: 'fail' }]);
    expect(r.out.checks.find((c) => c.status === 'fail')!.fix).toMatch(/organization-scoped PAT .* auth\.pat/);
  });

  it('reports each missing permission on its own line with the grant to make', async () => {
    const w = await goodWorld();
    w.jira.admin.revokePermission('ADD_COMMENTS', 'PAY');
    w.ado.admin.denyPermission('create tags', 'Payments');

    const r = await runCli(['doctor'], { cwd: w.dir, env });

    expect(r.code).toBe(1);
    const bad = r.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(bad).toEqual([
      expect.stringMatching(
        /^FAIL {2}jira-main {2}permission: comment: missing Add comments in PAY, needed for the bot comment, writeback\.comment — fix: grant it to .* permission scheme/,
      ),
      expect.stringMatching(
        /^FAIL {2}ado-main {3}permission: tags: create: missing "Create tag definition" in Payments — fix: grant it/,
      ),
    ]);
    expect(r.stdout).toMatch(/2 of 27 checks failed\n$/);
  });

  it('only warns when the bot is no Jira administrator: webhooks can be registered by hand', async () => {
    const w = await goodWorld();
    w.jira.admin.revokePermission('ADMINISTER');

    const r = await doctor(w);

    expect(r.code).toBe(0);
    expect(r.out.checks.filter((c) => c.status !== 'ok')).toEqual([
      {
        scope: 'jira-main',
        check: 'permission: webhooks',
        status: 'warn',
        detail: 'missing Administer Jira: pmo-sync webhooks install cannot register webhooks, nor doctor read them',
        fix: expect.stringMatching(/register the webhook by hand/),
      },
      {
        scope: 'jira-main',
        check: 'webhooks',
        status: 'warn',
        detail: 'Jira does not show this account its webhooks (403): not checked',
        fix: `check Settings → System → WebHooks by hand for an enabled webhook to ${PUBLIC_URL}/webhooks/jira/jira-main`,
      },
    ]);
  });

  it('exits 1 from a shell when a check fails', async () => {
    const w = await goodWorld();
    w.ado.admin.denyPermission('read work items', 'Payments');

    const r = await spawnCli(['doctor'], { cwd: w.dir, env });

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: '' });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([
      expect.stringMatching(
        /^FAIL {2}ado-main {3}permission: browse: missing "View work items in this node" in Payments/,
      ),
    ]);
  });

  it('reports a missing write-back field, and one that is off the edit screen or the process', async () => {
    const w = await goodWorld();
    w.jira.admin.hideFromEditScreen('customfield_12346', 'PAY');
    const dir = configDir(
      configYaml(w.jira.url, w.ado.url)
        .replace('compliance: customfield_12345', 'compliance: customfield_99999')
        .replace('health: Custom.PMOHealth', 'health: Custom.PMOHealth, compliance: Custom.PMOCompliance'),
    );

    const r = await runCli(['doctor', '--json'], { cwd: dir, env });

    expect(r.code).toBe(1);
    const checks = (JSON.parse(r.stdout) as { checks: Line[] }).checks;
    expect(failures(checks)).toEqual([
      { scope: 'jira-main', check: 'field health (customfield_12346)', status: 'fail' },
      { scope: 'jira-main', check: 'field compliance (customfield_99999)', status: 'fail' },
      { scope: 'ado-main', check: 'field compliance (Custom.PMOCompliance)', status: 'fail' },
    ]);
    const detail = (check: string) => checks.find((c) => c.check === check)!.detail;
    expect(detail('field health (customfield_12346)')).toMatch(/^not on the edit screen of PAY-\d+$/);
    expect(detail('field compliance (customfield_99999)')).toBe(
      'write-back field customfield_99999 does not exist on this Jira site',
    );
    expect(detail('field compliance (Custom.PMOCompliance)')).toBe(
      'the organization has no field Custom.PMOCompliance',
    );
  });

  it('warns about a compliance field only some work item types have; rollup fields belong on containers', async () => {
    const w = await goodWorld();
    w.ado.admin.addField({ referenceName: 'Custom.PMORollup', name: 'PMO rollup', types: ['Epic', 'Feature'] });
    w.ado.admin.addField({ referenceName: 'Custom.PMOCompliance', name: 'PMO compliance', types: ['Epic', 'Bug'] });
    const dir = configDir(
      configYaml(w.jira.url, w.ado.url).replace(
        'health: Custom.PMOHealth',
        'health: Custom.PMOHealth, percentComplete: Custom.PMORollup, compliance: Custom.PMOCompliance',
      ),
    );

    const r = await runCli(['doctor', '--json'], { cwd: dir, env });

    expect(r.code).toBe(0);
    const checks = (JSON.parse(r.stdout) as { checks: Line[] }).checks;
    expect(checks.find((c) => c.check === 'field percentComplete (Custom.PMORollup)')).toEqual({
      scope: 'ado-main',
      check: 'field percentComplete (Custom.PMORollup)',
      status: 'ok',
      detail: 'exists on Payments/Epic, Payments/Feature (rollups are written on containers)',
    });
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([
      {
        scope: 'ado-main',
        check: 'field compliance (Custom.PMOCompliance)',
        status: 'warn',
        detail:
          'not on Payments/Feature, Payments/Product Backlog Item, Payments/Task, Payments/Impediment: items of those types get no value',
        fix: expect.stringMatching(/^add Custom\.PMOCompliance to those work item types/),
      },
    ]);
  });

  it('reports unhealthy hooks: a Jira webhook disabled, service hooks on probation and disabled', async () => {
    const w = await goodWorld();
    w.jira.admin.disableWebhook(1);
    const subs = w.ado.subscriptions();
    w.ado.admin.setSubscriptionStatus(subs[1]!.id, 'onProbation');
    w.ado.admin.setSubscriptionStatus(subs[2]!.id, 'disabledBySystem');

    const r = await doctor(w);

    expect(r.code).toBe(1);
    expect(failures(r.out.checks)).toEqual([
      { scope: 'jira-main', check: 'webhook 1', status: 'fail' },
      { scope: 'ado-main', check: `service hook ${subs[1]!.eventType} (${subs[1]!.id})`, status: 'fail' },
      { scope: 'ado-main', check: `service hook ${subs[2]!.eventType} (${subs[2]!.id})`, status: 'fail' },
    ]);
    const details = r.out.checks.filter((c) => c.status === 'fail').map((c) => c.detail);
    expect(details).toEqual([
      `disabled in Jira: no events are being sent to ${PUBLIC_URL}/webhooks/jira/jira-main`,
      'on probation after failed deliveries: events raised now are lost',
      'disabled by Azure DevOps after repeated failed deliveries',
    ]);
  });

  it('reports webhooks that point elsewhere than server.publicUrl', async () => {
    const w = await goodWorld();
    const dir = configDir(configYaml(w.jira.url, w.ado.url).replace(PUBLIC_URL, 'https://pmo.example.com'));

    const r = await runCli(['doctor', '--json', '--connection', 'jira-main'], { cwd: dir, env });

    expect(r.code).toBe(1);
    const checks = (JSON.parse(r.stdout) as { checks: Line[] }).checks;
    expect(failures(checks)).toEqual([{ scope: 'jira-main', check: 'webhooks', status: 'fail' }]);
    expect(checks.find((c) => c.check === 'webhooks')).toEqual({
      scope: 'jira-main',
      check: 'webhooks',
      status: 'fail',
      detail: `registered for ${PUBLIC_URL}/webhooks/jira/jira-main, not for https://pmo.example.com/webhooks/jira/jira-main`,
      fix: expect.stringMatching(/^run pmo-sync webhooks install/),
    });
  });

  it('reports a project that does not exist', async () => {
    const w = await goodWorld();
    const dir = configDir(
      configYaml(w.jira.url, w.ado.url).replace('projects: [Payments]', 'projects: [Payments, Payroll]'),
    );

    const r = await doctor({ ...w, dir });

    expect(r.code).toBe(1);
    expect(failures(r.out.checks)).toEqual([{ scope: 'ado-main', check: 'project Payroll', status: 'fail' }]);
  });

  it('reports rate-limit pressure: a Jira quota refusal fails, Azure DevOps delays warn', async () => {
    const w = await goodWorld();
    w.jira.failNext({ endpoint: 'GET field', kind: 429, reason: 'jira-quota-tenant-based', retryAfterSec: 600 });
    w.ado.configure({ budget: { limit: 4, windowMs: 3_600_000, mode: 'delay' } });

    const r = await doctor(w);

    expect(r.code).toBe(1);
    expect(failures(r.out.checks)).toEqual([
      { scope: 'jira-main', check: 'fields', status: 'fail' },
      { scope: 'jira-main', check: 'rate limit', status: 'fail' },
      { scope: 'ado-main', check: 'rate limit', status: 'warn' },
    ]);
    const line = (scope: string) => r.out.checks.find((c) => c.scope === scope && c.check === 'rate limit')!;
    expect(line('jira-main').detail).toMatch(
      /^Jira is refusing requests now \(jira-quota-tenant-based, until \d{4}-\d\d-\d\dT[\d:.]+Z\)$/,
    );
    expect(line('ado-main').detail).toMatch(/^Azure DevOps is slowing this account down \(0 of 4 TSTUs left\)$/);
  });

  it('warns when an OAuth bearer token expires within a week', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2 * 24 * 3600;
    const claims = Buffer.from(JSON.stringify({ sub: 'pmo-bot', exp })).toString('base64url');
    const token = `eyJhbGciOiJIUzI1NiJ9.${claims}.c2lnbmF0dXJl`;
    const w = await goodWorld();
    const jira = await startJiraSimulator({ auth: { bearerToken: token } });
    closers.push(() => jira.close());
    jira.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 1, bugsPerEpic: 0, violationRate: 0, seed: 1 });
    const dir = configDir(
      configYaml(jira.url, w.ado.url)
        .replace(/auth: \{ email: .*/, `auth: { bearerToken: "${token}" }`)
        .replace(
          /writeback: \{ comment: true, labels: true, fields: [^\n]+/,
          'writeback: { comment: true, labels: true }',
        ),
    );

    const r = await runCli(['doctor', '--json', '--connection', 'jira-main'], { cwd: dir, env });

    expect(r.stderr).toBe('');
    const checks = (JSON.parse(r.stdout) as { checks: Line[] }).checks;
    // This simulator has no webhook: the one installed points at the first world's Jira.
    expect({ code: r.code, notOk: failures(checks) }).toEqual({
      code: 1,
      notOk: [
        { scope: 'jira-main', check: 'credentials expiry', status: 'warn' },
        { scope: 'jira-main', check: 'webhooks', status: 'fail' },
      ],
    });
    expect(checks.find((c) => c.check === 'credentials expiry')).toEqual({
      scope: 'jira-main',
      check: 'credentials expiry',
      status: 'warn',
      detail: `the token expires at ${new Date(exp * 1000).toISOString()}`,
      fix: expect.stringMatching(/auth\.bearerToken of connection jira-main/),
    });
  });

  it('names the host when a tracker cannot be reached, and never prints a secret a tracker echoes', async () => {
    const w = await goodWorld();
    w.jira.failNext({
      endpoint: 'GET myself',
      kind: 403,
      body: { errorMessages: [`token ${env.JIRA_API_TOKEN} may not use this site`], errors: {} },
    });
    const unreachable = configDir(configYaml(w.jira.url, 'http://127.0.0.1:1/acme'));

    const echoed = await doctor(w);
    const down = await runCli(['doctor', '--json', '--connection', 'ado-main'], { cwd: unreachable, env });

    const jiraLine = echoed.out.checks.find((c) => c.scope === 'jira-main')!;
    expect(jiraLine.status).toBe('fail');
    expect(jiraLine.detail).toBe('GET myself answered 403: token [redacted] may not use this site');
    expect(echoed.stderr + JSON.stringify(echoed.out)).not.toContain(env.JIRA_API_TOKEN);
    const adoLine = (JSON.parse(down.stdout) as { checks: Line[] }).checks[0]!;
    expect(down.code).toBe(1);
    expect(adoLine).toEqual({
      scope: 'ado-main',
      check: 'credentials',
      status: 'fail',
      detail: expect.stringContaining('127.0.0.1:1'),
      fix: 'check orgUrl of connection ado-main (http://127.0.0.1:1/acme)',
    });
  });

  it('reports a tracker answer it cannot read as a failed line, not a crash', async () => {
    const w = await goodWorld();
    w.jira.failNext({ endpoint: 'GET mypermissions', kind: 200, body: '<html>sign in</html>' });
    w.jira.failNext({ endpoint: 'GET issue/{key}/editmeta', kind: 200, body: { fields: 'none' } });

    const r = await doctor(w);

    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: '' });
    expect(failures(r.out.checks)).toEqual([
      { scope: 'jira-main', check: 'permissions', status: 'fail' },
      // The newest issue's edit screen was unreadable; health is checked on an epic's.
      { scope: 'jira-main', check: 'field compliance (customfield_12345)', status: 'warn' },
      { scope: 'jira-main', check: 'field labels', status: 'warn' },
    ]);
    expect(r.out.checks.find((c) => c.check === 'permissions')!.detail).toBe('GET mypermissions answered 200');
  });

  it('warns, without failing, when a running pmo-sync holds the embedded database', async () => {
    const w = await goodWorld();
    const held = await openDatabase(database);
    closers.push(() => held.close());

    const r = await doctor(w);

    expect(r.code).toBe(0);
    expect(r.out.checks.filter((c) => c.status !== 'ok')).toEqual([
      {
        scope: 'database',
        check: 'reachable',
        status: 'warn',
        detail: `${database} is in use by pmo-sync process ${process.pid}; embedded PGlite serves one process at a time, so migrations were not checked`,
        fix: expect.stringMatching(/^run doctor while that process is stopped/),
      },
    ]);
  });

  it('reports a database not created yet, and exits 2 on a bad config or an unknown connection', async () => {
    const w = await goodWorld();
    const fresh = configDir(configYaml(w.jira.url, w.ado.url).replace(`url: ${database}`, 'url: ./not-yet'));

    const missing = await doctor({ ...w, dir: fresh });
    const unknown = await runCli(['doctor', '--connection', 'nope'], { cwd: w.dir, env });
    const bad = await runCli(['doctor'], { cwd: configDir('connections: []\n'), env });

    expect(missing.code).toBe(1);
    expect(missing.out.checks.filter((c) => c.status !== 'ok')).toEqual([
      {
        scope: 'database',
        check: 'reachable',
        status: 'fail',
        detail: `no database at ${join(fresh, 'not-yet')} yet`,
        fix: 'run pmo-sync migrate (serve and sync also create it), or set database.url',
      },
    ]);
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({
      code: 2,
      stderr: 'pmo-sync: --connection nope: no such connection (configured: jira-main, ado-main)\n',
    });
    expect(bad.code).toBe(2);
  });
});

describe.runIf(postgresUrl())('pmo-sync doctor on Postgres', () => {
  it('reports migrations not applied, then all applied; and a server that does not answer', async () => {
    const pg = await openIsolatedPostgres(postgresUrl()!, { migrate: false });
    const w = await goodWorld();
    const on = (url: string) =>
      configDir(configYaml(w.jira.url, w.ado.url).replace(`url: ${database}`, `url: "${url}"`));
    const dbLines = async (url: string) =>
      (await doctor({ ...w, dir: on(url) })).out.checks
        .filter((c) => c.scope === 'database')
        .map((c) => ({ check: c.check, status: c.status, detail: c.detail }));

    const before = await dbLines(pg.url);
    await pg.migrate();
    const after = await dbLines(pg.url);
    const down = await dbLines('postgres://nobody:secret@127.0.0.1:1/none');

    expect(before).toEqual([
      { check: 'reachable', status: 'ok', detail: expect.stringMatching(/^postgres at /) },
      {
        check: 'migrated',
        status: 'fail',
        detail: expect.stringMatching(/^\d+ migration\(s\) not applied: 0000_init, /),
      },
    ]);
    expect(after).toEqual([
      { check: 'reachable', status: 'ok', detail: expect.stringMatching(/^postgres at /) },
      { check: 'migrated', status: 'ok', detail: expect.stringMatching(/^all \d+ migrations applied$/) },
    ]);
    expect(down).toEqual([{ check: 'reachable', status: 'fail', detail: expect.not.stringContaining('secret') }]);
  });
});
