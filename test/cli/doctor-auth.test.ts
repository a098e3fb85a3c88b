// `pmo-sync doctor` with the 2026 credentials, through the real CLI against the simulators: a
// Jira scoped API token (through the gateway, the cloud id read from the site), Jira OAuth 2.0
// (3LO) refreshed from the stored refresh token and the rotated one kept, and an Azure DevOps
// service principal signing in with Microsoft Entra ID. Doctor obtains each credential with the
// connectors' own code, so all green here is what the sync will see; a refused client secret or
// refresh token is one line naming the setting, and exit 1.
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeClientCertificate } from '../../connectors/azure-devops/simulator/entra.ts';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { openDatabase } from '../../db/client.ts';
import { createKvTokenStore } from '../../src/auth/jira-tokens.ts';
import { configDir, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

const PUBLIC_URL = 'http://127.0.0.1:9/pmo';
const CLOUD_ID = 'c0ffee00-1111-4222-8333-444455556666';
const SCOPED = { email: 'pmo-bot@example.com', apiToken: 'ATATT-scoped-doctor-token' };
const CLIENT = '9f1c7a52-0000-4000-8000-00000000c11e';
const SECRET = 'sp-client-secret~doctor0123';

interface Line {
  scope: string;
  check: string;
  status: string;
  detail: string;
  fix?: string;
}

let database: string;
const closers: (() => Promise<void> | void)[] = [];
/** Each OAuth test consents anew: a refresh token of its own, so none finds another's stored one. */
let consent = 0;

beforeAll(async () => {
  // One migrated database for the file: OAuth connections keep their rotated refresh token in it.
  database = join(tempDir(), 'db');
  const r = await runCli(['migrate'], {
    cwd: configDir(`database: { url: ${database} }
connections:
  - { id: ado-main, kind: azure-devops, orgUrl: http://127.0.0.1:1/acme, auth: { pat: x }, scope: { projects: [P] } }
`),
  });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** The gateway on localhost and the site on 127.0.0.1: one simulator, two origins. */
const gatewayOf = (s: JiraSimulator) => s.url.replace('127.0.0.1', 'localhost');

async function jiraSim(opts: Parameters<typeof startJiraSimulator>[0]): Promise<JiraSimulator> {
  const s = await startJiraSimulator({ cloudId: CLOUD_ID, ...opts });
  closers.push(() => s.close());
  s.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 2, bugsPerEpic: 0, violationRate: 0, seed: 1 });
  return s;
}

function jiraYaml(s: JiraSimulator, auth: string, db = database): string {
  return `
database: { url: ${db} }
server: { publicUrl: ${PUBLIC_URL} }
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${s.url}
    apiUrl: ${gatewayOf(s)}
    authUrl: ${s.url}
    auth: ${auth}
    scope: { projects: [PAY] }
    writeback: { comment: true, labels: true }
`;
}

async function doctor(dir: string, env: Record<string, string>, deps = {}) {
  const r = await runCli(['doctor', '--json'], { cwd: dir, env, deps });
  return {
    code: r.code,
    stderr: r.stderr,
    out: JSON.parse(r.stdout || '{"checks":[]}') as { ok: boolean; checks: Line[] },
  };
}

const notOk = (checks: Line[]) =>
  checks.filter((c) => c.status !== 'ok').map((c) => ({ check: c.check, status: c.status, detail: c.detail }));

async function storedRefreshToken(): Promise<string | undefined> {
  const db = await openDatabase(database, { maxConnections: 1 });
  try {
    return (await createKvTokenStore(db.db).load('jira-main'))?.refreshToken;
  } finally {
    await db.close();
  }
}

describe('pmo-sync doctor with Jira 2026 credentials', () => {
  it('is all green on a scoped API token, which goes to the gateway only', async () => {
    const s = await jiraSim({ scopedTokens: [SCOPED], auth: { email: 'admin@example.com', apiToken: 'classic' } });
    const env = { JIRA_API_TOKEN: SCOPED.apiToken };
    const yaml = jiraYaml(s, `{ email: ${SCOPED.email}, apiToken: \${JIRA_API_TOKEN}, scoped: true }`);
    const install = await runCli(['webhooks', 'install'], { cwd: configDir(yaml), env });
    expect(install.code).toBe(0);
    s.resetCounts();

    const r = await doctor(configDir(yaml), env);

    expect({ code: r.code, stderr: r.stderr, notOk: notOk(r.out.checks) }).toEqual({ code: 0, stderr: '', notOk: [] });
    expect(r.out.checks.find((c) => c.check === 'credentials')!.detail).toContain(
      `through ${gatewayOf(s)}/ex/jira/${CLOUD_ID}`,
    );
    // Only the cloud id lookup (no credential) went to the site; every API call to the gateway.
    expect([...new Set(s.requestLog().map((q) => q.via))]).toEqual(['gateway']);
  });

  it('is all green on OAuth 2.0 (3LO), keeping the refresh token it rotated so the next run works too', async () => {
    const oauth = { clientId: 'pmo-sync-app', clientSecret: 'client-secret-doctor', refreshToken: `rt-${++consent}` };
    const s = await jiraSim({ oauth });
    const env = { JIRA_CLIENT_SECRET: oauth.clientSecret, JIRA_REFRESH_TOKEN: oauth.refreshToken };
    const yaml = jiraYaml(
      s,
      `{ oauth: { clientId: ${oauth.clientId}, clientSecret: \${JIRA_CLIENT_SECRET}, refreshToken: \${JIRA_REFRESH_TOKEN} } }`,
    );
    const install = await runCli(['webhooks', 'install'], { cwd: configDir(yaml), env });
    expect(install.code).toBe(0);

    const first = await doctor(configDir(yaml), env);
    const afterFirst = { refreshes: s.gateway.refreshCount(), stored: await storedRefreshToken() };
    const second = await doctor(configDir(yaml), env);

    expect({ code: first.code, stderr: first.stderr, notOk: notOk(first.out.checks) }).toEqual({
      code: 0,
      stderr: '',
      notOk: [],
    });
    expect(first.out.checks.map((c) => c.check)).toContain('webhooks');
    expect(first.out.checks.find((c) => c.check === 'credentials expiry')!.detail).toMatch(
      /^access token valid until 2\d{3}-.*, renewed by pmo-sync/,
    );
    // install refreshed once, doctor once; what Atlassian now accepts is what the database holds.
    expect(afterFirst).toEqual({ refreshes: 2, stored: expect.stringMatching(/^rt-/) });
    expect({ code: second.code, stored: await storedRefreshToken() }).toEqual({
      code: 0,
      stored: s.gateway.currentRefreshToken(),
    });
    expect(JSON.stringify([first.out, second.out])).not.toContain(oauth.clientSecret);
  });

  it('reports an expired refresh token on its own line naming auth.oauth.refreshToken, and exits 1', async () => {
    const oauth = { clientId: 'pmo-sync-app', clientSecret: 'client-secret-doctor', refreshToken: `rt-${++consent}` };
    const s = await jiraSim({ oauth });
    const env = { JIRA_CLIENT_SECRET: oauth.clientSecret, JIRA_REFRESH_TOKEN: `rt-${++consent}-lapsed` };
    const yaml = jiraYaml(
      s,
      `{ oauth: { clientId: ${oauth.clientId}, clientSecret: \${JIRA_CLIENT_SECRET}, refreshToken: \${JIRA_REFRESH_TOKEN} } }`,
    );

    const r = await doctor(configDir(yaml), env);

    expect(r.code).toBe(1);
    const jira = r.out.checks.filter((c) => c.scope === 'jira-main');
    expect(jira.map((c) => [c.check, c.status])).toEqual([['credentials', 'fail']]);
    expect(jira[0]!.detail).toMatch(/invalid_grant.*auth\.oauth\.refreshToken/);
    expect(jira[0]!.fix).toMatch(/auth\.oauth\.refreshToken of connection jira-main/);
    expect(JSON.stringify(r.out)).not.toContain(env.JIRA_REFRESH_TOKEN);
  });

  it('reports a wrong client secret as the client credentials, naming auth.oauth.clientSecret', async () => {
    const oauth = { clientId: 'pmo-sync-app', clientSecret: 'client-secret-doctor', refreshToken: `rt-${++consent}` };
    const s = await jiraSim({ oauth });
    const env = { JIRA_CLIENT_SECRET: 'a-mistyped-secret', JIRA_REFRESH_TOKEN: oauth.refreshToken };
    const yaml = jiraYaml(
      s,
      `{ oauth: { clientId: ${oauth.clientId}, clientSecret: \${JIRA_CLIENT_SECRET}, refreshToken: \${JIRA_REFRESH_TOKEN} } }`,
    );

    const r = await doctor(configDir(yaml), env);

    expect(r.code).toBe(1);
    const jira = r.out.checks.filter((c) => c.scope === 'jira-main');
    expect(jira.map((c) => [c.check, c.status])).toEqual([['credentials', 'fail']]);
    expect(jira[0]!.fix).toMatch(/auth\.oauth\.clientSecret of connection jira-main/);
    expect(JSON.stringify(r.out)).not.toContain('a-mistyped-secret');
  });

  it('does not spend an OAuth refresh token it could not keep the rotated one of (a memory database)', async () => {
    const oauth = { clientId: 'pmo-sync-app', clientSecret: 'client-secret-doctor', refreshToken: `rt-${++consent}` };
    const s = await jiraSim({ oauth });
    const env = { JIRA_CLIENT_SECRET: oauth.clientSecret, JIRA_REFRESH_TOKEN: oauth.refreshToken };
    const yaml = jiraYaml(
      s,
      `{ oauth: { clientId: ${oauth.clientId}, clientSecret: \${JIRA_CLIENT_SECRET}, refreshToken: \${JIRA_REFRESH_TOKEN} } }`,
      'memory://',
    );

    const r = await doctor(configDir(yaml), env);

    expect({ code: r.code, refreshes: s.gateway.refreshCount(), valid: s.gateway.currentRefreshToken() }).toEqual({
      code: 0,
      refreshes: 0,
      valid: oauth.refreshToken,
    });
    expect(notOk(r.out.checks)).toEqual([
      { check: 'credentials', status: 'warn', detail: expect.stringMatching(/did not spend it/) },
    ]);
  });

  it('leaves the refresh token to a running serve that holds the embedded database', async () => {
    const oauth = { clientId: 'pmo-sync-app', clientSecret: 'client-secret-doctor', refreshToken: `rt-${++consent}` };
    const s = await jiraSim({ oauth });
    const env = { JIRA_CLIENT_SECRET: oauth.clientSecret, JIRA_REFRESH_TOKEN: oauth.refreshToken };
    const yaml = jiraYaml(
      s,
      `{ oauth: { clientId: ${oauth.clientId}, clientSecret: \${JIRA_CLIENT_SECRET}, refreshToken: \${JIRA_REFRESH_TOKEN} } }`,
    );
    const held = await openDatabase(database, { maxConnections: 1 });
    closers.push(() => held.close());

    const r = await doctor(configDir(yaml), env);

    expect({ code: r.code, refreshes: s.gateway.refreshCount() }).toEqual({ code: 0, refreshes: 0 });
    expect(notOk(r.out.checks).map((c) => [c.check, c.status, c.detail.replace(/\d+/, 'N')])).toEqual([
      [
        'credentials',
        'warn',
        expect.stringContaining(
          'the database is in use by pmo-sync process N, which keeps its own, so doctor did not spend it',
        ),
      ],
      ['reachable', 'warn', expect.stringContaining('is in use by pmo-sync process')],
    ]);
  });
});

describe('pmo-sync doctor with Microsoft Entra ID for Azure DevOps', () => {
  async function adoWorld(credential: { secret: string } | { certificate: string; path: string } = { secret: SECRET }) {
    const sim: AdoSimulator = await startAdoSimulator({
      pats: ['admin-pat'],
      entra: {
        clients: [
          'secret' in credential
            ? { clientId: CLIENT, secret: credential.secret }
            : { clientId: CLIENT, certificate: credential.certificate },
        ],
      },
    });
    closers.push(() => sim.close());
    sim.addProject('Payments', 'Scrum');
    const agent = new Agent({ ca: sim.entra!.ca });
    closers.push(() => agent.destroy());
    const yaml = `
database: { url: ${database} }
server: { publicUrl: ${PUBLIC_URL} }
connections:
  - id: ado-main
    kind: azure-devops
    orgUrl: ${sim.url}
    auth:
      tenantId: ${sim.entra!.tenantId}
      clientId: ${CLIENT}
      ${'secret' in credential ? `clientSecret: \${ADO_CLIENT_SECRET}` : `certificatePath: ${credential.path}`}
      authorityHost: ${sim.entra!.authorityHost}
    scope: { projects: [Payments] }
    webhookAuth: { username: pmo-sync, password: \${ADO_HOOK_PASSWORD} }
    writeback: { comment: true, tags: true }
`;
    // The hooks are installed as an admin with a PAT would (webhooks install builds the connector
    // itself, with no agent of the test's); doctor then reads them with the principal's token.
    const patYaml = yaml.replace(/auth:\n( {6}\w+: .*\n)+/, 'auth: { pat: admin-pat }\n');
    return { sim, yaml, patYaml, deps: { entraAgent: agent } };
  }

  it('is all green on a service principal with a client secret, and says what expiry it can see', async () => {
    const { sim, yaml, patYaml, deps } = await adoWorld();
    const env = { ADO_CLIENT_SECRET: SECRET, ADO_HOOK_PASSWORD: 'doctor-hook-password' };
    const install = await runCli(['webhooks', 'install'], { cwd: configDir(patYaml), env });
    expect({ code: install.code, stderr: install.stderr.replace(/^.*generated a webhook secret.*\n/m, '') }).toEqual({
      code: 0,
      stderr: '',
    });

    const r = await doctor(configDir(yaml), env, deps);

    expect({ code: r.code, stderr: r.stderr, notOk: notOk(r.out.checks) }).toEqual({ code: 0, stderr: '', notOk: [] });
    const ado = r.out.checks.filter((c) => c.scope === 'ado-main');
    expect(ado.slice(0, 3).map((c) => [c.check, c.detail.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/, '<time>')])).toEqual([
      ['credentials', expect.stringMatching(/ with the service principal's Entra token$/)],
      ['credentials expiry', 'Entra access token valid until <time>, renewed by pmo-sync before it expires'],
      ['client secret expiry', expect.stringMatching(/^not visible to pmo-sync/)],
    ]);
    expect(sim.entra!.tokenRequests().every((q) => q.proof === 'secret' && q.status === 200)).toBe(true);
  });

  it('reports a bad client secret on its own line naming auth.clientSecret, and exits 1', async () => {
    const { yaml, deps } = await adoWorld();
    const env = { ADO_CLIENT_SECRET: 'not-the-secret', ADO_HOOK_PASSWORD: 'doctor-hook-password' };

    const r = await doctor(configDir(yaml), env, deps);

    expect(r.code).toBe(1);
    const ado = r.out.checks.filter((c) => c.scope === 'ado-main');
    expect(ado.map((c) => [c.check, c.status])).toEqual([['credentials', 'fail']]);
    expect(ado[0]!.detail).toMatch(/could not obtain the service principal's Entra token/);
    expect(ado[0]!.fix).toMatch(/auth\.clientSecret .* of connection ado-main/);
    expect(JSON.stringify(r.out)).not.toContain('not-the-secret');
    // The database line still runs after a failed connection.
    expect(r.out.checks.filter((c) => c.scope === 'database').map((c) => c.status)).toEqual(['ok', 'ok']);
  });

  it("reads a certificate's own expiry from the certificate it signs in with", async () => {
    const cert = await makeClientCertificate();
    const path = join(tempDir(), 'sp.pem');
    writeFileSync(path, cert.pem);
    const { yaml, patYaml, deps } = await adoWorld({ certificate: cert.certificate, path });
    const env = { ADO_HOOK_PASSWORD: 'doctor-hook-password' };
    expect((await runCli(['webhooks', 'install'], { cwd: configDir(patYaml), env })).code).toBe(0);

    const r = await doctor(configDir(yaml), env, deps);

    expect({ code: r.code, notOk: notOk(r.out.checks) }).toEqual({ code: 0, notOk: [] });
    expect(r.out.checks.find((c) => c.check === 'certificate expiry')).toEqual({
      scope: 'ado-main',
      check: 'certificate expiry',
      status: 'ok',
      detail: `the certificate is valid until ${new Date(new X509Certificate(cert.certificate).validTo).toISOString()}`,
    });
  });
});
