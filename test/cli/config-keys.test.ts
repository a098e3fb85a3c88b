// A mistyped config key is answered with the valid key it most likely meant, at its line.
import { describe, expect, it } from 'vitest';
import { configDir, runCli } from '../helpers/cli.ts';

describe('unknown config keys', () => {
  it('names the closest valid key for a mistyped one, at its line, exit 2', async () => {
    const dir = configDir(`connections:
  - id: jira-main
    kind: jira
    baseUrl: https://acme.atlassian.net
    auth: { email: pmo@acme.test, apiTokn: secret-token-1 }
    scope: { projects: [PAY] }
    limits: { concurency: 2 }
mdoe: enforce
`);
    const r = await runCli(['sync'], { cwd: dir });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr.split('\n') }).toEqual({
      code: 2,
      stdout: '',
      stderr: [
        `pmo-sync: ${dir}/pmo-sync.yaml: connections[0].auth.apiTokn (line 5, column 35): unknown key "apiTokn": did you mean \`apiToken\`? (docs/configuration.md lists every key)`,
        `${dir}/pmo-sync.yaml: connections[0].limits.concurency (line 7, column 15): unknown key "concurency": did you mean \`concurrency\`? (docs/configuration.md lists every key)`,
        `${dir}/pmo-sync.yaml: mdoe (line 8, column 1): unknown key "mdoe": did you mean \`mode\`? (docs/configuration.md lists every key)`,
        '',
      ],
    });
  });

  it('picks the key by the connection’s kind, and guesses nothing when nothing is close', async () => {
    const dir = configDir(`connections:
  - id: ado-main
    kind: azure-devops
    baseUrl: https://dev.azure.com/acme
    auth: { pat: secret-pat-1 }
    scope: { projects: [Payments] }
colour: blue
`);
    const r = await runCli(['sync'], { cwd: dir });
    expect(r.stderr.split('\n').filter((l) => l.includes('unknown key'))).toEqual([
      `${dir}/pmo-sync.yaml: connections[0].baseUrl (line 4, column 5): unknown key "baseUrl": did you mean \`orgUrl\`? (docs/configuration.md lists every key)`,
      `${dir}/pmo-sync.yaml: colour (line 7, column 1): unknown key "colour": remove it or fix its spelling (docs/configuration.md lists every key)`,
    ]);
    expect(r.code).toBe(2);
  });
});
