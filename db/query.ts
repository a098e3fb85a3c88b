// Raw SQL results look different per driver (PGlite: { rows }, postgres.js: an array).
import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { workItems } from './schema.ts';

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

/**
 * Lets the event loop run once (its I/O phase included). Long synchronous work, such as a
 * chunk's rule evaluation or write plan, otherwise keeps the driver from writing the statements
 * already sent (a bind of megabytes waits half-written in the socket) and from reading the next
 * chunk's rows: the database then idles while this process computes, and the other way round.
 */
export function letIoRun(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}

export interface Pipeline {
  /**
   * Starts a statement now (after those already sent, on a transaction's connection), or once
   * an exclusive job running now has finished. A function is called when the statement may start.
   */
  add<T>(query: PromiseLike<T> | (() => PromiseLike<T>)): Promise<T>;
  /**
   * Runs `job` with the connection to itself: statements added while it runs start after it.
   * A COPY needs this on postgres.js, which fails any statement started while a copy's data is
   * being sent (db/copy.ts).
   */
  exclusive(job: () => Promise<unknown>): Promise<void>;
  /**
   * Tracks a statement running elsewhere (another connection of the pool, or already started):
   * waited for and failed with the rest, but never held back by an exclusive job, which would
   * hold its answer back too.
   */
  beside<T>(query: Promise<T>): Promise<T>;
  /** Waits for every statement; rethrows the first failure. */
  drain(): Promise<void>;
}

/**
 * Statements sent without waiting for each other's answers, so the database works while the
 * caller builds the next one. drizzle runs a query on every then(), so each is made a promise
 * exactly once here; settled ones are dropped (their rows must not stay reachable).
 */
export function createPipeline(): Pipeline {
  const pending = new Set<Promise<unknown>>();
  let failure: { error: unknown } | null = null;
  /**
   * While an exclusive job waits or runs: settles once it, and every statement added before the
   * next one, has started. Statements and jobs queue behind it in the order they were added, so a
   * statement added between two jobs starts before the second, never beside it.
   */
  let tail: Promise<void> | null = null;
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    p.then(
      () => pending.delete(p),
      (error: unknown) => {
        pending.delete(p);
        failure ??= { error };
      },
    );
    return p;
  };
  // Calls then() at once: drizzle starts a query only then, and a query left to start in a later
  // microtask could reach the connection after a COPY that was queued behind it.
  const start = <T>(query: PromiseLike<T> | (() => PromiseLike<T>)): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      (typeof query === 'function' ? query() : query).then(resolve, reject);
    });
  const enqueue = (next: Promise<void>) => {
    tail = next;
    next.then(() => {
      if (tail === next) tail = null;
    });
  };
  return {
    add<T>(query: PromiseLike<T> | (() => PromiseLike<T>)): Promise<T> {
      if (!tail) return track(start(query));
      let started!: Promise<T>;
      const issued = tail.then(() => {
        started = start(query);
      });
      enqueue(issued);
      return track(issued.then(() => started));
    },
    exclusive(job: () => Promise<unknown>): Promise<void> {
      const run = (tail ?? Promise.resolve()).then(job).then(() => {});
      enqueue(
        run.then(
          () => {},
          () => {},
        ),
      );
      return track(run);
    },
    beside<T>(query: Promise<T>): Promise<T> {
      return track(query);
    },
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
      if (failure) throw failure.error;
    },
  };
}

/**
 * Whether a change set touches so much of the store (a first sync, a large import) that one
 * scan of every item beats following each change through parents, children and links: above
 * a fifth of the stored items, and never for fewer than 1,000 refs.
 */
export async function coversMostItems(db: Db, refs: readonly string[]): Promise<boolean> {
  if (refs.length < 1000) return false;
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(workItems);
  return refs.length >= 0.2 * Number(row?.n ?? 0);
}

/**
 * Runs `fn` with a pipeline and waits for every statement it sent, whether `fn` returns or
 * throws: nothing may still run once the caller's transaction moves on.
 */
export async function withPipeline<T>(fn: (pipeline: Pipeline) => Promise<T>): Promise<T> {
  const pipeline = createPipeline();
  let result: T;
  try {
    result = await fn(pipeline);
  } catch (err) {
    await pipeline.drain().catch(() => {});
    throw err;
  }
  await pipeline.drain();
  return result;
}
