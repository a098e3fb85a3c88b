// Reading from Azure DevOps: the incremental pull (WIQL slices of ids, then workitemsbatch reads),
// the ids-only listing for the reconcile sweep, and authoritative re-reads by id.
import type { Logger } from 'pino';
import { ConnectorError } from '../../src/core/errors.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import type { FetchOptions, PullOptions, PullResult, RefResolver, UnreadableItem } from '../types.ts';
import { checkReply, validateReply } from '../validate.ts';
import { type AdoClient, TRACKER } from './client.ts';
import type { AdoConnection } from './config.ts';
import type { IterationCache } from './iterations.ts';
import { LOCATIONS } from './locations.ts';
import { toWorkItem } from './map.ts';
import { AdoWiqlResult, AdoWorkItem, AdoWorkItemBatch } from './schema.ts';
import type { StateCategoryCache } from './states.ts';
import { BATCH_MAX, sliceQuery, WIQL_CAP } from './wiql.ts';

/**
 * Cursor of an incremental pull: the service's `asOf` of the pull's first WIQL query. Anything
 * changed after that instant, including items changed while the pull was reading, has a
 * System.ChangedDate at or after it (both are the service's clock), so the next pull's
 * `ChangedDate >= changedSince` finds it. Without `asOf`, the newest ChangedDate read is used.
 */
interface Cursor {
  v: 1;
  changedSince: string | null;
}

const NO_CURSOR: Cursor = { v: 1, changedSince: null };

export function decodeCursor(c: string | null): Cursor {
  if (!c) return NO_CURSOR;
  try {
    const parsed = JSON.parse(c) as Partial<Cursor>;
    if (parsed.v === 1 && typeof parsed.changedSince === 'string' && !Number.isNaN(Date.parse(parsed.changedSince))) {
      return { v: 1, changedSince: new Date(parsed.changedSince).toISOString() };
    }
  } catch {
    /* an unreadable cursor reads everything again, which is always safe */
  }
  return NO_CURSOR;
}

/** The cursor moved back to `since` (ISO), never forward; see `Connector.rewindCursor`. */
export function rewindCursor(cursor: string | null, since: string): string | null {
  if (cursor === null || Number.isNaN(Date.parse(since))) return cursor;
  const c = decodeCursor(cursor);
  if (c.changedSince === null) return null;
  const at = new Date(since).toISOString();
  return JSON.stringify({ v: 1, changedSince: at < c.changedSince ? at : c.changedSince } satisfies Cursor);
}

export interface ReaderDeps {
  client: AdoClient;
  config: AdoConnection;
  log: Logger;
  resolveRef: RefResolver;
  states: StateCategoryCache;
  iterations: IterationCache;
  /** Item id → project, filled as items are read; the writer addresses items by project. */
  projects: Map<string, string>;
}

type Unreadable = (item: UnreadableItem) => void;

export function createReader(deps: ReaderDeps) {
  const { client, config, log, resolveRef, states, iterations, projects } = deps;
  /** project, type and state (NUL-joined) of states seen on items that their type does not list. */
  const unknownStates = new Set<string>();

  const runWiql = async (afterId: number, since: Cursor): Promise<{ ids: number[]; asOf: string | null }> => {
    const l = LOCATIONS.wiql;
    const project = 'wiql' in config.scope ? config.scope.project : undefined;
    const reply = await client.call({
      method: 'POST',
      area: l.area,
      locationId: l.id,
      apiVersion: l.apiVersion,
      routeValues: project ? { project } : {},
      query: { timePrecision: true, $top: WIQL_CAP },
      body: {
        query: sliceQuery(config.scope, { afterId, changedSince: since.changedSince }),
      },
      what: 'run the WIQL query of the scope',
    });
    const result = validateReply(AdoWiqlResult, reply.body, 'WIQL result', client.source);
    const asOf = result.asOf && !Number.isNaN(Date.parse(result.asOf)) ? new Date(result.asOf).toISOString() : null;
    return { ids: result.workItems.map((w) => w.id), asOf };
  };

  /** Ids a WIQL query returns, run the way the pull runs its slices (the scope's project). */
  const runScopeQuery = async (query: string): Promise<number[]> => {
    const l = LOCATIONS.wiql;
    const project = 'wiql' in config.scope ? config.scope.project : undefined;
    const reply = await client.call({
      method: 'POST',
      area: l.area,
      locationId: l.id,
      apiVersion: l.apiVersion,
      routeValues: project ? { project } : {},
      query: { $top: WIQL_CAP },
      body: { query },
      what: 'check which work items are in the WIQL scope',
    });
    return validateReply(AdoWiqlResult, reply.body, 'WIQL result', client.source).workItems.map((w) => w.id);
  };

  /**
   * Every id in scope (changed since, when given), slice by slice, each slice handed over as read.
   * Returns the `asOf` of the first slice: the instant the scope was read at.
   */
  const eachSlice = async (
    since: Cursor,
    onSlice: (ids: number[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<string | null> => {
    let afterId = 0;
    let firstAsOf: string | null | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const { ids, asOf } = await runWiql(afterId, since);
      if (firstAsOf === undefined) firstAsOf = asOf;
      if (ids.length > 0) await onSlice(ids);
      if (ids.length < WIQL_CAP) return firstAsOf;
      afterId = Math.max(...ids);
    }
  };

  // workitemsbatch cannot combine `fields` with `$expand` ("The expand parameter can not be used
  // with the fields parameter"); relations carry parent and dependencies, so we expand them and
  // take the fields that come with them.
  const readBatch = async (ids: readonly number[], unreadable?: Unreadable): Promise<WorkItem[]> => {
    const l = LOCATIONS.workItemsBatch;
    const reply = await client.call({
      method: 'POST',
      area: l.area,
      locationId: l.id,
      apiVersion: l.apiVersion,
      body: { ids, $expand: 'Relations', errorPolicy: 'Omit' },
      what: `read ${ids.length} work items`,
    });
    // errorPolicy Omit answers null for an id that is gone (or not readable to us).
    const raws: AdoWorkItem[] = [];
    for (const [i, value] of validateReply(
      AdoWorkItemBatch,
      reply.body,
      'work item batch',
      client.source,
    ).value.entries()) {
      if (value === null) continue;
      // Named as in the whole answer (`value.3.fields`), never by its value.
      const r = checkReply(AdoWorkItem, value, 'work item batch', client.source, ['value', i]);
      if (r.ok) {
        raws.push(r.data);
        continue;
      }
      const err = r.error;
      const id = (value as { id?: unknown }).id;
      if (!unreadable || (typeof id !== 'number' && typeof id !== 'string')) throw err;
      unreadable({ key: String(id), reason: err.message });
    }
    const items = await Promise.all(raws.map((raw) => normalize(raw, unreadable)));
    return items.filter((it): it is WorkItem => it !== null);
  };

  /**
   * Maps one work item. Reading its type's states and its project's iterations may fail as any
   * request does (the call fails); a mapping that throws on the item's own data goes to
   * `unreadable` when there is one, and the others go on.
   */
  const normalize = async (raw: AdoWorkItem, unreadable: Unreadable | undefined): Promise<WorkItem | null> => {
    const project = String(raw.fields['System.TeamProject'] ?? '');
    const type = String(raw.fields['System.WorkItemType'] ?? '');
    projects.set(String(raw.id), project);
    const path = raw.fields['System.IterationPath'];
    const [categories, sprints] = await Promise.all([
      states.get(project, type),
      iterations.get(project, typeof path === 'string' ? path : undefined),
    ]);
    const state = String(raw.fields['System.State'] ?? '');
    const unknownKey = `${project}\u0000${type}\u0000${state}`;
    if (!categories.has(state) && !unknownStates.has(unknownKey)) {
      unknownStates.add(unknownKey); // once per state, not once per item
      log.warn({ connection: config.id, project, type, state }, 'azure-devops: state not in its type; read as todo');
    }
    try {
      return toWorkItem(raw, {
        connectionId: config.id,
        orgUrl: config.orgUrl,
        config,
        resolveRef,
        categories,
        iterations: sprints,
      });
    } catch (err) {
      if (!unreadable) throw err;
      unreadable({ key: String(raw.id), reason: `cannot map: ${err instanceof Error ? err.message : String(err)}` });
      return null;
    }
  };

  async function pull({ cursor, onPage, onTotal, onUnreadable, signal }: PullOptions): Promise<PullResult> {
    iterations.newPull(cursor === null);
    const since = decodeCursor(cursor);
    let newest = since.changedSince;
    // The WIQL's ids are the pull's items; a scope past one slice's cap grows slice by slice.
    let listed = 0;
    const asOf = await eachSlice(
      since,
      async (ids) => {
        listed += ids.length;
        onTotal?.(listed);
        // Up to `limits.concurrency` batches are read ahead while earlier ones are stored;
        // pages are still handed over one at a time, in id order. The client's limiter
        // keeps the request rate polite whatever this window is.
        const window = Math.max(1, config.limits.concurrency);
        const reads: Promise<{ items: WorkItem[]; refused: UnreadableItem[] }>[] = [];
        const batches = chunks(ids, BATCH_MAX);
        const start = (i: number) => {
          if (i >= batches.length) return;
          const refused: UnreadableItem[] = [];
          const unreadable = onUnreadable && ((u: UnreadableItem) => void refused.push(u));
          const p = readBatch(batches[i]!, unreadable).then((items) => ({ items, refused }));
          p.catch(() => {});
          reads.push(p);
        };
        try {
          for (let i = 0; i < window; i++) start(i);
          for (let i = 0; i < batches.length; i++) {
            signal?.throwIfAborted();
            const { items, refused } = await reads[i]!;
            start(i + window);
            for (const it of items) if (!newest || it.updated > newest) newest = it.updated;
            if (refused.length > 0) await onUnreadable?.(refused);
            await onPage(items);
          }
        } finally {
          // Reads started but never delivered (an error or abort above) are settled first.
          await Promise.allSettled(reads);
        }
      },
      signal,
    );
    return { cursor: JSON.stringify({ v: 1, changedSince: asOf ?? newest } satisfies Cursor) };
  }

  async function listKeys(opts?: { signal?: AbortSignal }): Promise<string[]> {
    const keys: string[] = [];
    await eachSlice(NO_CURSOR, async (ids) => void keys.push(...ids.map(String)), opts?.signal);
    return keys;
  }

  async function fetchItems(keys: string[], opts: FetchOptions = {}): Promise<WorkItem[]> {
    const ids = keys.map((k) => {
      const n = Number(k);
      if (!Number.isInteger(n) || n <= 0) {
        throw new ConnectorError(`Azure DevOps (${config.id}): "${k}" is not a work item id`, {
          tracker: TRACKER,
          connection: config.id,
        });
      }
      return n;
    });
    const out: WorkItem[] = [];
    const refused: UnreadableItem[] = [];
    const unreadable = opts.onUnreadable && ((u: UnreadableItem) => void refused.push(u));
    for (const chunk of chunks(ids, BATCH_MAX)) out.push(...(await readBatch(chunk, unreadable)));
    if (refused.length > 0) opts.onUnreadable?.(refused);
    return out;
  }

  return { pull, listKeys, fetchItems, runScopeQuery, unknownStates: unknownStates as ReadonlySet<string> };
}
export type AdoReader = ReturnType<typeof createReader>;

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
