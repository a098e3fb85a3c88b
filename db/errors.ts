// What went wrong with a database's storage, said in one line with the path and the system's
// own words. PGlite's WebAssembly file system throws bare `{ errno }` objects (Emscripten's
// numbering), which printed as "[object Object]"; Node's file system throws errors with a code.
import { constants } from 'node:os';
import { getSystemErrorMessage } from 'node:util';
import { PmoSyncError } from '../src/core/errors.ts';
import { storableText } from './storable.ts';

/** Emscripten's errno numbers (PGlite's file system layer) for the codes storage can meet. */
const EMSCRIPTEN_ERRNO: Record<number, string> = {
  2: 'EACCES',
  8: 'EBADF',
  10: 'EBUSY',
  19: 'EDQUOT',
  20: 'EEXIST',
  22: 'EFBIG',
  28: 'EINVAL',
  29: 'EIO',
  31: 'EISDIR',
  32: 'ELOOP',
  33: 'EMFILE',
  37: 'ENAMETOOLONG',
  41: 'ENFILE',
  44: 'ENOENT',
  48: 'ENOMEM',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  55: 'ENOTEMPTY',
  63: 'EPERM',
  69: 'EROFS',
};

/** Codes that mean the configured location cannot hold a database as it is (exit 2). */
const UNUSABLE_PATH = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
  'ENAMETOOLONG',
  'ELOOP',
]);

export interface SystemErrorInfo {
  /** `ENOSPC`, or undefined when the error is not a system error. */
  code: string | undefined;
  /** One line: `no space left on device (ENOSPC)`, or the error's own first line. */
  text: string;
}

function systemMessage(code: string): string | undefined {
  const n = (constants.errno as Record<string, number>)[code];
  if (n === undefined) return undefined;
  try {
    return getSystemErrorMessage(-n);
  } catch {
    return undefined;
  }
}

/** Whatever was thrown, as a code and a line a person can act on; never "[object Object]". */
export function describeSystemError(err: unknown): SystemErrorInfo {
  const e = (err ?? {}) as { code?: unknown; errno?: unknown; message?: unknown; name?: unknown };
  let code = typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) ? e.code : undefined;
  if (!code && e.name === 'ErrnoError' && typeof e.errno === 'number') code = EMSCRIPTEN_ERRNO[e.errno];
  const own = typeof e.message === 'string' && e.message.trim() ? e.message.trim().split('\n')[0]! : undefined;
  if (own) return { code, text: own };
  if (code) return { code, text: `${systemMessage(code) ?? 'system error'} (${code})` };
  if (e.name === 'ErrnoError' && typeof e.errno === 'number') {
    return { code: undefined, text: `file system error ${e.errno} in PGlite` };
  }
  if (typeof err === 'string' && err.trim()) return { code: undefined, text: err.trim().split('\n')[0]! };
  let shown: string;
  try {
    shown = JSON.stringify(err) ?? String(err);
  } catch {
    shown = String(err);
  }
  return { code: undefined, text: `unexpected error ${shown.slice(0, 200)}` };
}

/**
 * The database could not be created, opened or written. Exit 2 when the location itself is
 * unusable (not a directory, read-only, no permission): the configuration must change. Exit 1
 * otherwise (a full disk, an I/O error): the same command may work once that is fixed.
 */
export class DatabaseError extends PmoSyncError {
  override readonly exitCode: number;
  override readonly status = 503;
  readonly location: string;
  readonly code: string | undefined;
  constructor(message: string, opts: { location: string; code?: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'DatabaseError';
    this.location = opts.location;
    this.code = opts.code;
    this.exitCode = opts.code !== undefined && UNUSABLE_PATH.has(opts.code) ? 2 : 1;
  }
}

/** What to do about a storage failure, by its code: the end of the one-line error. */
export function storageHint(code: string | undefined): string {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'free some space there, or set database.url to a directory on another disk';
    case 'EROFS':
      return 'the file system is read-only: set database.url to a writable directory';
    case 'EACCES':
    case 'EPERM':
      return 'give this process write access there, or set database.url to another directory';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'part of that path is a file, not a directory: set database.url to a directory path';
    case 'ENOENT':
      return 'a directory cannot be created there: set database.url to a directory on a writable disk';
    default:
      return 'check the disk and permissions there, or set database.url to another directory';
  }
}

// What kind of failure a database error is. A store of many items retries smaller parts only when
// the database refused the data (one item's value out of range, too long for an index): then
// some item is at fault and the others can go through. When the database cannot be reached, or a
// statement is wrong for every item, splitting the batch would only repeat the failure.

/** SQLSTATE classes of errors about the data a statement carried. */
const DATA_CLASSES: ReadonlySet<string> = new Set([
  '22', // data exception: out-of-range timestamp, invalid text or JSON, numeric overflow
  '23', // integrity constraint violation
  '54', // program limit exceeded: an index row or a jsonb value too large
]);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The errors a failure was caused by, outermost first (drizzle and COPY wrap the driver's). */
function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c = e; c !== undefined && c !== null && out.length < 10; c = (c as { cause?: unknown }).cause) {
    if (out.includes(c)) break;
    out.push(c);
  }
  return out;
}

/** The database's own error among the causes (it carries a SQLSTATE `code`), if any. */
function databaseError(e: unknown): { code: string; message: string; detail?: string } | undefined {
  for (const c of causes(e)) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && SQLSTATE.test(code) && c instanceof Error)
      return { code, message: c.message, detail: (c as { detail?: string }).detail };
  }
  return undefined;
}

/**
 * Whether the failure was the data's: the database refused a value (SQLSTATE classes 22, 23,
 * 54), or making a value to send failed on it (a TypeError or RangeError before any statement
 * ran: a shape the code cannot serialize, JSON nested too deep for the stack). A refused
 * connection, a closed database or a wrong statement is not.
 */
export function isDataError(e: unknown): boolean {
  const db = databaseError(e);
  if (db) return DATA_CLASSES.has(db.code.slice(0, 2));
  return causes(e).some((c) => c instanceof TypeError || c instanceof RangeError);
}

/**
 * One line saying why an item failed, for the quarantine table and the summary: the database's
 * own message (drizzle's wrapper repeats the whole statement and its parameters) or the error's.
 */
export function failureReason(e: unknown, max = 500): string {
  const db = databaseError(e);
  const text = db ? `${db.message}${db.detail ? ` (${db.detail})` : ''}` : e instanceof Error ? e.message : String(e);
  const line = storableText(text.replace(/\s+/g, ' ').trim());
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
