// Errors as they may be logged: database errors carry the values a query was run with — token
// hashes, session hashes, whole webhook bodies — in properties (postgres.js and PGlite
// `parameters`/`params`, Postgres `detail` such as "Key (x)=(…) already exists") and, for
// drizzle's DrizzleQueryError, in the message and the stack ("Failed query: …\nparams: …").
// Logs keep the SQL text (no values in it) and the SQLSTATE, never the values.

export const PARAMS_REDACTED = '[redacted]';

/** Properties that hold query values, on any error in a cause chain. */
const VALUE_KEYS = new Set([
  'params',
  'parameters',
  'args',
  'types',
  'detail',
  'where',
  'internalQuery',
  'queryOptions',
]);

/** Drops drizzle's "\nparams: …" (up to the stack frames, or the end) from a message or a stack. */
export function redactQueryParams(text: string): string {
  return text.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/g, `\nparams: ${PARAMS_REDACTED}`);
}

/**
 * The same in a JSON log line, where a message's newlines are `\n` escapes: everything from the
 * params marker to the end of that JSON string goes.
 */
export function redactQueryParamsInJson(line: string): string {
  return line.includes('\\nparams: ')
    ? line.replace(/\\nparams: (?:[^"\\]|\\.)*/g, `\\nparams: ${PARAMS_REDACTED}`)
    : line;
}

/** An error as a plain object for a log line: its type, message, stack, code and cause, no values. */
export function serializeError(err: unknown, depth = 0): unknown {
  if (err === null || typeof err !== 'object') return err;
  const e = err as Error & Record<string, unknown>;
  if (!(err instanceof Error) && typeof e.message !== 'string') return err;
  const out: Record<string, unknown> = {
    type: e.constructor?.name && e.constructor.name !== 'Object' ? e.constructor.name : (e.name ?? 'Error'),
    message: redactQueryParams(String(e.message)),
  };
  if (typeof e.stack === 'string') out.stack = redactQueryParams(e.stack);
  for (const [k, v] of Object.entries(e)) {
    if (k in out || k === 'cause' || VALUE_KEYS.has(k)) continue;
    out[k] = v instanceof Error ? serializeError(v, depth + 1) : v;
  }
  if (e.cause !== undefined && depth < 5) out.cause = serializeError(e.cause, depth + 1);
  return out;
}
