// Honest outcomes through the real CLI: a connection that fails (rejected token, refused port, a
// URL that is not Jira) makes `sync` exit 1 with exactly one line per failure on stderr, the
// stack only with --verbose; the exit code reaches the shell from bin/pmo-sync.mjs; every other
// command exits 1 when its work failed and 2 on bad usage or configuration.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { configDir, runCli, spawnCli } from '../helpers/cli.ts';
import { covers, openIsolatedPostgres, postgresUrl } from '../helpers/db.ts';

const EMAIL = 'pmo-bot@example.com';
const TOKEN = 'cli-good-token-4711';
const WRONG = 'cli-wrong-token-0815';

const jiraConnection = (id: string, url: string, token = `\${JIRA_API_TOKEN}`) => `
  - id: ${id}
    kind: jira
    baseUrl: ${url}
    auth: { email: ${EMAIL}, apiToken: ${token} }
    scope: { projects: [PAY] }`;

const config = (connections: string[], extra = '', db = 'memory://') =>
  `database: { url: "${db}" }\n${extra}\nconnections:${connections.join('')}\n`;

/** What a failed sync shows on stderr, in a shape whole-value assertions can compare. */
function failureLines(stderr: string) {
  const lines = stderr.split('\n').filter((l) => l !== '');
  return {
    lines: lines.length,
    connections: lines.map((l) => /^pmo-sync: connection ([\w-]+): sync failed: \S/.exec(l)?.[1] ?? `unexpected: ${l}`),
    stack: stderr.includes('    at '),
    secret: stderr.includes(WRONG) || stderr.includes(TOKEN),
  };
}

// Skipped in a Postgres-only run: nothing here reaches Postgres (test/helpers/targets.ts).
describe.runIf(covers('pglite'))('exit codes and one-line errors', () => {
  let jira: JiraSimulator;
  let notJira: Server;
  let notJiraUrl: string;
  let refusedUrl: string;
  const env = { JIRA_API_TOKEN: WRONG };

  beforeAll(async () => {
    jira = await startJiraSimulator({ auth: { email: EMAIL, apiToken: TOKEN } });
    jira.seedPortfolio({ projects: ['PAY'], epics: 2, storiesPerEpic: 3, bugsPerEpic: 0, violationRate: 0.3, seed: 5 });
    // A web server that is not Jira: every path is an HTML 404.
    notJira = createHttpServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>');
    });
    await new Promise<void>((resolve) => notJira.listen(0, '127.0.0.1', resolve));
    notJiraUrl = `http://127.0.0.1:${(notJira.address() as { port: number }).port}`;
    // A port nobody listens on: bound once to learn a free one, then closed.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    refusedUrl = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(async () => {
    await jira.close();
    await new Promise((resolve) => notJira.close(resolve));
  });

  it('exits 0 with nothing on stderr when every connection synced', async () => {
    const dir = configDir(config([jiraConnection('jira-main', jira.url, TOKEN)]));
    const r = await runCli(['sync', '--dry-run'], { cwd: dir });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('  jira-main (jira): 8 pulled, 8 changed, 0 deleted;');
  });

  for (const [what, url] of [
    ['a rejected token', () => jira.url],
    ['a refused port', () => refusedUrl],
    ['a URL that is not Jira', () => notJiraUrl],
  ] as const) {
    it(`${what}: exit 1 and one line naming the connection, no stack, no secret`, async () => {
      const dir = configDir(config([jiraConnection('jira-main', url())]));
      const r = await runCli(['sync'], { cwd: dir, env });
      expect({ code: r.code, ...failureLines(r.stderr) }).toEqual({
        code: 1,
        lines: 1,
        connections: ['jira-main'],
        stack: false,
        secret: false,
      });
      // The summary says which connection failed and does not repeat the error.
      expect(r.stdout).toMatch(/^ {2}jira-main \(jira\): FAILED 0 pulled, 0 changed, 0 deleted; \d+ requests?, /m);
      expect(r.stdout).not.toContain('warning:');
    });
  }

  it('keeps the error line whole when the token is a single letter', async () => {
    const dir = configDir(config([jiraConnection('jira-main', refusedUrl, 't')]));
    const r = await runCli(['sync'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('pmo-sync: '))).toEqual([
      expect.stringMatching(/refused the connection \(ECONNREFUSED\); check the host and port in baseUrl/),
    ]);
  });

  it('reports each failed connection once while the others sync, and exits 1', async () => {
    const dir = configDir(
      config([
        jiraConnection('jira-good', jira.url, TOKEN),
        jiraConnection('jira-token', jira.url),
        jiraConnection('jira-refused', refusedUrl),
        jiraConnection('not-jira', notJiraUrl),
      ]),
    );
    const r = await runCli(['sync', '--dry-run'], { cwd: dir, env });
    const shown = failureLines(r.stderr);
    expect({ code: r.code, ...shown, connections: shown.connections.sort() }).toEqual({
      code: 1,
      lines: 3,
      connections: ['jira-refused', 'jira-token', 'not-jira'],
      stack: false,
      secret: false,
    });
    expect(r.stdout).toContain('  jira-good (jira): 8 pulled, 8 changed, 0 deleted;');
  });

  it('prints the stack under each failure line with --verbose', async () => {
    const dir = configDir(config([jiraConnection('jira-main', jira.url)]));
    const r = await runCli(['--verbose', 'sync'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('pmo-sync: '))).toEqual([
      expect.stringMatching(/^pmo-sync: connection jira-main: sync failed: /),
    ]);
    expect(r.stderr).toMatch(/sync failed: [^\n]+\n {4}at /);
    expect(r.stderr).not.toContain(WRONG);
  });

  it('keeps the error in --json for scripts, and still exits 1 with one line', async () => {
    const dir = configDir(config([jiraConnection('jira-main', jira.url)]));
    const r = await runCli(['sync', '--json'], { cwd: dir, env });
    const summary = JSON.parse(r.stdout) as { connections: { id: string; status: string; error: string }[] };
    expect({
      code: r.code,
      shown: failureLines(r.stderr).connections,
      connections: summary.connections.map((c) => ({ id: c.id, status: c.status, error: typeof c.error })),
    }).toEqual({
      code: 1,
      shown: ['jira-main'],
      connections: [{ id: 'jira-main', status: 'failed', error: 'string' }],
    });
  });

  // A process of its own (tsx compiling the sources, PGlite starting) is slow on a busy machine.
  it('hands the exit code to the shell: bin/pmo-sync.mjs as its own process', { timeout: 180_000 }, async () => {
    const dir = configDir(config([jiraConnection('jira-main', jira.url)]));
    const r = await spawnCli(['sync'], { cwd: dir, env });
    expect({ code: r.code, ...failureLines(r.stderr) }).toEqual({
      code: 1,
      lines: 1,
      connections: ['jira-main'],
      stack: false,
      secret: false,
    });
  });

  it('webhooks install: exit 1 and one line for a connection whose registration failed', async () => {
    const dir = configDir(
      config(
        [jiraConnection('jira-main', jira.url), jiraConnection('jira-good', jira.url, TOKEN)],
        'server: { publicUrl: "https://pmo.example.com" }',
      ),
    );
    const r = await runCli(['webhooks', 'install'], { cwd: dir, env });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('pmo-sync: '));
    expect({ code: r.code, lines: lines.map((l) => l.replace(/(webhooks not installed): .*/, '$1')) }).toEqual({
      code: 1,
      lines: ['pmo-sync: connection jira-main: webhooks not installed'],
    });
    // The other connection was still installed.
    expect(r.stdout).toMatch(/^jira-good\tcreated\t/m);
  });

  it('migrate: exit 1 and one line when the database cannot be reached', async () => {
    const dir = configDir(
      config([jiraConnection('jira-main', jira.url, TOKEN)], '', `postgres://pmo@${refusedUrl.slice(7)}/pmo`),
    );
    const r = await runCli(['migrate'], { cwd: dir });
    expect({ code: r.code, lines: r.stderr.trimEnd().split('\n').length, first: r.stderr.slice(0, 10) }).toEqual({
      code: 1,
      lines: 1,
      first: 'pmo-sync: ',
    });
  });

  it('report and writes retry need a configuration, like sync: exit 2 and one line', async () => {
    const line =
      'pmo-sync: no configuration found: create pmo-sync.yaml in this folder, set PMO_SYNC_CONFIG, or pass --config FILE (see docs/configuration.md)\n';
    for (const argv of [['report'], ['report', '--writes'], ['writes', 'retry'], ['sync']]) {
      const r = await runCli(argv);
      expect({ argv, ...r }).toEqual({ argv, code: 2, stdout: '', stderr: line });
    }
  });
});

describe.runIf(postgresUrl())('exit codes on Postgres', () => {
  let jira: JiraSimulator;
  beforeAll(async () => {
    jira = await startJiraSimulator({ auth: { email: EMAIL, apiToken: TOKEN } });
    jira.seedPortfolio({ projects: ['PAY'], epics: 2, storiesPerEpic: 3, bugsPerEpic: 0, violationRate: 0.3, seed: 5 });
  });
  afterAll(async () => {
    await jira.close();
  });

  it('exits 1 naming a connection another sync holds, since this pass did not sync it', async () => {
    const db = await openIsolatedPostgres(postgresUrl()!);
    const release = await db.tryLock('sync:jira-main');
    try {
      const dir = configDir(config([jiraConnection('jira-main', jira.url, TOKEN)], '', db.url));
      const r = await runCli(['sync', '--dry-run'], { cwd: dir });
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 1,
        stderr:
          "pmo-sync: connection jira-main: not synced: another sync of it is running (pmo-sync serve's schedule or another sync command); this pass left it as it was, the next one will sync it\n",
      });
      expect(r.stdout).toContain('  jira-main (jira): SKIPPED 0 pulled');
    } finally {
      await release?.();
    }
  });
});
