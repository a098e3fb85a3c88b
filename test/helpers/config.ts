// The smallest valid config: one Jira connection (`jira-main`, project PAY) at an address no
// test reaches, for tests that need a config but talk to no tracker.
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';

/** `extra` adds keys to the connection, one YAML line each (`webhookSecret: …`). */
export function oneJiraConnection(extra: string[] = []): Config {
  const lines = [
    'connections:',
    '  - id: jira-main',
    '    kind: jira',
    '    baseUrl: https://example.atlassian.net',
    '    auth: { email: bot@example.com, apiToken: t0k3n-for-tests }',
    '    scope: { projects: [PAY] }',
    ...extra.map((l) => `    ${l}`),
  ];
  return parseConfig(lines.join('\n'), { env: {} }).config;
}
