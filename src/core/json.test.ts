import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasEscapedKey, parseJson } from './json.ts';

describe('parseJson', () => {
  it('reads an escaped key as written after V8 has parsed a key its source matches', () => {
    // The trigger of nodejs/node#63785: a `\` key parsed first, then `"` read back as `\`.
    JSON.parse('{"h":[],"\\\\":0}');
    const native = Object.keys(JSON.parse('{"h":1,"\\"":2}'));

    const ours = Object.keys(parseJson('{"h":1,"\\"":2}') as object);

    expect(ours).toEqual(['h', '"']);
    // Where V8 still has the bug this shows it; the guard above is what the stores rely on.
    expect(native.length).toBe(2);
  });

  it('gives what JSON.parse gives for any JSON, escaped keys, "__proto__" and duplicates included', () => {
    const keyish = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('__proto__', '\\', '"', '\\0', '\u0000', 'a\\u0062', 'constructor'),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: 'binary' }),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.array(fc.tuple(keyish, tie('value')), { maxLength: 5 }).map((pairs) => ({ pairs })),
      ),
    })).value;
    // Objects as written text, so a duplicate key and "__proto__" reach the parser as such.
    const text = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(text).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${(v as { pairs: [string, unknown][] }).pairs.map(([k, x]) => `${JSON.stringify(k)}:${text(x)}`).join(',')}}`
          : (JSON.stringify(v) ?? 'null');
    // The reference, built from the generated pairs without JSON.parse: JSON.parse's own rules
    // (an own "__proto__", the last of duplicate keys at the first one's place).
    const value = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(value);
      if (v === null || typeof v !== 'object')
        return typeof v === 'number' ? JSON.parse(JSON.stringify(v) ?? 'null') : v;
      const o: Record<string, unknown> = {};
      for (const [k, x] of (v as { pairs: [string, unknown][] }).pairs)
        Object.defineProperty(o, k, { value: value(x), writable: true, enumerable: true, configurable: true });
      return o;
    };
    fc.assert(
      fc.property(json, (v) => {
        const t = text(v);
        const want = value(v);
        // Poisoned first with its own keys' backslashes doubled: cannot change the answer.
        JSON.parse(t.replaceAll('\\\\', '\\\\\\\\'));
        expect(parseJson(t)).toEqual(want);
        expect(Object.keys((parseJson(t) as object) ?? {})).toEqual(Object.keys(want ?? {}));
      }),
      { numRuns: 300 },
    );
  });

  it('throws what JSON.parse throws on text that is not JSON', () => {
    for (const bad of ['{"a":1,}', '{"a" // c\n:1}', "{'a':1}", '', '{"a\\x":1}'])
      expect(() => parseJson(bad)).toThrow(SyntaxError);
  });

  it('tells an escaped key from escapes in values only', () => {
    expect(hasEscapedKey('{"path":"Payments\\\\Sprint 2"}')).toBe(false);
    expect(hasEscapedKey('{"a\\nb":1}')).toBe(true);
    expect(hasEscapedKey('{"a":{"\\u0000" :1}}')).toBe(true);
  });
});
