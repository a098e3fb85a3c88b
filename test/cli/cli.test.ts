import { describe, expect, it } from 'vitest';
import { configDir, runCli } from '../helpers/cli.ts';
import { covers, openIsolatedPostgres, postgresUrl } from '../helpers/db.ts';
import { tempDir } from '../helpers/temp.ts';

const JIRA = (db: string) => `
database: { url: "${db}" }
connections:
  - id: jira-main
    kind: jira
    baseUrl: https://acme.atlassian.net
    auth: { email: pmo@acme.test, apiToken: \${JIRA_API_TOKEN} }
    scope: { projects: [PAY] }
`;

// Skipped in a Postgres-only run: nothing here reaches Postgres (test/helpers/targets.ts).
describe.runIf(covers('pglite'))('pmo-sync CLI', () => {
  it('prints help for the program and each subcommand with exit code 0', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const sub of ['serve', 'sync', 'report', 'rules', 'webhooks', 'token', 'migrate', 'demo']) {
      expect(top.stdout).toContain(sub);
      const r = await runCli([sub, '--help']);
      expect({ sub, code: r.code, usage: r.stdout.startsWith(`Usage: pmo-sync ${sub}`) }).toEqual({
        sub,
        code: 0,
        usage: true,
      });
    }
  });

  it('answers an unknown command with exit code 2', async () => {
    const r = await runCli(['frobnicate']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: 'pmo-sync: unknown command "frobnicate" (run pmo-sync --help for the list)\n',
    });
  });

  it('answers an unknown option with exit code 2', async () => {
    const r = await runCli(['sync', '--fast']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--fast'");
  });

  it('refuses sync without a config in one line, exit code 2', async () => {
    const r = await runCli(['sync']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'pmo-sync: no configuration found: create pmo-sync.yaml in this folder, set PMO_SYNC_CONFIG, or pass --config FILE (see docs/configuration.md)\n',
    });
  });

  it('reports every problem of a bad config file with exit code 2 and never a stack', async () => {
    const dir = configDir('mode: fast\nconnections: []\n');
    const r = await runCli(['sync'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `pmo-sync: ${dir}/pmo-sync.yaml: mode (line 1, column 1): expected one of "enforce", "dry-run", found string "fast"`,
      `${dir}/pmo-sync.yaml: connections (line 2, column 1): expected a list with ≥ 1 entries, found an empty list`,
    ]);
  });

  it('names a missing secret variable', async () => {
    const dir = configDir(JIRA('memory://'));
    const r = await runCli(['sync'], { cwd: dir, env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'connections[0].auth.apiToken (line 7, column 35): environment variable JIRA_API_TOKEN is not set',
    );
  });

  it('rejects --connection naming no configured connection', async () => {
    const dir = configDir(JIRA('memory://'));
    const r = await runCli(['sync', '--connection', 'nope'], { cwd: dir, env: { JIRA_API_TOKEN: 'x-token' } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: 'pmo-sync: --connection nope: no such connection (configured: jira-main)\n',
    });
  });

  it('refuses webhooks install without server.publicUrl, naming the key', async () => {
    const dir = configDir(JIRA('memory://'));
    const r = await runCli(['webhooks', 'install'], { cwd: dir, env: { JIRA_API_TOKEN: 'x-token' } });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'pmo-sync: set server.publicUrl (the URL the trackers can reach) before installing webhooks\n',
    });
  });

  it('shows the stack only with --verbose', async () => {
    const plain = await runCli(['sync']);
    const verbose = await runCli(['--verbose', 'sync']);
    expect(plain.stderr).not.toContain('    at ');
    expect(verbose.stderr).toContain('    at ');
  });

  it('rejects a bad --port for serve', async () => {
    const dir = configDir(JIRA('memory://'));
    const r = await runCli(['serve', '--port', 'eighty'], { cwd: dir, env: { JIRA_API_TOKEN: 'x-token' } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 2,
      stderr: 'pmo-sync: --port must be a port number, not "eighty"\n',
    });
  });

  it('migrates the default embedded database without any config', async () => {
    const dir = tempDir();
    const r = await runCli(['migrate'], { cwd: dir });
    expect(r).toEqual({ code: 0, stdout: `migrations applied (pglite: ${dir}/.pmo-sync/db)\n`, stderr: '' });
  });

  it('creates, lists and revokes API tokens, printing the token once', async () => {
    const dir = tempDir();
    const created = await runCli(['token', 'create', '--scope', 'read', '--name', 'pmo lead'], { cwd: dir });
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^pmo_[A-Za-z0-9_-]{43}\n$/);
    const listed = await runCli(['token', 'list', '--json'], { cwd: dir });
    const rows = JSON.parse(listed.stdout) as { id: number; name: string; scope: string; revokedAt: string | null }[];
    expect(rows.map((r) => ({ id: r.id, name: r.name, scope: r.scope, revoked: r.revokedAt !== null }))).toEqual([
      { id: 1, name: 'pmo lead', scope: 'read', revoked: false },
    ]);
    expect(listed.stdout).not.toContain(created.stdout.trim());
    expect((await runCli(['token', 'revoke', '1'], { cwd: dir })).code).toBe(0);
    expect((await runCli(['token', 'revoke', '1'], { cwd: dir })).code).toBe(2);
    expect((await runCli(['token', 'create', '--scope', 'root'], { cwd: dir })).code).toBe(2);
  });

  it('reports an empty database as JSON in the DESIGN.md shape, with the workspace headline beside it', async () => {
    const dir = configDir(JIRA('memory://'));
    const r = await runCli(['report', '--format', 'json'], { cwd: dir, env: { JIRA_API_TOKEN: 'x-token' } });
    expect({ code: r.code, body: JSON.parse(r.stdout) }).toEqual({
      code: 0,
      body: {
        items: [],
        findings: [],
        rollups: [],
        quarantined: [],
        epics: [],
        filter: {},
        headline: {
          compliance: null,
          epics: { amber: 0, green: 0, red: 0, total: 0 },
          items: 0,
          openFindings: 0,
          overdueEpics: 0,
        },
      },
    });
  });
});

describe.runIf(postgresUrl())('pmo-sync CLI on Postgres', () => {
  it('migrates a real Postgres named by the config', async () => {
    // A database of its own: the shared one may hold another run's schema.
    const scratch = await openIsolatedPostgres(postgresUrl()!, { migrate: false });
    const dir = configDir(JIRA(scratch.url));
    const r = await runCli(['migrate'], { cwd: dir, env: { JIRA_API_TOKEN: 'x-token' } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^migrations applied \(postgres: postgres:\/\//);
  });
});
