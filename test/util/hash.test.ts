import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashOf, stableStringify } from '../../src/util/hash.ts';

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

  it('ignores key order and undefined members', () => {
    expect(hashOf({ b: 1, a: [{ y: 2, x: undefined, z: 'q' }] })).toBe(hashOf({ a: [{ z: 'q', y: 2 }], b: 1 }));
    expect(stableStringify({ b: 1, a: null })).toBe('{"a":null,"b":1}');
  });
});
