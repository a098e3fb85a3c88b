// Stable content hashes: the same value always hashes the same, whatever its key order.
import { hash } from 'node:crypto';

// Hot on a first sync (every item, every planned write): one string built by appending, no
// intermediate arrays of entries. Same output as sorting Object.entries and joining.
export function stableStringify(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return JSON.stringify(value) ?? 'null';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + stableStringify(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  sortKeys(keys);
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${quotedKey(k)}:${stableStringify(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Sorts an object's keys in place, in the order Array.prototype.sort gives strings (UTF-16 code
 * units). An insertion sort for the usual handful of keys, often already in order: the built-in
 * sort copies every array it sorts, 1 GB of garbage over a first sync of 150,000 items. Long
 * key lists, where insertion's quadratic worst case would show, take the built-in sort.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 32) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

// The same few dozen keys (model fields, comment blocks) come back millions of times.
const QUOTED = new Map<string, string>();
function quotedKey(k: string): string {
  let q = QUOTED.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (QUOTED.size < 10_000) QUOTED.set(k, q);
  }
  return q;
}

/**
 * stableStringify for objects of one known shape (a work item, hashed for every item a sync
 * reads): the keys are sorted once here, not for every object. An object with a key outside
 * `keys` and `skip` takes the generic way, so the output is always what stableStringify gives
 * for the object without its `skip` keys.
 */
export function shapeStringifier(
  keys: readonly string[],
  skip: readonly string[] = [],
): (obj: Readonly<Record<string, unknown>>) => string {
  const sorted = [...keys].sort();
  const quoted = sorted.map((k) => JSON.stringify(k));
  const known = new Set([...keys, ...skip]);
  return (obj) => {
    for (const k in obj) {
      if (!known.has(k)) {
        const rest: Record<string, unknown> = { ...obj };
        for (const s of skip) delete rest[s];
        return stableStringify(rest);
      }
    }
    let out = '{';
    let first = true;
    for (let i = 0; i < sorted.length; i++) {
      const v = obj[sorted[i]!];
      if (v === undefined) continue;
      out += `${first ? '' : ','}${quoted[i]}:${stableStringify(v)}`;
      first = false;
    }
    return `${out}}`;
  };
}

export function hashOf(value: unknown): string {
  return hashText(stableStringify(value));
}

/** The hash of a string that is already a stable serialisation. */
export function hashText(text: string): string {
  // One-shot: half the cost of createHash().update().digest() for strings this short.
  return hash('sha256', text, 'hex').slice(0, 32);
}
