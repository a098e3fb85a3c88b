// The Worker's logger: one JSON line per entry through console (Workers Logs and `wrangler tail`
// collect console output; there is no stderr file descriptor to hand pino's destination).
// Same redaction as src/core/log.ts: by key (authorization, tokens, passwords, secrets) and by value
// (every secret the config interpolated), so a secret in a message or an error text is caught.
import type { Logger } from '../core/log.ts';
import { redactQueryParamsInJson, serializeError } from '../core/safe-error.ts';
import { replaceForms, secretForms } from '../core/secret-forms.ts';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
type Level = keyof typeof LEVELS;

export const REDACTED = '[redacted]';
const SECRET_KEYS = /^(authorization|apitoken|bearertoken|pat|password|token|webhooksecret|secret|auth)$/i;

export interface WorkerLoggerOptions {
  level?: string;
  secrets?: readonly string[];
  /** Where lines go; console.log by default (tests capture them). */
  write?: (line: string) => void;
}

export function createWorkerLogger(opts: WorkerLoggerOptions = {}): Logger {
  const secrets = [...new Set(opts.secrets ?? [])].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const forms = secretForms(secrets);
  const threshold = LEVELS[(opts.level ?? 'info') as Level] ?? LEVELS.info;
  const write = opts.write ?? ((line: string) => console.log(line));
  const make = (bindings: Record<string, unknown>): Logger => {
    const emit = (level: Exclude<Level, 'silent'>) => (objOrMsg?: unknown, msg?: string) => {
      if (LEVELS[level] < threshold) return;
      const fields = typeof objOrMsg === 'object' && objOrMsg !== null ? toFields(objOrMsg) : {};
      const text = typeof objOrMsg === 'string' ? objOrMsg : msg;
      const entry = { level, time: new Date().toISOString(), ...bindings, ...fields, ...(text ? { msg: text } : {}) };
      write(redactQueryParamsInJson(replaceForms(JSON.stringify(redact(entry, 0)), forms, REDACTED)));
    };
    const logger = {
      level: opts.level ?? 'info',
      trace: emit('trace'),
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      fatal: emit('fatal'),
      child: (more: Record<string, unknown>) => make({ ...bindings, ...more }),
      isLevelEnabled: (l: string) => (LEVELS[l as Level] ?? 0) >= threshold,
    };
    // Only the calls pmo-sync makes are implemented; the cast keeps pino's type for callers.
    return logger as unknown as Logger;
  };
  return make({});
}

function toFields(obj: object): Record<string, unknown> {
  if (obj instanceof Error) return { err: serializeError(obj) };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v instanceof Error ? serializeError(v) : v;
  return out;
}

function redact(value: unknown, depth: number): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

/** Each secret value, in each form it may take (URL, JSON, inside base64), becomes the redaction mark. */
export function scrubText(text: string, secrets: readonly string[]): string {
  return replaceForms(text, secretForms(secrets), REDACTED);
}
