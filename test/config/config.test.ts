import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/core/errors.ts';

const env = {
  JIRA_EMAIL: 'pmo@acme.test',
  JIRA_API_TOKEN: 'jira-secret-token',
  ADO_PAT: 'ado-secret-pat',
  HOOK: 'hook-pass',
};

const GOOD = `
database: { url: postgres://pmo@db.internal/pmo }
server: { port: 8787, publicUrl: https://pmo.example.com }
mode: enforce
connections:
  - id: jira-main
    kind: jira
    baseUrl: https://acme.atlassian.net
    auth: { email: \${JIRA_EMAIL}, apiToken: \${JIRA_API_TOKEN} }
    scope: { projects: [PAY, WEB] }
    fields: { points: customfield_10016, start: customfield_10015, sprint: customfield_10020, owner: customfield_10050 }
    webhookSecret: \${JIRA_API_TOKEN}
    writeback: { comment: true, labels: true, fields: { health: customfield_12346, compliance: customfield_12345 } }
    limits: { concurrency: 4, requestsPerSecond: 10 }
  - id: ado-main
    kind: azure-devops
    orgUrl: https://dev.azure.com/acme
    auth: { pat: \${ADO_PAT} }
    scope: { projects: [Payments] }
    webhookAuth: { username: pmo-sync, password: \${HOOK} }
    writeback: { comment: true, tags: true, fields: { health: Custom.PMOHealth } }
rules:
  packs: [pmo-standard]
  files: [./pmo-rules.yaml]
  overrides: { stale-in-progress: { params: { days: 10 } }, epic-budget: { enabled: false } }
  waivers: [{ rule: epic-target-date, ref: "jira-main:PAY-7", until: 2027-03-31, reason: "Milestone set by steering committee" }]
portfolio:
  programs:
    - id: payments
      name: Payments modernisation
      include: [{ connection: jira-main, project: PAY }, { connection: ado-main, project: Payments }]
schedule: { sync: "*/5 * * * *", reconcile: "0 2 * * *" }
`;

function problems(text: string, e: Record<string, string> = env): string[] {
  try {
    parseConfig(text, { env: e });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

const minimal = (conn: string, extra = '') => `connections:\n${conn}\n${extra}`;
const jira = (over = '') => `  - id: j
    kind: jira
    baseUrl: https://acme.atlassian.net
    auth: { email: a@b.test, apiToken: t0ken-value }
    scope: { projects: [PAY] }
${over}`;

describe('parseConfig', () => {
  it('accepts the DESIGN.md example, interpolating ${VAR} inside flow mappings', () => {
    const { config, secrets } = parseConfig(GOOD, { env });
    expect(config.connections[0]).toEqual({
      id: 'jira-main',
      kind: 'jira',
      baseUrl: 'https://acme.atlassian.net',
      auth: { email: 'pmo@acme.test', apiToken: 'jira-secret-token' },
      scope: { projects: ['PAY', 'WEB'] },
      fields: {
        points: 'customfield_10016',
        start: 'customfield_10015',
        sprint: 'customfield_10020',
        owner: 'customfield_10050',
      },
      typeMap: {},
      webhookSecret: 'jira-secret-token',
      writeback: {
        comment: true,
        labels: true,
        fields: { health: 'customfield_12346', compliance: 'customfield_12345' },
        whenCompliant: 'update',
      },
      limits: { concurrency: 4, requestsPerSecond: 10 },
    });
    expect(config.rules.waivers).toEqual([
      {
        rule: 'epic-target-date',
        ref: 'jira-main:PAY-7',
        until: '2027-03-31',
        reason: 'Milestone set by steering committee',
      },
    ]);
    expect(config.connections[1]?.kind).toBe('azure-devops');
    expect(secrets.sort()).toEqual(['ado-secret-pat', 'hook-pass', 'jira-secret-token', 'pmo@acme.test'].sort());
  });

  it('turns a whole-value ${VAR} into a number where one is written', () => {
    const { config } = parseConfig(minimal(jira(), 'server: { port: ${PORT} }'), { env: { PORT: '9000' } });
    expect(config.server.port).toBe(9000);
  });

  it('applies ${VAR:-default}', () => {
    const { config } = parseConfig(minimal(jira(), 'mode: ${MODE:-dry-run}'), { env: {} });
    expect(config.mode).toBe('dry-run');
  });

  const bad: [string, string, string[], Record<string, string>?][] = [
    [
      'a missing secret names the variable and the key',
      minimal(jira().replace('t0ken-value', '${JIRA_API_TOKEN}')),
      [
        "connections[0].auth.apiToken (line 5, column 30): environment variable JIRA_API_TOKEN is not set (export JIRA_API_TOKEN=… or put it in the service's environment)",
      ],
      {},
    ],
    [
      'an unknown top-level key',
      minimal(jira(), 'colour: blue'),
      [
        'colour (line 8, column 1): unknown key "colour": remove it or fix its spelling (docs/configuration.md lists every key)',
      ],
    ],
    [
      'an unknown key inside a connection',
      minimal(jira('    projectz: [PAY]')),
      [
        'connections[0].projectz (line 7, column 5): unknown key "projectz": remove it or fix its spelling (docs/configuration.md lists every key)',
      ],
    ],
    [
      'a bad mode',
      minimal(jira(), 'mode: fast'),
      ['mode (line 8, column 1): expected one of "enforce", "dry-run", found string "fast"'],
    ],
    [
      'a port that is text',
      minimal(jira(), 'server: { port: eighty }'),
      ['server.port (line 8, column 11): expected a number, found string "eighty"'],
    ],
    [
      'a base URL that is not a URL',
      minimal(jira().replace('https://acme.atlassian.net', 'acme.atlassian.net')),
      ['connections[0].baseUrl (line 4, column 5): expected an http(s) URL, found string "acme.atlassian.net"'],
    ],
    [
      'an unknown connection kind',
      minimal('  - { id: t, kind: trello }'),
      [
        'connections[0].kind (line 2, column 14): expected one of the connection kinds "jira", "azure-devops", found string "trello"',
      ],
    ],
    ['no connections at all', 'mode: enforce', ['connections (line 1, column 1): expected a list, found nothing']],
    [
      'an empty connection list',
      'connections: []',
      ['connections (line 1, column 1): expected a list with ≥ 1 entries, found an empty list'],
    ],
    [
      'concurrency out of range',
      minimal(jira('    limits: { concurrency: 0 }')),
      ['connections[0].limits.concurrency (line 7, column 15): expected a number ≥ 1, found number 0'],
    ],
    [
      'duplicate connection ids',
      minimal(`${jira()}${jira()}`),
      ['connections[1].id (line 7, column 5): duplicate connection id "j" (also connections[0])'],
    ],
    [
      'a program naming an unknown connection',
      minimal(jira(), 'portfolio: { programs: [{ id: p, name: P, include: [{ connection: nope, project: X }] }] }'),
      ['portfolio.programs[0].include[0].connection (line 8, column 55): unknown connection "nope" (known: j)'],
    ],
    [
      'a team grouped by a board of an unknown connection',
      minimal(jira(), 'forecast: { teams: [{ id: t, match: { connection: nope, board: 4 } }] }'),
      ['forecast.teams[0].match.connection (line 8, column 39): unknown connection "nope" (known: j)'],
    ],
    [
      'a team grouped by a board of an Azure DevOps connection',
      minimal(
        `${jira()}  - { id: a, kind: azure-devops, orgUrl: https://dev.azure.com/acme, auth: { pat: p }, scope: { projects: [X] } }`,
        'forecast: { teams: [{ id: t, match: { connection: a, board: 4 } }] }',
      ),
      ['forecast.teams[0].match.connection (line 8, column 39): a board needs a Jira connection; "a" is azure-devops'],
    ],
    [
      'a waiver without ref or project and a bad date',
      minimal(jira(), 'rules: { waivers: [{ rule: r, until: next-week, reason: x }] }'),
      [
        'rules.waivers[0].until (line 8, column 31): expected a date like 2027-03-31, found string "next-week"',
        'rules.waivers[0] (line 8, column 20): a waiver needs "ref" or "project"',
      ],
    ],
    [
      'a bad cron expression',
      minimal(jira(), 'schedule: { sync: "every five minutes" }'),
      [
        'schedule.sync (line 8, column 13): expected a cron expression with five fields, like "*/5 * * * *", found string "every five minutes"',
      ],
    ],
    [
      'YAML that does not parse',
      'connections: [\n  - id: x',
      [
        ': YAML syntax error at line 2, column 3: Block collections are not allowed within flow collections',
        ': YAML syntax error at line 2, column 10: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    ],
    [
      'azure devops auth without a PAT',
      minimal(
        '  - id: a\n    kind: azure-devops\n    orgUrl: https://dev.azure.com/acme\n    auth: {}\n    scope: { projects: [P] }',
      ),
      // A PAT, a service principal or a managed identity (docs/configuration.md): none of them is empty.
      ['connections[0].auth (line 5, column 5): expected one of the documented forms, found a mapping'],
    ],
  ];

  for (const [name, text, expected, e] of bad) {
    it(`rejects ${name}`, () => {
      expect(problems(text, e)).toEqual(expected);
    });
  }

  it('keeps interpolated values as text, quoted or not: a secret of digits or "true" is still the secret', () => {
    const text = minimal(
      `  - id: j
    kind: jira
    baseUrl: https://acme.atlassian.net
    auth: { email: "\${EMAIL}", apiToken: "\${TOKEN}" }
    scope: { projects: [PAY] }
    webhookSecret: \${HOOK_SECRET}
    webhookSecretPrevious: '\${OLD_SECRET}'`,
      'server: { port: "${PORT}", protectMetrics: ${PROTECT} }',
    );
    const env = {
      EMAIL: '0042',
      TOKEN: '123456789',
      HOOK_SECRET: 'true',
      OLD_SECRET: '-1.5',
      PORT: '9000',
      PROTECT: 'true',
    };
    const { config, secrets } = parseConfig(text, { env });
    const conn = config.connections[0]!;
    expect(conn.kind === 'jira' && [conn.auth, conn.webhookSecret, conn.webhookSecretPrevious]).toEqual([
      { email: '0042', apiToken: '123456789' },
      'true',
      '-1.5',
    ]);
    // Settings that are numbers or booleans read their text form.
    expect([config.server.port, config.server.protectMetrics]).toEqual([9000, true]);
    expect(secrets.sort()).toEqual(['-1.5', '0042', '123456789', 'true'].sort());
  });

  it('never prints a value that stands at a secret-bearing path, whatever is wrong with it', () => {
    const secretsIn = [
      // Literal values of the wrong type under auth and secret-named keys.
      minimal(jira().replace('apiToken: t0ken-value', 'apiToken: 918273645'), 'mode: enforce'),
      minimal(jira('    webhookSecret: [s3cr3t-list-item]'), ''),
      minimal(jira('    webhookSecret: 918273645'), ''),
      minimal(
        '  - id: a\n    kind: azure-devops\n    orgUrl: https://dev.azure.com/acme\n    auth: { pat: 918273645 }\n    scope: { projects: [P] }\n    webhookAuth: { username: u, password: 918273646 }',
      ),
      minimal(jira(), 'database: { url: 918273645 }'),
      minimal(jira(), 'database: { url: "" }'),
    ];
    for (const text of secretsIn) {
      const out = problems(text).join('\n');
      expect(out).not.toBe('');
      expect(out).not.toMatch(/918273645|918273646|s3cr3t/);
    }
    expect(problems(minimal(jira().replace('apiToken: t0ken-value', 'apiToken: 918273645')))).toEqual([
      'connections[0].auth (line 5, column 5): expected one of the documented forms, found a mapping',
    ]);
    expect(problems(minimal(jira('    webhookSecret: 918273645')))).toEqual([
      'connections[0].webhookSecret (line 7, column 5): expected text, found a number (value hidden: it is a secret)',
    ]);
  });

  it('hides credentials written into a URL that is shown', () => {
    const text = minimal(jira().replace('https://acme.atlassian.net', '"ftp://admin:hunter2@acme.test"'));
    expect(problems(text)).toEqual([
      'connections[0].baseUrl (line 4, column 5): expected an http(s) URL, found string "ftp://…@acme.test"',
    ]);
  });

  it('counts the password of an interpolated database URL as a secret', () => {
    const { secrets } = parseConfig(minimal(jira(), 'database: { url: ${DATABASE_URL} }'), {
      env: { DATABASE_URL: 'postgres://pmo:p%40ss@db.internal/pmo' },
    });
    expect(secrets.sort()).toEqual(['a@b.test', 'p%40ss', 'p@ss', 't0ken-value'].sort());
  });
});
