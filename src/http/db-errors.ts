// What kind of database failure an error is, whatever wraps it (drizzle's DrizzleQueryError,
// postgres.js's PostgresError, PGlite's DatabaseError, a socket error): the HTTP layer answers a
// database that cannot be reached or cannot write with 503 and Retry-After (the caller should
// come back), and a value the database refuses with 400 (coming back will not help).
import { redactQueryParams } from '../core/safe-error.ts';

export type DbFailure =
  /** The database cannot be reached, is shutting down, or ran out of room (disk, memory, connections). */
  | 'unavailable'
  /** The database refused a value (out of range, bad encoding, nested too deep). */
  | 'data'
  | 'other';

// Socket and driver codes of a connection that failed or went away (Node, postgres.js).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOSPC',
  'EROFS',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/** SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, out of memory, too many connections), 57P operator intervention (shutdown), 58 system error (I/O). */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|58)/;
/** 22 data exception, 54 program limit exceeded (stack depth, too many columns). */
const DATA_SQLSTATE = /^(22|54)/;

function* causes(err: unknown): Generator<Record<string, unknown>> {
  let e = err;
  for (let i = 0; i < 8 && e !== null && typeof e === 'object'; i++) {
    yield e as Record<string, unknown>;
    e = (e as { cause?: unknown }).cause;
  }
}

export function classifyDbError(err: unknown): DbFailure {
  for (const e of causes(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (CONNECTION_CODES.has(code)) return 'unavailable';
    if (/^[0-9A-Z]{5}$/.test(code)) {
      if (UNAVAILABLE_SQLSTATE.test(code)) return 'unavailable';
      if (DATA_SQLSTATE.test(code)) return 'data';
    }
    // PGlite after close() (or after its WebAssembly instance died) says so only in words.
    if (typeof e.message === 'string' && /PGlite is closed|database is closed/i.test(e.message)) return 'unavailable';
  }
  return 'other';
}

/** Seconds a client should wait before retrying while the database is unavailable. */
export const DB_RETRY_AFTER_SECONDS = 5;

/** The innermost error's code and message, on one line. */
export function describeError(err: unknown): string {
  let e: unknown = err;
  let text = '';
  for (let i = 0; i < 8 && e instanceof Error; i++) {
    const code = (e as { code?: unknown }).code;
    text = `${typeof code === 'string' ? `${code}: ` : ''}${redactQueryParams(e.message)}`;
    e = e.cause;
  }
  if (!text) text = String(err);
  return text.split('\n')[0]!.slice(0, 300);
}
