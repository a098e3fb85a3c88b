// Text trackers send that Postgres cannot hold as it is, or that code handling text tends to get
// wrong: U+0000, lone UTF-16 surrogates, escapes that look like JSON's, emoji (surrogate pairs),
// right-to-left text and marks, the replacement character itself, and pmo-sync's own envelope keys.
import fc from 'fast-check';

export const HOSTILE_PIECES = [
  '\u0000',
  '\uD800',
  '\uDBFF',
  '\uDC00',
  '\uDFFF',
  '\\',
  '\\u0000',
  '\\uD800',
  '\\0',
  '\\\\',
  '"',
  '😀',
  '👩🏽‍💻',
  '\u202E',
  '\u200F',
  'שלום',
  'مرحبا',
  '\uFFFD',
  '\uFFFE',
  '\uFEFF',
  'pmo-sync:raw',
  'pmo-sync:escaped',
  '\t\n\r',
] as const;

/** One piece of a hostile string: a known troublemaker, any code point, or any UTF-16 half. */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_PIECES),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
);

export const hostileString = (maxLength = 12) => fc.string({ unit: hostileUnit, maxLength });

/** JSON values (what a tracker's raw JSON is made of) with hostile strings as keys and values. */
export const hostileJson = fc.jsonValue({ stringUnit: hostileUnit, maxDepth: 3 });

/**
 * A text column's value as `db` reads it back. A known PGlite difference: its protocol reader
 * decodes each value with a default TextDecoder, which drops a leading U+FEFF (taken for a byte
 * order mark); Postgres keeps it, and so does PGlite inside jsonb.
 */
export const textAsRead = (s: string, db: string): string => (db === 'pglite' ? s.replace(/^\uFEFF/, '') : s);
