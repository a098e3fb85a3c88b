// "Did you mean `baseUrl`?": the valid keys at a place in the config, read from the schema
// itself (so they never drift from it), and the one a mistyped key most likely meant.
import { distance } from 'fastest-levenshtein';
import type { z } from 'zod';

type Path = readonly (string | number)[];

interface Def {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  discriminator?: string;
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** The keys the schema allows in the mapping at `path`; `value` (the config as read) picks a union's member. */
export function keysAt(schema: z.core.$ZodType, path: Path, value: unknown): string[] {
  const def = schema._zod.def as unknown as Def;
  if (WRAPPERS.has(def.type) && def.innerType) return keysAt(def.innerType, path, value);
  const child = (key: string | number) =>
    value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[key] : undefined;
  switch (def.type) {
    case 'pipe':
      return def.in ? keysAt(def.in, path, value) : [];
    case 'lazy':
      return def.getter ? keysAt(def.getter(), path, value) : [];
    case 'intersection':
      return unique([
        ...(def.left ? keysAt(def.left, path, value) : []),
        ...(def.right ? keysAt(def.right, path, value) : []),
      ]);
    case 'union': {
      const options = def.options ?? [];
      const tag = def.discriminator ? child(def.discriminator) : undefined;
      const chosen = def.discriminator
        ? options.filter((o) => o._zod.propValues?.[def.discriminator!]?.has(tag as never))
        : [];
      return unique((chosen.length > 0 ? chosen : options).flatMap((o) => keysAt(o, path, value)));
    }
    case 'object': {
      const shape = def.shape ?? {};
      if (path.length === 0) return Object.keys(shape);
      const [head, ...rest] = path;
      const next = typeof head === 'string' ? shape[head] : undefined;
      return next ? keysAt(next, rest, child(head!)) : [];
    }
    case 'array':
      return path.length > 0 && typeof path[0] === 'number' && def.element
        ? keysAt(def.element, path.slice(1), child(path[0]))
        : [];
    case 'record':
      return path.length > 0 && def.valueType ? keysAt(def.valueType, path.slice(1), child(path[0]!)) : [];
    default:
      return [];
  }
}

/**
 * The valid key `unknown` most likely meant: the nearest by edit distance (case aside) when
 * near enough to be a slip; else the one key that contains it or that it contains (`url` →
 * `baseUrl`); else the one key ending in the same word (a Jira `baseUrl` on an Azure DevOps
 * connection → `orgUrl`). `null` when nothing is close: a wild guess misleads more than it helps.
 */
export function closestKey(unknown: string, valid: readonly string[]): string | null {
  const u = unknown.toLowerCase();
  let best: { key: string; d: number } | null = null;
  for (const key of valid) {
    const d = distance(u, key.toLowerCase());
    if (!best || d < best.d) best = { key, d };
  }
  if (best && best.d <= Math.max(1, Math.ceil(Math.max(u.length, best.key.length) / 3))) return best.key;
  if (u.length < 3) return null;
  const containing = valid.filter((k) => k.toLowerCase().includes(u) || u.includes(k.toLowerCase()));
  if (containing.length === 1) return containing[0]!;
  const word = lastWord(unknown);
  const sameWord = word && word !== u ? valid.filter((k) => lastWord(k) === word) : [];
  return sameWord.length === 1 ? sameWord[0]! : null;
}

/** `baseUrl` → `url`; null for a key of one word or a last word too short to mean anything. */
function lastWord(key: string): string | null {
  const m = /[A-Z][a-z0-9]*$/.exec(key);
  return m && m[0].length >= 3 ? m[0].toLowerCase() : null;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
