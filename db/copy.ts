// Bulk rows through COPY … FROM STDIN (postgres.js) or FROM '/dev/blob' (PGlite). COPY inserts
// rows a page at a time (one WAL record per page, not per row) and parses each value once, where
// INSERT … SELECT FROM jsonb_to_recordset parses the whole batch into a jsonb tree, extracts every
// cell and inserts row by row, which the first sync's throughput goal cannot afford (evidence in
// BENCHMARKS.md; bench/guard.json holds it in CI). COPY has no ON CONFLICT, so
// callers use it where a conflict cannot happen or have a fallback for when one does.
import type { Pipeline } from './query.ts';
import { jsonNeedsEscaping, REPLACEMENT_CHARACTER, storableValue } from './storable.ts';
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
/** All PGlite reads of a blob (PGlite#_handleBlob): the bytes, as an ArrayBuffer. */
type BlobInput = Pick<Blob, 'arrayBuffer'>;
type PgliteClient = { query(query: string, params?: unknown[], options?: { blob?: BlobInput }): Promise<unknown> };

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
// a test is cheaper than a replace that finds nothing. U+0000 has no escape COPY would take (its
// `\0` is refused like the character itself): it is written as U+FFFD, as db/storable.ts makes
// every value the schema stores. A lone surrogate needs nothing here: encoding the text as UTF-8
// writes it as U+FFFD.
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is one of the characters looked for
const SPECIAL = /[\\\n\r\t\u0000]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as SPECIAL
const SPECIAL_ALL = /[\\\n\r\t\u0000]/g;
const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u0000': REPLACEMENT_CHARACTER,
};
const escapeChar = (c: string) => ESCAPES[c]!;

/**
 * JSON text written as it is into a json or jsonb column, made only when its row is: a tracker's
 * raw JSON, which db/storable.ts encodes itself (trackerJsonText) and which would otherwise wait,
 * serialized, for the rest of its batch.
 */
export class JsonText {
  readonly make: () => string;
  constructor(make: () => string) {
    this.make = make;
  }
}

/** JSON text as a COPY value: JSON never holds a raw newline, carriage return or tab, only backslashes to double. */
const copyJson = (json: string) => (json.includes('\\') ? json.replaceAll('\\', '\\\\') : json);

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
      if (v instanceof JsonText) return copyJson(v.make());
      const json = JSON.stringify(v);
      // An escape jsonb refuses (U+0000, a lone surrogate): the value is written sanitized.
      return copyJson(jsonNeedsEscaping(json) ? JSON.stringify(storableValue(v)) : json);
    }
  }
}

/** Characters a piece of COPY text holds, give or take a row: see copyPieces. */
export const COPY_PIECE = 32_768;

/**
 * Rows in COPY's text format, one value per column in the order the COPY names them, made as
 * they are sent, in pieces of whole rows of about COPY_PIECE characters. A batch's text at once
 * is megabytes (the tracker's raw JSON rides along): one string that large lands in V8's
 * large-object space, and the driver copied it into two buffers as large before sending. A piece
 * made when the socket can take it is garbage before the next young-generation collection.
 */
export function* copyPieces(rows: Iterable<readonly unknown[]>): Generator<string, void, undefined> {
  let lines: string[] = [];
  let size = 0;
  for (const row of rows) {
    const values = new Array<string>(row.length);
    for (let i = 0; i < row.length; i++) values[i] = copyValue(row[i]);
    const line = values.join('\t');
    lines.push(line);
    size += line.length + 1;
    if (size >= COPY_PIECE) {
      yield `${lines.join('\n')}\n`;
      lines = [];
      size = 0;
    }
  }
  if (lines.length > 0) yield `${lines.join('\n')}\n`;
}

/** Rows in COPY's text format as one string. */
export function copyText(rows: Iterable<readonly unknown[]>): string {
  return [...copyPieces(rows)].join('');
}

const copyStatement = (table: string, columns: readonly string[]) =>
  `copy ${table} (${columns.map((col) => `"${col}"`).join(', ')})`;

/**
 * Copies rows (COPY text: one string, or pieces made as they are sent, see copyPieces) into
 * `table`'s `columns`. Throws CopyError when the database refuses them, or when making a piece
 * throws; inside a transaction the transaction is then aborted, as after any failed statement
 * (use a savepoint to go on).
 *
 * On postgres.js no other statement may start on the connection while the copy's data is being
 * sent (the driver fails it with COPY_IN_PROGRESS): inside a transaction, callers keep other
 * statements back until this resolves (db/query.ts Pipeline.exclusive).
 */
export async function copyRows(
  db: Db,
  table: string,
  columns: readonly string[],
  text: string | Iterable<string>,
): Promise<void> {
  const c = clientOf(db);
  if (!c) throw new CopyError(table, new Error('COPY is not available through this driver'));
  const statement = copyStatement(table, columns);
  const iterator = (typeof text === 'string' ? [text] : text)[Symbol.iterator]();
  const pieces: Iterator<string> = {
    next() {
      try {
        return iterator.next();
      } catch (e) {
        throw new CopyError(table, e);
      }
    },
  };
  // No rows, no statement.
  let first = pieces.next();
  while (!first.done && first.value.length === 0) first = pieces.next();
  if (first.done) return;
  if (c.kind === 'pglite') {
    try {
      await c.client.query(`${statement} from '/dev/blob'`, [], { blob: encodePieces(first.value, pieces) });
    } catch (e) {
      throw e instanceof CopyError ? e : new CopyError(table, e);
    }
    return;
  }
  const send = (client: PostgresJsClient) => copyPostgres(client, table, statement, first.value, pieces);
  if (c.client.reserve) {
    // The pool would run the copy and the statement that follows it on different connections.
    const conn = await c.client.reserve();
    try {
      return await send(conn);
    } finally {
      conn.release();
    }
  }
  return send(c.client);
}

/** Bytes a PGlite copy's input starts with; it doubles in place as the pieces need. */
const INPUT_START = 1 << 20;
/** The most a PGlite copy's input may grow to: address space reserved, not memory. */
const INPUT_MAX = 2 ** 31;
const encoder = new TextEncoder();

/**
 * PGlite reads a copy's whole input from one blob, as the ArrayBuffer its `arrayBuffer()` gives.
 * The pieces are encoded straight into a buffer that grows in place (a resizable ArrayBuffer:
 * address space reserved up front, pages committed as it grows), so each piece is garbage as soon
 * as it is encoded. Collecting the pieces and making a Blob of them held the input three times
 * over — the strings, the Blob's bytes and the copy `arrayBuffer()` makes of them — and the
 * strings, kept until the last piece was made, outlived young-generation collections into the
 * old generation, against the first sync's memory goal.
 */
function encodePieces(first: string, rest: Iterator<string>): BlobInput {
  const buffer = new ArrayBuffer(INPUT_START, { maxByteLength: INPUT_MAX });
  let length = 0;
  for (let piece: string | undefined = first; piece !== undefined; ) {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    const room = length + piece.length * 3;
    if (room > buffer.byteLength) {
      if (room > INPUT_MAX) throw new RangeError(`a copy's input is over ${INPUT_MAX} bytes`);
      buffer.resize(Math.min(INPUT_MAX, Math.max(room, buffer.byteLength * 2)));
    }
    length += encoder.encodeInto(piece, new Uint8Array(buffer, length)).written;
    const p = rest.next();
    piece = p.done ? undefined : p.value;
  }
  buffer.resize(length);
  // A Blob would copy the bytes again, and so would its arrayBuffer().
  return { arrayBuffer: async () => buffer };
}

async function copyPostgres(
  client: PostgresJsClient,
  table: string,
  statement: string,
  first: string,
  rest: Iterator<string>,
): Promise<void> {
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
    if (!final) stream.on('finish', () => resolve());
    // A piece at a time, made when the socket has taken the one before.
    let next: string | undefined = first;
    const pump = () => {
      try {
        while (next !== undefined) {
          const ok = stream.write(next);
          const p = rest.next();
          next = p.done ? undefined : p.value;
          if (!ok && next !== undefined) return void stream.once('drain', pump);
        }
        stream.end();
      } catch (e) {
        // A row that cannot be written as text: the driver tells the database the copy failed.
        (stream as unknown as { destroy(e: unknown): void }).destroy(e);
        reject(e);
      }
    };
    pump();
  }).catch((e: unknown) => {
    throw e instanceof CopyError ? e : new CopyError(table, e);
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
  return pipeline.exclusive(() => copyRows(db, spec.table, spec.columns, copyPieces(spec.rows())));
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
  const pieces = copyPieces(rows);
  try {
    await db.transaction(async (tx) => copyRows(tx as unknown as Db, table, columns, pieces));
  } catch (e) {
    if (!(e instanceof CopyError)) throw e;
    await fallback();
  }
}
