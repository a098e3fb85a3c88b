import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { ConnectorError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/core/log.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination: { write: (s: string) => destination.write(s) } };
}

const TOKEN = 'ATATT3xFfGF0-very-secret-token';
const CONFIG = `
connections:
  - id: jira-main
    kind: jira
    baseUrl: https://acme.atlassian.net
    auth: { email: pmo@acme.test, apiToken: \${JIRA_API_TOKEN} }
    scope: { projects: [PAY] }
    webhookSecret: \${HOOK_SECRET}
`;

describe('logging', () => {
  it('never writes a configured token, whatever key or message carries it', () => {
    const { config, secrets } = parseConfig(CONFIG, { env: { JIRA_API_TOKEN: TOKEN, HOOK_SECRET: 'hook-secret-123' } });
    const out = capture();
    const log = createLogger({ secrets, destination: out.destination, level: 'debug' });

    log.info({ config }, 'loaded config');
    log.info(
      { headers: { authorization: `Basic ${Buffer.from(`pmo@acme.test:${TOKEN}`).toString('base64')}` } },
      'request',
    );
    log.warn(`token was ${TOKEN} and url https://x.test/?t=${encodeURIComponent(TOKEN)}`);
    log.error({ err: new ConnectorError(`auth failed for ${TOKEN}`, { tracker: 'jira' }) }, 'failed');
    log.debug({ nested: { deeper: { value: 'hook-secret-123' } } }, 'webhook');

    const text = out.lines.join('');
    expect(out.lines).toHaveLength(5);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(encodeURIComponent(TOKEN));
    expect(text).not.toContain('hook-secret-123');
    expect(text).not.toContain(Buffer.from(`pmo@acme.test:${TOKEN}`).toString('base64'));
    expect(text.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
  });

  it('writes JSON lines when not pretty', () => {
    const out = capture();
    const log = createLogger({ destination: out.destination, pretty: false });
    log.info({ connection: 'jira-main' }, 'pull started');
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ level: 30, connection: 'jira-main', msg: 'pull started' });
  });
});
