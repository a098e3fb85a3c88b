// Schemas of the settings every part of pmo-sync.yaml uses (ids, URLs, numbers and booleans
// written as text, limits): the connectors' and the rules' config schemas build on them, and
// src/config/schema.ts composes those into the whole file's.
import { z } from 'zod';
import { KINDS } from './work-item.ts';

export const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/i, 'an id of letters, digits, "-" or "_"')
  .max(64);
export const nonEmpty = z.string().min(1, 'a non-empty string');
export const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });
export const cron = z.string().regex(/^(\S+\s+){4}\S+$/, 'a cron expression with five fields, like "*/5 * * * *"');

// `${VAR}` interpolation always yields text (load.ts): a secret made of digits must stay the
// string it is. Settings that are numbers or booleans take their text form here instead, so
// `port: ${PORT}` still works; anything else is left for the inner schema to reject.
export function numberFromText(v: unknown): unknown {
  return typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
}
export function booleanFromText(v: unknown): unknown {
  return v === 'true' ? true : v === 'false' ? false : v;
}
export const num = <S extends z.ZodType<number>>(s: S) => z.preprocess(numberFromText, s);
export const bool = () => z.preprocess(booleanFromText, z.boolean());

export const Limits = z.strictObject({
  concurrency: num(z.number().int().min(1).max(64)).default(4),
  requestsPerSecond: num(z.number().positive().max(1000)).default(10),
  /** Longest wait a tracker's Retry-After (or quota reset) may impose; unset: 600 s (connectors/http/pacing.ts). */
  maxRetryAfterSeconds: num(z.number().positive().max(86_400)).optional(),
});

export const TypeMap = z.record(z.string(), z.enum(KINDS));
