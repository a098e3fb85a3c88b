// Logged errors never carry query values: drizzle puts them in the message and the stack, the
// drivers in properties of the cause.
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.ts';
import { redactQueryParams, serializeError } from '../../src/core/safe-error.ts';

const HASH = '52828b18bead945241cedeb673d5ca8effe3a0000000000000000000000000000';
const BODY = '{"issue":{"key":"PAY-1","description":"multi\nline\nbody"}}';

function driverError() {
  return Object.assign(new Error('duplicate key value violates unique constraint "api_tokens_token_hash_unique"'), {
    code: '23505',
    detail: `Key (token_hash)=(${HASH}) already exists.`,
    params: [HASH, BODY],
    parameters: [HASH],
    query: 'insert into "api_tokens" ("token_hash") values ($1)',
  });
}

describe('errors in logs', () => {
  it('keeps the SQL and the SQLSTATE, drops every value', () => {
    const err = new DrizzleQueryError(
      'insert into "api_tokens" ("token_hash") values ($1)',
      [HASH, BODY],
      driverError(),
    );
    const out = serializeError(err) as Record<string, unknown>;
    expect(out.message).toBe('Failed query: insert into "api_tokens" ("token_hash") values ($1)\nparams: [redacted]');
    expect(String(out.stack)).toMatch(/^Error: Failed query: .*\nparams: \[redacted\]\n {4}at /);
    expect(out.cause).toMatchObject({ code: '23505', query: 'insert into "api_tokens" ("token_hash") values ($1)' });
    const text = JSON.stringify(out);
    expect(text).not.toContain(HASH);
    expect(text).not.toContain('multi');
  });

  it('scrubs drizzle messages copied into any field or message of a log line', () => {
    const lines: string[] = [];
    const log = createLogger({ pretty: false, destination: { write: (l: string) => lines.push(l) } });
    const err = new DrizzleQueryError('select 1 where x = $1', [HASH, BODY], new Error('PGlite is closed'));
    log.warn({ err: err.message, lastError: err.message }, `batch failed: ${err.message}`);
    log.error({ err }, 'request failed');
    const text = lines.join('');
    expect(text).not.toContain(HASH);
    expect(text).not.toContain('multi');
    expect(text.match(/params: \[redacted\]/g)?.length).toBe(5);
  });

  it('leaves text without a params marker alone', () => {
    expect(redactQueryParams('an error\n    at x (y.ts:1:1)')).toBe('an error\n    at x (y.ts:1:1)');
  });
});
