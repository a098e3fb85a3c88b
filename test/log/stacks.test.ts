// A logged error is one line without --verbose: its message and its causes', no stack.
import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/core/log.ts';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) } };
}

const failure = () =>
  new ConnectorError('GET field: fetch failed', {
    tracker: 'jira',
    cause: new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }),
  });

describe('logged errors', () => {
  it('keep the type and every cause but no stack when stacks are off', () => {
    const out = capture();
    createLogger({ destination: out.destination, pretty: false, stacks: false }).error({ err: failure() }, 'failed');
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!)).toEqual({
      level: 50,
      time: expect.any(Number),
      msg: 'failed',
      err: {
        type: 'ConnectorError',
        name: 'ConnectorError',
        message: 'GET field: fetch failed: fetch failed: connect ECONNREFUSED 127.0.0.1:9',
        tracker: 'jira',
        exitCode: 1,
        status: 502,
      },
    });
  });

  it('are one line on a terminal when stacks are off, and carry the stack when on', () => {
    const plain = capture();
    createLogger({ destination: plain.destination, pretty: true, stacks: false }).error({ err: failure() }, 'failed');
    const verbose = capture();
    createLogger({ destination: verbose.destination, pretty: true, stacks: true }).error({ err: failure() }, 'failed');
    expect(plain.lines.join('').trimEnd().split('\n')).toHaveLength(1);
    expect(plain.lines.join('')).toContain('connect ECONNREFUSED 127.0.0.1:9');
    expect(plain.lines.join('')).not.toContain('    at ');
    expect(verbose.lines.join('')).toContain('    at ');
  });
});
