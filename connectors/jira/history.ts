// Histories from Jira's changelog: `POST /rest/api/3/changelog/bulkfetch` for up to 1,000 issues a
// request, pages of up to 10,000 change histories, only the fields a history needs asked for
// (status, the due date, the parent). Status ids in the changelog are turned into categories
// through `GET /rest/api/3/status`, kept across calls: a status no current issue has still has a
// category there.
import { z } from 'zod';
import { keptRead } from '../kept-read.ts';
import type { FieldValue, HistoryOptions, ItemHistory, StatusTransition } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { JiraApi } from './client.ts';
import type { JiraConnection } from './config.ts';
import type { JiraFieldIds } from './map.ts';
import { statusCategoryOf } from './map.ts';
import { CHANGELOG_ISSUES_MAX, CHANGELOG_PAGE } from './read.ts';
import { JiraBulkChangelog } from './schema.ts';

export const JiraStatusList = z.array(
  z.looseObject({ id: z.string(), name: z.string(), statusCategory: z.looseObject({ key: z.string() }) }),
);

/**
 * Where Jira logs a change of parent: Jira Cloud's `IssueParentAssociation` (no fieldId; ids in
 * from/to, keys in the strings when it gives them), a sub-task's `Parent`, and the legacy Epic Link
 * (by its field id where the site has one, else by name).
 */
const PARENT_NAMES = new Set(['issueparentassociation', 'parent', 'parent issue', 'epic link']);
/** The bulk changelog filters by field id; a parent change is asked for under both its names. */
const PARENT_FIELD_IDS = ['parent', 'IssueParentAssociation'];
/** How long the site's status list serves before it is read again. */
const STATUSES_MAX_AGE_MS = 60 * 60_000;
const ISSUE_KEY = /^[A-Za-z][A-Za-z0-9_]*-\d+$/;
const DAY = /^\d{4}-\d{2}-\d{2}/;

interface Cursor {
  v: 1;
  /** When the last history read started: the next one only needs the issues changed since. */
  readAt: string;
}

interface ChangeItem {
  field: string;
  fieldId?: string;
  from?: string | null;
  fromString?: string | null;
  to?: string | null;
  toString?: string | null;
}

/** A parent as a change names it: its key when the string shows one, else its issue id. */
type ParentRef = { key: string } | { id: string } | null;

function parentRef(id: string | null | undefined, text: string | null | undefined): ParentRef {
  const word = text?.trim().split(/\s/)[0];
  if (word && ISSUE_KEY.test(word)) return { key: word };
  return id ? { id } : null;
}

function dueOf(value: string | null | undefined, text: string | null | undefined): string | null {
  if (value && DAY.test(value)) return value.slice(0, 10);
  return text && DAY.test(text) ? text.slice(0, 10) : null;
}

export function createJiraHistory(deps: {
  api: JiraApi;
  config: JiraConnection;
  now: () => number;
  /** The site's field ids (the reader discovers them once per connector; a pull has usually asked). */
  fieldIds: () => Promise<JiraFieldIds>;
}) {
  const { api, config } = deps;

  type CategoryOf = (
    id: string | null | undefined,
    name: string | null | undefined,
  ) => StatusTransition['to'] | undefined;
  /**
   * Status categories by id (and name): the site's status list, read when first needed, again
   * when an hour old, and again when a changelog names a status the list lacked (a status added
   * to a workflow since: `categories(true)`).
   */
  const statusList = keptRead(readCategories, deps.now);
  const categories = (refresh: boolean) => statusList.get(refresh ? 0 : STATUSES_MAX_AGE_MS);

  async function readCategories(): Promise<CategoryOf> {
    const list = validateReply(JiraStatusList, await api.workflowStatuses.getStatuses(), 'GET status', {
      tracker: 'jira',
      connection: config.id,
    });
    const byId = new Map<string, StatusTransition['to']>();
    const byName = new Map<string, StatusTransition['to']>();
    for (const s of list) {
      byId.set(s.id, statusCategoryOf(s.statusCategory.key));
      byName.set(s.name.toLowerCase(), statusCategoryOf(s.statusCategory.key));
    }
    return (id, name) => (id ? byId.get(id) : undefined) ?? (name ? byName.get(name.toLowerCase()) : undefined);
  }

  /**
   * Reads the changes since `since` of `keys` (every in-scope issue on a backfill, the changed ones
   * after), 1,000 issues a request: ⌈keys/1000⌉ requests when each thousand has fewer than 10,000
   * changes of the fields asked for, which is the fewest the endpoint allows.
   */
  async function history(opts: HistoryOptions): Promise<{ cursor: string }> {
    const readAt = new Date(deps.now()).toISOString();
    if (opts.items.length === 0) return { cursor: JSON.stringify({ v: 1, readAt } satisfies Cursor) };
    let categoryOf = await categories(false);
    let refreshed = false;
    const epicLink = (await deps.fieldIds()).epicLink;
    const fieldIds = ['status', 'duedate', ...PARENT_FIELD_IDS, ...(epicLink ? [epicLink] : [])];
    const isParent = (item: ChangeItem) =>
      (epicLink !== null && item.fieldId === epicLink) ||
      item.fieldId === 'parent' ||
      PARENT_NAMES.has(item.field.toLowerCase());
    const since = Date.parse(opts.since);
    const keyById = new Map(opts.items.flatMap((x) => (x.id ? [[x.id, x.key] as const] : [])));
    for (let i = 0; i < opts.items.length; i += CHANGELOG_ISSUES_MAX) {
      const batch = opts.items.slice(i, i + CHANGELOG_ISSUES_MAX);
      const byIssue = new Map<
        string,
        {
          transitions: StatusTransition[];
          due: { at: string; from: string | null; to: string | null }[];
          parent: { at: string; from: ParentRef; to: ParentRef }[];
        }
      >();
      const statusChanges: {
        h: { transitions: StatusTransition[] };
        at: string;
        id: string | null;
        name: string | null;
      }[] = [];
      let token: string | undefined;
      do {
        opts.signal?.throwIfAborted();
        const page = validateReply(
          JiraBulkChangelog,
          await api.issues.getBulkChangelogs({
            issueIdsOrKeys: batch.map((x) => x.id ?? x.key),
            fieldIds,
            maxResults: CHANGELOG_PAGE,
            nextPageToken: token,
          }),
          'POST changelog/bulkfetch',
          { tracker: 'jira', connection: config.id },
        );
        for (const log of page.issueChangeLogs) {
          const h = byIssue.get(log.issueId) ?? { transitions: [], due: [], parent: [] };
          for (const change of log.changeHistories) {
            const ms = parseJiraTime(change.created);
            if (ms === null || ms < since) continue;
            const at = new Date(ms).toISOString();
            for (const item of change.items) {
              const field = item.fieldId ?? item.field;
              if (field === 'status') {
                statusChanges.push({ h, at, id: item.to ?? null, name: item.toString ?? null });
              } else if (field === 'duedate') {
                h.due.push({ at, from: dueOf(item.from, item.fromString), to: dueOf(item.to, item.toString) });
              } else if (isParent(item)) {
                h.parent.push({
                  at,
                  from: parentRef(item.from, item.fromString),
                  to: parentRef(item.to, item.toString),
                });
              }
            }
          }
          byIssue.set(log.issueId, h);
        }
        token = page.nextPageToken ?? undefined;
      } while (token);
      if (!refreshed && statusChanges.some((c) => categoryOf(c.id, c.name) === undefined)) {
        categoryOf = await categories(true);
        refreshed = true;
      }
      for (const c of statusChanges) {
        const to = categoryOf(c.id, c.name);
        if (to) c.h.transitions.push({ at: c.at, to });
      }
      const keyOf = await parentKeys([...byIssue.values()].flatMap((h) => h.parent.flatMap((c) => [c.from, c.to])));
      // The changelog names issues by id; an item asked for by key (id unknown) is matched by key.
      const out: ItemHistory[] = batch.map(({ key, id }) => {
        const h = byIssue.get(id ?? key) ?? { transitions: [], due: [], parent: [] };
        const byTime = <T extends { at: string }>(a: T, b: T) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
        h.transitions.sort(byTime);
        return {
          key,
          mode: 'replace' as const,
          transitions: h.transitions,
          due: valuesOf(h.due.sort(byTime), opts.since),
          parent: valuesOf(
            h.parent.sort(byTime).map((c) => ({ at: c.at, from: keyOf(c.from), to: keyOf(c.to) })),
            opts.since,
          ),
        };
      });
      await opts.onHistories(out);
    }
    return { cursor: JSON.stringify({ v: 1, readAt } satisfies Cursor) };

    /** Keys of the parents changes name, by id where the change gave no key (a parent out of reach reads as none). */
    async function parentKeys(refs: ParentRef[]): Promise<(r: ParentRef) => string | null> {
      const unknown = [...new Set(refs.flatMap((r) => (r && 'id' in r && !keyById.has(r.id) ? [r.id] : [])))];
      const found = unknown.length > 0 && opts.keysOf ? await opts.keysOf(unknown) : new Map<string, string>();
      return (r) => (r === null ? null : 'key' in r ? r.key : (keyById.get(r.id) ?? found.get(r.id) ?? null));
    }
  }

  return { history };
}

/**
 * A field's values over time from its changes: the value the first change replaced, held from the
 * horizon (nothing changed it between), then each change's new value from its instant.
 */
function valuesOf(changes: readonly { at: string; from: string | null; to: string | null }[], since: string) {
  if (changes.length === 0) return [];
  const out: FieldValue[] = [{ at: new Date(Date.parse(since)).toISOString(), value: changes[0]!.from }];
  for (const c of changes) out.push({ at: c.at, value: c.to });
  return out;
}

/** Jira's `2026-01-05T10:00:00.000+0000` (no colon in the offset), or ISO. */
export function parseJiraTime(s: string): number | null {
  const iso = s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}
