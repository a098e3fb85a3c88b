// Large reads without drizzle's row mapper. drizzle maps every cell through a reduce, a path
// iterator and three class checks; over the 150,000 items, 150,000 findings and their plans of
// a first sync that took over a second of the process's time. Both drivers already hand back
// what drizzle would for these columns (jsonb parsed, timestamps and dates as the database's
// strings, numbers as numbers) except bigints in number mode, which postgres.js gives as text,
// and columns of a custom type that decodes what it reads (a tracker's raw JSON, db/schema.ts).
// test/db/select.test.ts holds both drivers to drizzle's answers.
import { is, type SQL, sql } from 'drizzle-orm';
import { type PgColumn, PgCustomColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client.ts';
import { queryRows } from './query.ts';

/** Columns to read: table columns, or SQL expressions (`sql<T>\`…\``) as drizzle's select takes them. */
type Columns = Record<string, PgColumn | SQL<unknown>>;

/** The row drizzle's `select(columns)` gives: each column's type, nullable unless NOT NULL. */
export type RowOf<C extends Columns> = {
  [K in keyof C]: C[K] extends PgColumn
    ? C[K]['_']['notNull'] extends true
      ? C[K]['_']['data']
      : C[K]['_']['data'] | null
    : C[K] extends SQL<infer T>
      ? T
      : never;
};

const NUMBER_MODE_BIGINTS = new Set(['PgBigInt53', 'PgBigSerial53']);

/**
 * `select <columns as keys> from <from> [where <where>]`, rows as drizzle's select would give
 * them. `from` is a table, or SQL for a join.
 */
export async function selectRows<C extends Columns>(
  db: Db,
  columns: C,
  from: PgTable | SQL,
  where?: SQL,
): Promise<RowOf<C>[]> {
  const fields = Object.entries(columns);
  const list = sql.join(
    fields.map(([key, column]) => sql`${column} as ${sql.identifier(key)}`),
    sql`, `,
  );
  const rows = await queryRows<Record<string, unknown>>(
    db,
    where ? sql`select ${list} from ${from} where ${where}` : sql`select ${list} from ${from}`,
  );
  const bigints = fields.filter(([, c]) => 'columnType' in c && NUMBER_MODE_BIGINTS.has(c.columnType)).map(([k]) => k);
  if (bigints.length > 0) {
    for (const r of rows) {
      for (const k of bigints) if (typeof r[k] === 'string') r[k] = Number(r[k]);
    }
  }
  const decoded = fields.filter(([, c]) => decodes(c));
  for (const [k, c] of decoded) {
    const column = c as PgColumn;
    for (const r of rows) if (r[k] !== null) r[k] = column.mapFromDriverValue(r[k]);
  }
  return rows as RowOf<C>[];
}

/** A custom column with a decoder of its own (db/schema.ts `trackerJson`); the others read as they come. */
function decodes(c: PgColumn | SQL<unknown>): boolean {
  return is(c, PgCustomColumn) && typeof (c as unknown as { mapFrom?: unknown }).mapFrom === 'function';
}
