import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testItem } from '../../rules/testing.ts';
import { hashOf, shapeStringifier, stableStringify } from '../../src/core/hash.ts';
import { contentHash } from '../../src/sync/store.ts';

// The straightforward definition the fast version must agree with: keys sorted, undefined dropped.
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

describe('stableStringify', () => {
  it('matches the reference definition on arbitrary JSON-like values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(stableStringify(v)).toBe(reference(v));
      }),
      { numRuns: 500 },
    );
  });

  it('orders short and long key lists alike, whatever order they came in', () => {
    // Up to 32 keys are sorted by insertion, longer lists by the built-in sort.
    for (const n of [2, 5, 32, 33, 120]) {
      const keys = Array.from({ length: n }, (_, i) => `k${(i * 7919) % 1000}`);
      const forward = Object.fromEntries(keys.map((k) => [k, k.length]));
      const backward = Object.fromEntries([...keys].reverse().map((k) => [k, k.length]));
      expect(stableStringify(backward)).toBe(reference(forward));
      expect(stableStringify(forward)).toBe(reference(forward));
    }
  });

  it('ignores key order and undefined members', () => {
    expect(hashOf({ b: 1, a: [{ y: 2, x: undefined, z: 'q' }] })).toBe(hashOf({ a: [{ z: 'q', y: 2 }], b: 1 }));
    expect(stableStringify({ b: 1, a: null })).toBe('{"a":null,"b":1}');
  });
});

describe('shapeStringifier', () => {
  const KEYS = ['b', 'a', 'c', 'ab'];
  const shape = shapeStringifier(KEYS, ['skipped']);
  const without = (o: Record<string, unknown>) => {
    const { skipped: _s, ...rest } = o;
    return rest;
  };

  it('gives what stableStringify gives without the skipped keys, known keys or not', () => {
    const key = fc.constantFrom(...KEYS, 'skipped', 'extra', 'zz');
    fc.assert(
      fc.property(fc.dictionary(key, fc.oneof(fc.jsonValue(), fc.constant(undefined))), (o) => {
        expect(shape(o)).toBe(stableStringify(without(o)));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the content hash of a work item what it was (stored hashes stay valid)', () => {
    const item = testItem(
      {
        ref: 'jira-main:PAY-1',
        assignee: 'ana',
        labels: ['x'],
        links: [{ type: 'blocks', target: 'jira-main:PAY-2' }],
      },
      'x',
      new Date('2026-06-01T00:00:00Z'),
    );
    const { raw: _raw, updated: _u, revision: _r, ...content } = { ...item, raw: { a: 1 } };
    expect(contentHash(item)).toBe(hashOf(content));
    // Not what an older or newer tracker revision alone would change.
    expect(contentHash({ ...item, updated: '2030-01-01T00:00:00.000Z', revision: '99' })).toBe(contentHash(item));
    expect(contentHash({ ...item, title: 'other' })).not.toBe(contentHash(item));
  });
});
