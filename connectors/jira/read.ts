// Reading from Jira: field discovery, the incremental pull over the enhanced JQL search, the
// ids-only listing for the reconcile sweep, and authoritative re-reads by key.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { WorkItem } from '../../src/core/work-item.ts';
import { keptRead } from '../kept-read.ts';
import { withoutOrderBy } from '../query-text.ts';
import type { FetchOptions, PullOptions, PullResult, RefResolver, UnreadableItem } from '../types.ts';
import { checkReply, validateReply } from '../validate.ts';
import type { JiraApi } from './client.ts';
import type { JiraConnection } from './config.ts';
import {
  type JiraFieldIds,
  type MapContext,
  MODEL_FIELD_NAMES,
  startedFromChangelog,
  startedWithoutChangelog,
  toWorkItem,
} from './map.ts';
import {
  JiraApproximateCount,
  JiraBulkChangelog,
  JiraBulkFetch,
  type JiraField,
  JiraFieldList,
  JiraIssue,
  JiraKeyPage,
  JiraSearchPage,
} from './schema.ts';

/** Jira's page cap for searches that ask for fields (`maxResults` above it is silently lowered). */
export const SEARCH_PAGE = 100;
/** Jira's page cap when only ids/keys are requested. */
export const KEY_PAGE = 5000;
/** `issue/bulkfetch` takes at most 100 keys. */
export const BULKFETCH_MAX = 100;
/** `changelog/bulkfetch` takes at most 1000 issues, and pages of up to 10000 changelogs. */
export const CHANGELOG_ISSUES_MAX = 1000;
export const CHANGELOG_PAGE = 10_000;
/**
 * How far each incremental pull reaches back before the previous one started: covers Jira's
 * search lag (a fresh change is not searchable at once) and clock skew between us and Jira.
 */
export const OVERLAP_MS = 2 * 60_000;

const BASE_FIELDS = [
  'summary',
  'issuetype',
  'status',
  'project',
  'created',
  'updated',
  'assignee',
  'priority',
  'labels',
  'resolutiondate',
  'duedate',
  'statuscategorychangedate',
  'parent',
  'issuelinks',
  'timetracking',
];

export function scopeJql(scope: JiraConnection['scope']): string {
  if ('projects' in scope) return `project in (${scope.projects.map((p) => JSON.stringify(p)).join(', ')})`;
  // Our ORDER BY decides paging stability, so the user's own ordering is dropped.
  // Only a top-level ORDER BY: `summary ~ "order by date"` is a condition, not an ordering.
  return `(${withoutOrderBy(scope.jql, 'jql')})`;
}

interface Cursor {
  v: 1;
  /** When the pull that wrote this cursor started (our clock). */
  since: string;
}

export function decodeCursor(cursor: string | null): Cursor | null {
  if (!cursor) return null;
  try {
    const c = JSON.parse(cursor) as Partial<Cursor>;
    if (c.v === 1 && typeof c.since === 'string' && !Number.isNaN(Date.parse(c.since))) return c as Cursor;
  } catch {}
  return null;
}

/**
 * JQL dates are read in the API user's profile time zone; a relative period (`-15m`) is not, so
 * the window is expressed as "minutes ago", rounded outward.
 */
export function pullJql(scope: JiraConnection['scope'], since: Cursor | null, nowMs: number): string {
  // ORDER BY key: an item's position does not move when it is edited while we page.
  if (!since) return `${scopeJql(scope)} ORDER BY key ASC`;
  const minutes = Math.max(1, Math.ceil((nowMs - Date.parse(since.since) + OVERLAP_MS) / 60_000));
  return `${scopeJql(scope)} AND updated >= "-${minutes}m" ORDER BY key ASC`;
}

const DISCOVERY: Record<'points' | 'start' | 'sprint' | 'epicLink', { custom: RegExp; name: RegExp }> = {
  points: { custom: /:jsw-story-points$/, name: /^story ?points?( estimate)?$/i },
  start: { custom: /:jpo-custom-field-baseline-start$/, name: /^start date$/i },
  sprint: { custom: /:gh-sprint$/, name: /^sprint$/i },
  epicLink: { custom: /:gh-epic-link$/, name: /^epic link$/i },
};

export function discoverFieldIds(
  configured: Record<string, string>,
  fields: readonly JiraField[] | null,
): JiraFieldIds {
  const find = (what: keyof typeof DISCOVERY) => {
    if (configured[what]) return configured[what]!;
    if (!fields) return null;
    const d = DISCOVERY[what];
    return (
      fields.find((f) => f.schema?.custom && d.custom.test(f.schema.custom))?.id ??
      fields.find((f) => f.custom && d.name.test(f.name))?.id ??
      null
    );
  };
  return {
    points: find('points'),
    start: find('start'),
    sprint: find('sprint'),
    epicLink: find('epicLink'),
    owner: configured.owner ?? null,
    crossTracker: configured.crossTracker ?? null,
    dependsOn: configured.dependsOn ?? null,
  };
}

export interface ReaderDeps {
  api: JiraApi;
  config: JiraConnection;
  log: Logger;
  resolveRef: RefResolver;
  siteUrl: string;
  now: () => number;
}

export function createReader(deps: ReaderDeps) {
  const { api, config } = deps;
  const extras = Object.fromEntries(
    Object.entries(config.fields).filter(([name]) => !(MODEL_FIELD_NAMES as readonly string[]).includes(name)),
  );
  let context: Promise<MapContext> | null = null;
  const siteFieldList = keptRead(
    async () =>
      validateReply(JiraFieldList, await api.issueFields.getFields(), 'GET field', {
        tracker: 'jira',
        connection: config.id,
      }),
    deps.now,
  );

  /**
   * The site's field list, shared by discovery and mapping checks so one run asks once;
   * `maxAgeMs` lets a long-lived process notice fields that changed since.
   */
  function siteFields(maxAgeMs?: number): Promise<JiraField[]> {
    return siteFieldList.get(maxAgeMs);
  }

  /** Field ids, discovered at most once per connector (concurrent callers share the request). */
  function mapContext(): Promise<MapContext> {
    context ??= (async () => {
      const need = (['points', 'start', 'sprint', 'epicLink'] as const).some((k) => !config.fields[k]);
      const list = need ? await siteFields() : null;
      const fieldIds = discoverFieldIds(config.fields, list);
      deps.log.debug({ connection: config.id, fieldIds }, 'jira field ids');
      return {
        connection: config.id,
        siteUrl: deps.siteUrl,
        fieldIds,
        extras,
        typeMap: config.typeMap,
        resolveRef: deps.resolveRef,
      };
    })();
    // A failed discovery is retried by the next caller rather than cached.
    context.catch(() => {
      context = null;
    });
    return context;
  }

  function fieldList(ctx: MapContext): string[] {
    const ids = ctx.fieldIds;
    const custom = [
      ids.points,
      ids.start,
      ids.sprint,
      ids.epicLink,
      ids.owner,
      ids.crossTracker,
      ids.dependsOn,
      ...Object.values(extras),
    ];
    return [...new Set([...BASE_FIELDS, ...custom.filter((x): x is string => !!x)])];
  }

  /** `started` for done items from their status history, in as few requests as Jira allows. */
  async function changelogStarts(issues: readonly JiraIssue[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    for (let i = 0; i < issues.length; i += CHANGELOG_ISSUES_MAX) {
      const batch = issues.slice(i, i + CHANGELOG_ISSUES_MAX);
      const byId = new Map<string, JiraIssue['changelog'] & object>();
      let token: string | undefined;
      do {
        const page = validateReply(
          JiraBulkChangelog,
          await api.issues.getBulkChangelogs({
            issueIdsOrKeys: batch.map((x) => x.id),
            fieldIds: ['status'],
            maxResults: CHANGELOG_PAGE,
            nextPageToken: token,
          }),
          'POST changelog/bulkfetch',
          { tracker: 'jira', connection: config.id },
        );
        for (const log of page.issueChangeLogs) {
          const h = byId.get(log.issueId) ?? { histories: [] };
          h.histories.push(...log.changeHistories);
          byId.set(log.issueId, h);
        }
        token = page.nextPageToken ?? undefined;
      } while (token);
      for (const issue of batch) out.set(issue.id, startedFromChangelog(byId.get(issue.id)?.histories ?? []));
    }
    return out;
  }

  /**
   * Validates issues one by one. An issue the schema refuses goes to `unreadable` by its key, and
   * the others go on; without `unreadable`, or without a key to name it by, it fails the call as
   * a broken answer does.
   */
  function readEach(raws: readonly unknown[], what: string, unreadable: Unreadable | undefined): JiraIssue[] {
    const out: JiraIssue[] = [];
    for (const [i, raw] of raws.entries()) {
      // Named as in the whole answer (`issues.3.fields.summary`), never by its value.
      const r = checkReply(JiraIssue, raw, what, { tracker: 'jira', connection: config.id }, ['issues', i]);
      if (r.ok) {
        out.push(r.data);
        continue;
      }
      const err = r.error;
      const key = keyOf(raw);
      if (!unreadable || key === null) throw err;
      unreadable({ key, reason: err.message });
    }
    return out;
  }

  /** Maps one issue; a mapping that throws goes to `unreadable` as readEach's refusals do. */
  function mapOne(issue: JiraIssue, ctx: MapContext, started: string | null, unreadable: Unreadable | undefined) {
    try {
      return toWorkItem(issue, ctx, started);
    } catch (err) {
      if (!unreadable) throw err;
      unreadable({ key: issue.key, reason: `cannot map: ${reasonOf(err)}` });
      return null;
    }
  }

  /** Maps issues; those whose `started` needs the changelog are handed back instead. */
  function mapReady(
    issues: readonly JiraIssue[],
    ctx: MapContext,
    unreadable?: Unreadable,
  ): { items: WorkItem[]; pending: JiraIssue[] } {
    const items: WorkItem[] = [];
    const pending: JiraIssue[] = [];
    for (const issue of issues) {
      const s = startedWithoutChangelog(issue);
      if (s.needsChangelog) pending.push(issue);
      else {
        const item = mapOne(issue, ctx, s.started, unreadable);
        if (item) items.push(item);
      }
    }
    return { items, pending };
  }

  async function mapPending(
    pending: readonly JiraIssue[],
    ctx: MapContext,
    unreadable?: Unreadable,
  ): Promise<WorkItem[]> {
    if (pending.length === 0) return [];
    const starts = await changelogStarts(pending);
    const items: WorkItem[] = [];
    for (const issue of pending) {
      const item = mapOne(issue, ctx, starts.get(issue.id) ?? null, unreadable);
      if (item) items.push(item);
    }
    return items;
  }

  async function pull(opts: PullOptions): Promise<PullResult> {
    const ctx = await mapContext();
    const startedAt = deps.now();
    const since = decodeCursor(opts.cursor);
    if (opts.cursor && !since)
      deps.log.warn({ connection: config.id }, 'unreadable Jira cursor; reading everything in scope');
    // One JQL's pages chain through their tokens, so a single search can never use more than one
    // request at a time: a first (or full) pull of several projects searches them project by
    // project, side by side (the client's limits still cap the requests in flight and per
    // second). An incremental pull is small: one search, so nothing changed costs one request.
    const scopes =
      !since && 'projects' in config.scope ? config.scope.projects.map((p) => ({ projects: [p] })) : [config.scope];
    const jqls = scopes.map((s) => pullJql(s, since, startedAt));
    const fields = fieldList(ctx);
    // A key is emitted once per pull; an edit made while we page is picked up by the next pull,
    // whose window starts before this one did.
    const seen = new Set<string>();
    let pending: JiraIssue[] = [];
    type SearchPage = z.infer<typeof JiraSearchPage>;
    const fetchPage = async (jql: string, token: string | undefined): Promise<SearchPage> => {
      opts.signal?.throwIfAborted();
      return validateReply(
        JiraSearchPage,
        await api.issueSearch.searchAndReconsileIssuesUsingJqlPost({
          jql,
          fields,
          maxResults: SEARCH_PAGE,
          nextPageToken: token,
        }),
        'POST search/jql',
        { tracker: 'jira', connection: config.id },
      );
    };
    // Pages chain through their tokens, so one search can run ahead: the next page is requested
    // as soon as this one's token is known, while this one is mapped and stored. Changelog reads
    // for done items start at once and run beside the search. Deliveries keep one order and
    // never overlap (the PullOptions contract).
    let delivered: Promise<void> = Promise.resolve();
    // Unreadable issues are told in order with the pages: each delivery hands over those found
    // since the last one.
    let refused: UnreadableItem[] = [];
    const unreadable: Unreadable | undefined = opts.onUnreadable && ((u) => void refused.push(u));
    const deliver = (items: Promise<WorkItem[]> | WorkItem[]) => {
      Promise.resolve(items).catch(() => {});
      delivered = delivered.then(async () => {
        const ready = await items;
        if (refused.length > 0) {
          const told = refused;
          refused = [];
          await opts.onUnreadable?.(told);
        }
        if (ready.length) await opts.onPage(ready);
      });
      delivered.catch(() => {});
      return delivered;
    };
    // The total for a progress display, only when someone listens. Searches that each end on their
    // first page tell it exactly (an incremental pull, usually); otherwise one approximate count of
    // the whole pull, every project at once, once the first pages show more are coming. A count
    // that fails costs the display its total, not the pull.
    const firstPages = jqls.map(() => Promise.withResolvers<number | null>());
    for (const f of firstPages) f.promise.catch(() => {});
    const counted = opts.onTotal
      ? Promise.all(firstPages.map((f) => f.promise))
          .then(async (sizes) =>
            sizes.every((n) => n !== null)
              ? sizes.reduce((a, b) => a + b, 0)
              : await countIssues(pullJql(config.scope, since, startedAt)),
          )
          .then((n) => opts.onTotal?.(n))
          .catch((err: unknown) => {
            deps.log.debug({ connection: config.id, err }, 'jira approximate count failed; progress shows no total');
          })
      : undefined;
    let stopped = false;
    const search = async (jql: string, first: PromiseWithResolvers<number | null>) => {
      let next: Promise<SearchPage> | undefined = fetchPage(jql, undefined);
      while (next && !stopped) {
        const page: SearchPage = await next;
        const token = page.nextPageToken ?? undefined;
        // Issues of a search that is one page; null when there are more (settles once).
        first.resolve(token ? null : page.issues.length);
        next = token ? fetchPage(jql, token) : undefined;
        next?.catch(() => {});
        const fresh = page.issues.filter((raw) => {
          const key = keyOf(raw);
          if (key === null) return true; // readEach says what is wrong with it
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        const { items, pending: more } = mapReady(readEach(fresh, 'POST search/jql', unreadable), ctx, unreadable);
        pending.push(...more);
        // Done items wait for one changelog request per thousand, instead of one per page.
        while (pending.length >= CHANGELOG_ISSUES_MAX) {
          deliver(mapPending(pending.slice(0, CHANGELOG_ISSUES_MAX), ctx, unreadable));
          pending = pending.slice(CHANGELOG_ISSUES_MAX);
        }
        await deliver(items);
      }
    };
    try {
      const searches = jqls.map((jql, i) =>
        search(jql, firstPages[i]!)
          .catch((err: unknown) => {
            stopped = true; // the other searches stop at their next page
            throw err;
          })
          // A search stopped before its first page leaves the total untold (no-op once told).
          .finally(() => firstPages[i]!.reject(new Error('search stopped before its first page'))),
      );
      // Every search settles before the pull returns or throws; the first failure is the pull's.
      const settled = await Promise.allSettled(searches);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      // The last delivery also tells what was refused since the one before, pending or not.
      deliver(pending.length ? mapPending(pending, ctx, unreadable) : []);
    } finally {
      // Nothing of this pull may still be delivering once it has returned or thrown.
      await delivered.catch(() => {});
      await counted;
    }
    await delivered;
    return { cursor: JSON.stringify({ v: 1, since: new Date(startedAt).toISOString() } satisfies Cursor) };
  }

  /** Jira's approximate count of the issues a pull's JQL matches (its ORDER BY does not count). */
  async function countIssues(jql: string): Promise<number> {
    const reply = await api.issueSearch.countIssues({ jql: jql.replace(/ ORDER BY key ASC$/, '') });
    return validateReply(JiraApproximateCount, reply, 'POST search/approximate-count', {
      tracker: 'jira',
      connection: config.id,
    }).count;
  }

  async function listKeys(opts?: { signal?: AbortSignal }): Promise<string[]> {
    return keysMatching(`${scopeJql(config.scope)} ORDER BY key ASC`, opts);
  }

  /** Keys of the issues a JQL selects, read as keys only (the largest pages search gives). */
  async function keysMatching(jql: string, opts?: { signal?: AbortSignal }): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      opts?.signal?.throwIfAborted();
      const page = validateReply(
        JiraKeyPage,
        await api.issueSearch.searchAndReconsileIssuesUsingJqlPost({
          jql,
          fields: ['id'],
          maxResults: KEY_PAGE,
          nextPageToken: token,
        }),
        'POST search/jql',
        { tracker: 'jira', connection: config.id },
      );
      keys.push(...page.issues.map((i) => i.key));
      token = page.nextPageToken ?? undefined;
    } while (token);
    return keys;
  }

  async function fetchItems(keys: string[], opts: FetchOptions = {}): Promise<WorkItem[]> {
    const ctx = await mapContext();
    const fields = fieldList(ctx);
    const issues: JiraIssue[] = [];
    const refused: UnreadableItem[] = [];
    const unreadable: Unreadable | undefined = opts.onUnreadable && ((u) => void refused.push(u));
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += BULKFETCH_MAX) {
      const res = validateReply(
        JiraBulkFetch,
        await api.issues.bulkFetchIssues({ issueIdsOrKeys: unique.slice(i, i + BULKFETCH_MAX), fields }),
        'POST issue/bulkfetch',
        { tracker: 'jira', connection: config.id },
      );
      issues.push(...readEach(res.issues, 'POST issue/bulkfetch', unreadable));
    }
    const { items, pending } = mapReady(issues, ctx, unreadable);
    const all = [...items, ...(await mapPending(pending, ctx, unreadable))];
    if (refused.length > 0) opts.onUnreadable?.(refused);
    return all;
  }

  return { mapContext, siteFields, pull, listKeys, keysMatching, fetchItems };
}
export type JiraReader = ReturnType<typeof createReader>;

type Unreadable = (item: UnreadableItem) => void;

/** The key an issue is named by, read from an issue the schema may refuse (its id without a key). */
function keyOf(raw: unknown): string | null {
  if (raw === null || typeof raw !== 'object') return null;
  const { key, id } = raw as { key?: unknown; id?: unknown };
  if (typeof key === 'string' && key.length > 0) return key;
  if (typeof id === 'string' && id.length > 0) return id;
  return null;
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
