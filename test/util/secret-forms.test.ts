// Log scrubbing catches a configured secret inside base64, whatever it was encoded with: the
// Basic credentials of Jira (email:apiToken), Azure DevOps (a PAT after any user name) and the
// service hook password, in a message as well as in a field.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger, REDACTED, scrub } from '../../src/core/log.ts';

const JIRA_TOKEN = 'ATATT3xFfGF0-very-secret-token';
const PAT = 'q7z3kx2mlw9bfq4c8vrt5ynh6jd0pse1ag2uio8xz3wk7m4vb9nq';
const HOOK_PASSWORD = 'hook-password-2f9c';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Whether any run of base64 in `text` decodes to bytes holding all of `secret` but two bytes at each end. */
function leaks(text: string, secret: string): boolean {
  const middle = Buffer.from(secret).subarray(2, -2);
  for (const run of text.match(/[A-Za-z0-9+/_-]{4,}={0,2}/g) ?? []) {
    const standard = run.replaceAll('-', '+').replaceAll('_', '/');
    for (let shift = 0; shift < 4; shift++) {
      if (Buffer.from(standard.slice(shift), 'base64').includes(middle)) return true;
    }
  }
  return false;
}

describe('secrets inside base64', () => {
  it('are scrubbed from every log line, in messages and fields alike', () => {
    const { secrets } = parseConfig(
      `
connections:
  - { id: jira-main, kind: jira, baseUrl: "https://acme.atlassian.net", auth: { email: pmo@acme.test, apiToken: "\${JIRA}" }, scope: { projects: [PAY] } }
  - { id: ado-main, kind: azure-devops, orgUrl: "https://dev.azure.com/acme", auth: { pat: "\${PAT}" }, scope: { projects: [P] }, webhookAuth: { username: pmo-sync, password: "\${HOOK}" } }
`,
      { env: { JIRA: JIRA_TOKEN, PAT, HOOK: HOOK_PASSWORD } },
    );
    const lines: string[] = [];
    const log = createLogger({ secrets, pretty: false, destination: { write: (l: string) => lines.push(l) } });
    log.warn(`tracker answered 401 to Authorization: Basic ${b64(`pmo@acme.test:${JIRA_TOKEN}`)}`);
    log.warn({ upstream: { request: `Basic ${b64(`:${PAT}`)}` } }, 'ado refused');
    log.warn(
      { sent: `Basic ${b64(`PAT:${PAT}`)}`, url: `https://x.test/?auth=${b64(`user:${PAT}`).replace(/=+$/, '')}` },
      'retry',
    );
    log.info(
      `hook creds ${b64(`pmo-sync:${HOOK_PASSWORD}`)} and url-safe ${Buffer.from(`x:${PAT}`).toString('base64url')}`,
    );
    const text = lines.join('');
    for (const secret of [JIRA_TOKEN, PAT, HOOK_PASSWORD]) expect(leaks(text, secret)).toBe(false);
    expect(text.split(REDACTED).length - 1).toBeGreaterThanOrEqual(6);
  });

  it('are scrubbed whatever precedes and follows them', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 60 }),
        fc.uint8Array({ maxLength: 12 }),
        fc.uint8Array({ maxLength: 12 }),
        (secret, before, after) => {
          const encoded = Buffer.concat([Buffer.from(before), Buffer.from(secret), Buffer.from(after)]).toString(
            'base64',
          );
          const out = scrub(`Authorization: Basic ${encoded}`, [secret]);
          expect(out).toContain(REDACTED);
          expect(leaks(out, secret)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
