// What kind of failure a database error is. A store of many items retries smaller parts only when
// the database refused the data (one item's value out of range, too long for an index): then
// some item is at fault and the others can go through. When the database cannot be reached, or a
// statement is wrong for every item, splitting the batch would only repeat the failure.
import { storableText } from './storable.ts';

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
