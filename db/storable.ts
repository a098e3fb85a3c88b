// What Postgres can hold of a JavaScript value, and how a tracker's JSON is kept whole anyway.
//
// Postgres text never holds U+0000 ("invalid byte sequence for encoding UTF8: 0x00"), jsonb
// refuses its \u0000 escape ("unsupported Unicode escape sequence"), and jsonb refuses the escape
// JSON.stringify writes for a lone UTF-16 surrogate; a lone surrogate sent as text arrives as
// U+FFFD. Trackers return all of these (the DevLake Jira capture has a summary ending in U+0000).
// So: values pmo-sync reads itself (the normalized fields, messages, summaries, errors) are
// sanitized — both become U+FFFD, what an invalid UTF-8 sequence decodes to — and a tracker's raw
// JSON is kept losslessly: its strings are escaped inside an envelope that every read undoes
// (decodeTrackerJson). The envelope also carries the item's metadata: which normalized fields
// were sanitized. Raw JSON with nothing to escape or report is stored as it is.

import { isStorableText, storableText } from '../src/core/storable-text.ts';

export { isStorableText, REPLACEMENT_CHARACTER, storableText } from '../src/core/storable-text.ts';

/**
 * A JSON-shaped value with every string (object keys too) made storable. Returns the value itself
 * when nothing needed it, so a caller can tell by identity; changed arrays and objects are copies.
 */
export function storableValue<T>(v: T): T {
  return isStorableValue(v) ? v : (sanitize(v) as T);
}

/** Whether every string in a JSON-shaped value (object keys too) is storable. Allocates nothing. */
export function isStorableValue(v: unknown): boolean {
  if (typeof v === 'string') return isStorableText(v);
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isStorableValue(v[i])) return false;
    return true;
  }
  if (!isPlainObject(v)) return true;
  for (const k in v) if (!isStorableText(k) || !isStorableValue(v[k])) return false;
  return true;
}

function sanitize(v: unknown): unknown {
  if (typeof v === 'string') return storableText(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sanitize);
  if (!isPlainObject(v)) return v;
  // fromEntries defines own properties: a key named "__proto__" stays a key.
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [storableText(k), sanitize(x)]));
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// The envelope: an object with these keys only. A tracker value that happens to have that shape
// is enveloped too, so decoding never mistakes one for the other.
const RAW = 'pmo-sync:raw';
const ESCAPED = 'pmo-sync:escaped';
const SANITIZED = 'pmo-sync:sanitized';
const ENVELOPE_KEYS: ReadonlySet<string> = new Set([RAW, ESCAPED, SANITIZED]);

/** What the envelope of a stored tracker value says about it. */
export interface TrackerJsonMeta {
  /** Its strings were escaped (they held U+0000 or lone surrogates); reads restore them. */
  escaped: boolean;
  /** Normalized fields of the item whose text had to be sanitized (`title`, `labels`…). */
  sanitized: string[];
}

function isEnvelope(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, RAW)) return false;
  for (const k of Object.keys(v)) if (!ENVELOPE_KEYS.has(k)) return false;
  return true;
}

// An escape of U+0000 or of a lone surrogate in JSON text (JSON.stringify escapes a surrogate only
// when it is unpaired): a backslash that is not itself escaped, then `u0000` or `uD800`–`uDFFF`.
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** Whether JSON text (as JSON.stringify writes it) holds a string jsonb refuses. */
export function jsonNeedsEscaping(json: string): boolean {
  return json.includes('\\u') && UNSTORABLE_ESCAPE.test(json);
}

/**
 * The jsonb text to store for a tracker's JSON value: the value's own JSON when jsonb holds it
 * and there is nothing to report, otherwise its envelope. `sanitized`: the normalized fields
 * that could not be stored as the tracker sent them (TrackerJsonMeta.sanitized).
 */
export function trackerJsonText(value: unknown, sanitized: readonly string[] = []): string {
  const json = JSON.stringify(value) ?? 'null';
  const escaping = jsonNeedsEscaping(json);
  if (!escaping && sanitized.length === 0 && !isEnvelope(value)) return json;
  const envelope: Record<string, unknown> = { [RAW]: escaping ? escapeDeep(value) : value };
  if (escaping) envelope[ESCAPED] = true;
  if (sanitized.length > 0) envelope[SANITIZED] = [...sanitized];
  return JSON.stringify(envelope);
}

/** A tracker's JSON value as stored (trackerJsonText) → the value as the tracker sent it. */
export function decodeTrackerJson(stored: unknown): unknown {
  if (!isEnvelope(stored)) return stored;
  return stored[ESCAPED] === true ? unescapeDeep(stored[RAW]) : stored[RAW];
}

/** The metadata of a stored tracker value; null when it was stored as it is. */
export function trackerJsonMeta(stored: unknown): TrackerJsonMeta | null {
  if (!isEnvelope(stored)) return null;
  const sanitized = stored[SANITIZED];
  return {
    escaped: stored[ESCAPED] === true,
    sanitized: Array.isArray(sanitized) ? sanitized.filter((s): s is string => typeof s === 'string') : [],
  };
}

// Inside an escaped envelope every string is written with `\` as the escape character: `\\` is
// a backslash, `\0` is U+0000, `\uXXXX` a lone surrogate. Injective, and plain text (no
// backslash, no unstorable character) is unchanged.
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is one of the characters escaped
const TO_ESCAPE = /\\|\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPE_SEQUENCE = /\\(\\|0|u[0-9A-F]{4})/g;

function escapeText(s: string): string {
  return s.replace(TO_ESCAPE, (c) =>
    c === '\\' ? '\\\\' : c === '\u0000' ? '\\0' : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

function unescapeText(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(ESCAPE_SEQUENCE, (_, e: string) =>
    e === '\\' ? '\\' : e === '0' ? '\u0000' : String.fromCharCode(Number.parseInt(e.slice(1), 16)),
  );
}

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), mapStrings(x, f)]));
}

// Through JSON first: what is escaped is exactly what JSON.stringify writes (toJSON applied,
// undefined members dropped), so a read gives back what storing the value as it is would have.
const escapeDeep = (v: unknown) => mapStrings(JSON.parse(JSON.stringify(v) ?? 'null'), escapeText);
const unescapeDeep = (v: unknown) => mapStrings(v, unescapeText);
