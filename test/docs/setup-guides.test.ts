// The setup guides and their example configs stay true: each example loads through the real config
// loader, passes `pmo-sync doctor` against a simulator set up as its guide says, and each guide's
// table of writes names every write-back setting there is.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const env = {
  JIRA_EMAIL: 'pmo-bot@acme.com',
  JIRA_API_TOKEN: 'example-jira-token',
  JIRA_WEBHOOK_SECRET: 'example-webhook-secret',
  ADO_PAT: 'example-ado-pat',
  ADO_HOOK_PASSWORD: 'example-hook-password',
  DATABASE_URL: 'postgres://pmo:example@db.acme.internal:5432/pmo',
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The example with its addresses pointed at the test's simulators and an embedded database. */
function localCopy(example: string, replace: [string, string][]): string {
  let text = read(example).replace(`url: "\${DATABASE_URL}"`, 'url: ./db');
  for (const [from, to] of replace) {
    expect(text).toContain(from);
    text = text.replaceAll(from, to);
  }
  const dir = tempDir();
  writeFileSync(join(dir, 'pmo-sync.yaml'), text);
  return dir;
}

describe('examples/jira.pmo-sync.yaml', () => {
  it('loads through the config loader as the guide describes it', () => {
    const loaded = loadConfig({ path: join(root, 'examples/jira.pmo-sync.yaml'), env, cwd: root })!;
    const c = loaded.config;
    const jira = c.connections[0]!;
    expect({ mode: c.mode, publicUrl: c.server.publicUrl, db: c.database.url }).toEqual({
      mode: 'dry-run',
      publicUrl: 'https://pmo.acme.com',
      db: env.DATABASE_URL,
    });
    expect(jira.kind === 'jira' && jira).toMatchObject({
      id: 'jira-main',
      baseUrl: 'https://acme.atlassian.net',
      auth: { email: env.JIRA_EMAIL, apiToken: env.JIRA_API_TOKEN },
      scope: { projects: ['PAY'] },
      webhookSecret: env.JIRA_WEBHOOK_SECRET,
      writeback: {
        comment: true,
        labels: true,
        whenCompliant: 'update',
        fields: { health: 'customfield_12346', compliance: 'customfield_12345', percentComplete: 'customfield_12347' },
      },
    });
    expect(loaded.secrets).toEqual(expect.arrayContaining([env.JIRA_API_TOKEN, env.JIRA_WEBHOOK_SECRET]));
  });

  it('passes pmo-sync doctor against a Jira site set up as docs/setup-jira.md says', async () => {
    const jira = await startJiraSimulator({ auth: { email: env.JIRA_EMAIL, apiToken: env.JIRA_API_TOKEN } });
    closers.push(() => jira.close());
    jira.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 1, bugsPerEpic: 0, violationRate: 0, seed: 2 });
    jira.admin.addField({ id: 'customfield_12345', name: 'PMO compliance', type: 'number' });
    jira.admin.addField({ id: 'customfield_12346', name: 'PMO health' });
    jira.admin.addField({ id: 'customfield_12347', name: 'PMO % complete', type: 'number' });
    const dir = localCopy('examples/jira.pmo-sync.yaml', [
      ['https://acme.atlassian.net', jira.url],
      ['https://pmo.acme.com', 'http://127.0.0.1:9'],
    ]);
    const cliEnv = { ...env, DATABASE_URL: '' };
    expect((await runCli(['webhooks', 'install'], { cwd: dir, env: cliEnv })).code).toBe(0);

    const r = await runCli(['doctor', '--json'], { cwd: dir, env: cliEnv });

    const out = JSON.parse(r.stdout) as { ok: boolean; checks: { status: string }[] };
    expect({ code: r.code, ok: out.ok, notOk: out.checks.filter((c) => c.status !== 'ok') }).toEqual({
      code: 0,
      ok: true,
      notOk: [],
    });
  });
});

describe('examples/azure-devops.pmo-sync.yaml', () => {
  it('loads through the config loader as the guide describes it', () => {
    const loaded = loadConfig({ path: join(root, 'examples/azure-devops.pmo-sync.yaml'), env, cwd: root })!;
    const ado = loaded.config.connections[0]!;
    expect(loaded.config.mode).toBe('dry-run');
    expect(ado.kind === 'azure-devops' && ado).toMatchObject({
      id: 'ado-main',
      orgUrl: 'https://dev.azure.com/acme',
      auth: { pat: env.ADO_PAT },
      scope: { projects: ['Payments'] },
      webhookAuth: { username: 'pmo-sync', password: env.ADO_HOOK_PASSWORD },
      writeback: {
        comment: true,
        tags: true,
        whenCompliant: 'update',
        fields: {
          health: 'Custom.PMOHealth',
          compliance: 'Custom.PMOCompliance',
          percentComplete: 'Custom.PMOPercentComplete',
        },
      },
    });
  });

  it('passes pmo-sync doctor against an organization set up as docs/setup-azure-devops.md says', async () => {
    const ado = await startAdoSimulator({ pats: [env.ADO_PAT] });
    closers.push(() => ado.close());
    ado.addProject('Payments', 'Agile');
    for (const [referenceName, name] of [
      ['Custom.BusinessCase', 'Business case'],
      ['Custom.PMOHealth', 'PMO health'],
      ['Custom.PMOCompliance', 'PMO compliance'],
      ['Custom.PMOPercentComplete', 'PMO percent complete'],
    ] as const)
      ado.admin.addField({ referenceName, name });
    const dir = localCopy('examples/azure-devops.pmo-sync.yaml', [
      ['https://dev.azure.com/acme', ado.url],
      ['https://pmo.acme.com', 'http://127.0.0.1:9'],
    ]);
    const cliEnv = { ...env, DATABASE_URL: '' };
    expect((await runCli(['webhooks', 'install'], { cwd: dir, env: cliEnv })).code).toBe(0);

    const r = await runCli(['doctor', '--json'], { cwd: dir, env: cliEnv });

    const out = JSON.parse(r.stdout) as { ok: boolean; checks: { status: string }[] };
    expect({ code: r.code, ok: out.ok, notOk: out.checks.filter((c) => c.status !== 'ok') }).toEqual({
      code: 0,
      ok: true,
      notOk: [],
    });
  });
});

describe('the setup guides', () => {
  for (const [guide, example, marker] of [
    ['docs/setup-jira.md', 'examples/jira.pmo-sync.yaml', 'labels'],
    ['docs/setup-azure-devops.md', 'examples/azure-devops.pmo-sync.yaml', 'tags'],
  ] as const) {
    it(`${guide}: the table of writes names every write-back setting and how to turn it off`, () => {
      const text = read(guide);
      const table = text.slice(text.indexOf('## 8. Everything pmo-sync writes'));
      for (const setting of [
        'writeback.comment: false',
        `writeback.${marker}: false`,
        'writeback.whenCompliant: update',
        'writeback.fields.health',
        'writeback.fields.percentComplete',
        'writeback.fields.compliance',
        'mode: dry-run',
        'pmo-sync webhooks install',
      ])
        expect(table).toContain(setting);
      expect(text).toContain(`](../${example})`);
      for (const step of ['pmo-sync doctor', 'sync --dry-run', 'report --writes', 'One pilot project', 'mode: enforce'])
        expect(text).toContain(step);
    });
  }

  it('the auth forms the guides show load, each as the credential the guide says', () => {
    const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const authEnv = { ...env, JIRA_OAUTH_CLIENT_SECRET: 'cs', JIRA_OAUTH_REFRESH_TOKEN: 'rt', ADO_CLIENT_SECRET: 'sp' };
    const load = (connection: string) =>
      parseConfig(`connections:\n  - ${connection.replace(/\n/g, '\n    ')}\n`, { env: authEnv }).config.connections[0]!
        .auth;
    const jira = (auth: string) =>
      load(`{ id: j, kind: jira, baseUrl: https://acme.atlassian.net, scope: { projects: [PAY] }, ${auth} }`);
    // Inline `auth: { … }` forms of the Jira guide, `…` standing for an id the reader fills in.
    const jiraForms = [...read('docs/setup-jira.md').matchAll(/`(auth: \{[^`]*\})`/g)].map((m) =>
      m[1]!.replaceAll('…', 'pmo-sync-app'),
    );
    expect(jiraForms.map((f) => Object.keys(jira(f)).sort())).toEqual([
      ['apiToken', 'email'],
      ['apiToken', 'email', 'scoped'],
      ['oauth'],
    ]);
    // The Azure DevOps guide's service principal block, and its managed identity form.
    const text = read('docs/setup-azure-devops.md');
    const block = /```yaml\n(auth:\n[\s\S]*?)```/.exec(text)![1]!;
    let n = 0;
    const filled = block.replace(/[0-9a-f]+-…/g, () => uuid(++n));
    const ado = (auth: string) =>
      load(
        `id: a\nkind: azure-devops\norgUrl: https://dev.azure.com/acme\nscope: { projects: [P] }\n${auth.trimEnd()}`,
      );
    expect(ado(filled)).toEqual({ tenantId: uuid(1), clientId: uuid(2), clientSecret: 'sp' });
    expect(text).toContain('`auth: { managedIdentity: true }`');
    expect(ado('auth: { managedIdentity: true }')).toEqual({ managedIdentity: true });
  });

  it('README links both guides', () => {
    const readme = read('README.md');
    expect(readme).toContain('](docs/setup-jira.md)');
    expect(readme).toContain('](docs/setup-azure-devops.md)');
  });
});
