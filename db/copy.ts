// Bulk rows through COPY … FROM STDIN (postgres.js) or FROM '/dev/blob' (PGlite). COPY inserts
// rows a page at a time (one WAL record per page, not per row) and parses each value once, where
// INSERT … SELECT FROM jsonb_to_recordset parses the whole batch into a jsonb tree, extracts every
// cell and inserts row by row: for a first sync's items, findings and history rows COPY took
// 45–55% less of the database's time (BENCHMARKS.md, finding 25). COPY has no ON CONFLICT, so
// callers use it where a conflict cannot happen or have a fallback for when one does.
import type { Pipeline } from './query.ts';
import type { Db } from './types.ts';

/** A COPY failed; `cause` is the database's own error when the driver reported it. */
export class CopyError extends Error {
  readonly table: string;
  constructor(table: string, cause: unknown) {
    super(`COPY into ${table} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'CopyError';
    this.table = table;
  }
}

type PostgresJsClient = {
  unsafe(query: string): PromiseLike<unknown> & {
    writable(): Promise<NodeJS.WritableStream & { _final?: (cb: (e?: Error | null) => void) => void }>;
    reject?: (e: unknown) => void;
  };
  /** The pool's own handle only (not a transaction's): a connection of its own. */
  reserve?: () => Promise<PostgresJsClient & { release(): void }>;
};
type PgliteClient = { query(query: string, params?: unknown[], options?: { blob?: Blob }): Promise<unknown> };

function clientOf(
  db: Db,
): { kind: 'postgres'; client: PostgresJsClient } | { kind: 'pglite'; client: PgliteClient } | null {
  // Cloudflare Workers reach Postgres through Hyperdrive over sockets without Node's streams:
  // they keep the INSERT … SELECT path.
  if ((globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers') return null;
  const client = (db as unknown as { session?: { client?: unknown } }).session?.client as Record<string, unknown>;
  if (!client) return null;
  if (typeof client.unsafe === 'function') return { kind: 'postgres', client: client as unknown as PostgresJsClient };
  if (typeof client.query === 'function') return { kind: 'pglite', client: client as unknown as PgliteClient };
  return null;
}

/** Whether this handle is embedded PGlite, whose memory is this process's own (and never shrinks). */
export function isPglite(db: Db): boolean {
  return clientOf(db)?.kind === 'pglite';
}

/** Whether rows can be copied through this handle (a drizzle database or transaction). */
export function canCopy(db: Db): boolean {
  return clientOf(db) !== null;
}

// COPY's text format: tab between columns, newline between rows, \N for null; a backslash,
// newline, carriage return or tab inside a value is escaped. Most values have none of these, and
// a test is cheaper than a replace that finds nothing.
const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_ALL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeChar = (c: string) => ESCAPES[c]!;

/** One value in COPY's text format: objects and arrays as JSON (for json and jsonb columns). */
export function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  switch (typeof v) {
    case 'string':
      return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, escapeChar) : v;
    case 'number':
      return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    case 'boolean':
      return v ? 't' : 'f';
    case 'bigint':
      return v.toString();
    default: {
      if (v instanceof Date) return v.toISOString();
      // JSON text never holds a raw newline, carriage return or tab: only backslashes to double.
      const json = JSON.stringify(v);
      return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
    }
  }
}

/** Rows in COPY's text format, one value per column in the order the COPY names them. */
export function copyText(rows: Iterable<readonly unknown[]>): string {
  const lines: string[] = [];
  for (const row of rows) {
    const values = new Array<string>(row.length);
    for (let i = 0; i < row.length; i++) values[i] = copyValue(row[i]);
    lines.push(values.join('\t'));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

const copyStatement = (table: string, columns: readonly string[]) =>
  `copy ${table} (${columns.map((col) => `"${col}"`).join(', ')})`;

/**
 * Copies rows (COPY text, see copyText) into `table`'s `columns`. Throws CopyError when the
 * database refuses them; inside a transaction the transaction is then aborted, as after any
 * failed statement (use a savepoint to go on).
 *
 * On postgres.js no other statement may start on the connection while the copy's data is being
 * sent (the driver fails it with COPY_IN_PROGRESS): inside a transaction, callers keep other
 * statements back until this resolves (db/query.ts Pipeline.exclusive).
 */
export async function copyRows(db: Db, table: string, columns: readonly string[], text: string): Promise<void> {
  const c = clientOf(db);
  if (!c) throw new CopyError(table, new Error('COPY is not available through this driver'));
  const statement = copyStatement(table, columns);
  if (text.length === 0) return;
  if (c.kind === 'pglite') {
    try {
      await c.client.query(`${statement} from '/dev/blob'`, [], { blob: new Blob([text]) });
    } catch (e) {
      throw new CopyError(table, e);
    }
    return;
  }
  if (c.client.reserve) {
    // The pool would run the copy and the statement that follows it on different connections.
    const conn = await c.client.reserve();
    try {
      return await copyPostgres(conn, table, statement, text);
    } finally {
      conn.release();
    }
  }
  return copyPostgres(c.client, table, statement, text);
}

async function copyPostgres(client: PostgresJsClient, table: string, statement: string, text: string): Promise<void> {
  // postgres.js resolves a COPY's query with a writable stream and never reports the COPY's own
  // failure through it (the stream is detached once its end is sent, and 'finish' never comes).
  // So the query's rejection is caught where the driver delivers it, and a statement sent after
  // the copy says when the database has answered it.
  let failure: unknown = null;
  const query = client.unsafe(`${statement} from stdin`);
  const reject = query.reject;
  if (reject)
    query.reject = (e: unknown) => {
      failure = e;
      reject(e);
    };
  let stream: Awaited<ReturnType<typeof query.writable>>;
  try {
    stream = await query.writable();
  } catch (e) {
    throw new CopyError(table, e);
  }
  await new Promise<void>((resolve, reject) => {
    // The driver lets other statements start once the stream's end has been handed to it.
    const final = stream._final;
    if (final)
      stream._final = (cb) => {
        final.call(stream, cb);
        resolve();
      };
    stream.on('error', reject);
    stream.end(text);
    if (!final) stream.on('finish', () => resolve());
  }).catch((e: unknown) => {
    throw new CopyError(table, e);
  });
  try {
    await client.unsafe('select 1');
  } catch (e) {
    throw new CopyError(table, failure ?? e);
  }
  if (failure) throw new CopyError(table, failure);
}

/** Fewer rows than this go through the caller's INSERT: a copy in a savepoint costs four round trips. */
export const COPY_MIN_ROWS = 500;

/**
 * Sends rows through a commit's pipeline: as one COPY when there are at least COPY_MIN_ROWS and
 * the driver can (the pipeline keeps other statements back while it is sent), otherwise through
 * `insert`, the caller's INSERT … SELECT. `conflicts`: the rows may meet ones another writer
 * inserted meanwhile, so the copy runs in a savepoint and `insert` (with its ON CONFLICT) takes
 * them when it is refused; rows that cannot conflict skip the savepoint, and a refused copy fails
 * as the INSERT would.
 */
export function sendRows(
  pipeline: Pipeline,
  db: Db,
  spec: {
    table: string;
    columns: readonly string[];
    /** The rows in `columns` order; built only when they are copied. */
    rows: () => Iterable<readonly unknown[]>;
    count: number;
    insert: () => PromiseLike<unknown>;
    conflicts: boolean;
  },
): Promise<unknown> {
  if (spec.count < COPY_MIN_ROWS || !canCopy(db)) return pipeline.add(spec.insert);
  if (spec.conflicts)
    return pipeline.exclusive(() => copyOrElse(db, spec.table, spec.columns, spec.rows(), spec.insert));
  return pipeline.exclusive(() => copyRows(db, spec.table, spec.columns, copyText(spec.rows())));
}

/**
 * Copies `rows` in a savepoint (a transaction of its own outside one); when the database refuses
 * them — a row another writer inserted since they were planned — rolls the copy back and runs
 * `fallback`, the caller's INSERT … ON CONFLICT, instead.
 */
export async function copyOrElse(
  db: Db,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly unknown[]>,
  fallback: () => PromiseLike<unknown>,
): Promise<void> {
  const text = copyText(rows);
  try {
    await db.transaction(async (tx) => copyRows(tx as unknown as Db, table, columns, text));
  } catch (e) {
    if (!(e instanceof CopyError)) throw e;
    await fallback();
  }
}
