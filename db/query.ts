// Raw SQL results look different per driver (PGlite: { rows }, postgres.js: an array).
import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from './client.ts';

export async function queryRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/**
 * `column = any(list)` with the whole list bound as one text[] parameter. drizzle's inArray
 * binds a parameter per value; for the thousands of refs a sync passes around, building and
 * parsing those costs more than the query itself. An empty list matches nothing.
 */
export function inList(column: SQLWrapper, values: readonly string[]): SQL {
  return sql`${column} = any(${textArray(values)}::text[])`;
}

/** A Postgres array literal of text values, quoted so any character survives. */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}
