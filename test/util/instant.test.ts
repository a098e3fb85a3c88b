// The fast timestamp reader must agree with Date.parse (offset written with a colon) on every
// string, valid or not: it only skips work, never changes an answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstant, toIsoInstant } from '../../src/core/instant.ts';

const reference = (s: string) => Date.parse(s.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));

const pad = (n: number, w: number) => String(n).padStart(w, '0');
// Fields drawn a little beyond their ranges, so invalid dates (Feb 30, 24:00, minute 60) occur.
const stamp = fc
  .record({
    y: fc.oneof(fc.integer({ min: 1990, max: 2040 }), fc.integer({ min: 0, max: 9999 })),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 25 }),
    mi: fc.integer({ min: 0, max: 60 }),
    se: fc.integer({ min: 0, max: 60 }),
    frac: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,7}$/), fc.constant('.')),
    off: fc.oneof(
      fc.constant('Z'),
      fc.constant('z'),
      fc.constant(''),
      fc
        .tuple(
          fc.constantFrom('+', '-'),
          fc.integer({ min: 0, max: 25 }),
          fc.integer({ min: 0, max: 61 }),
          fc.boolean(),
        )
        .map(([sign, h, m, colon]) => `${sign}${pad(h, 2)}${colon ? ':' : ''}${pad(m, 2)}`),
    ),
  })
  .map(
    (p) =>
      `${pad(p.y, 4)}-${pad(p.mo, 2)}-${pad(p.d, 2)}T${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.se, 2)}${p.frac}${p.off}`,
  );

describe('parseInstant', () => {
  it('gives what Date.parse gives for timestamps in and around the trackers’ form', () => {
    fc.assert(
      fc.property(stamp, (s) => {
        expect(parseInstant(s)).toBe(reference(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives what Date.parse gives when any one character of a timestamp is replaced', () => {
    fc.assert(
      fc.property(stamp, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (s, at, c) => {
        const i = at % s.length;
        const t = s.slice(0, i) + c + s.slice(i + 1);
        expect(parseInstant(t)).toBe(reference(t));
      }),
      { numRuns: 20_000 },
    );
  });

  it('gives what Date.parse gives for any other string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        expect(parseInstant(s)).toBe(reference(s));
      }),
    );
  });

  it('reads the forms Jira and Azure DevOps send', () => {
    expect(toIsoInstant('2024-03-04T10:11:12.345+0300')).toBe('2024-03-04T07:11:12.345Z');
    expect(toIsoInstant('2024-03-04T10:11:12.345-0130')).toBe('2024-03-04T11:41:12.345Z');
    expect(toIsoInstant('2024-02-29T23:59:59.47Z')).toBe('2024-02-29T23:59:59.470Z');
    expect(toIsoInstant('2024-01-01T00:00:00Z')).toBe('2024-01-01T00:00:00.000Z');
    expect(toIsoInstant('not a date')).toBeNull();
  });
});
