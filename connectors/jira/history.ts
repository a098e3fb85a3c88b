// Status histories from Jira's changelog: `POST /rest/api/3/changelog/bulkfetch` for up to 1,000
// issues a request, pages of up to 10,000 change histories, only the `status` field asked for.
// Status ids in the changelog are turned into categories through `GET /rest/api/3/status`, read
// once per call: a status no current issue has still has a category there.
import { z } from 'zod';
import type { HistoryOptions, ItemHistory, StatusTransition } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { JiraApi } from './client.ts';
import type { JiraConnection } from './config.ts';
import { statusCategoryOf } from './map.ts';
import { CHANGELOG_ISSUES_MAX, CHANGELOG_PAGE } from './read.ts';
import { JiraBulkChangelog } from './schema.ts';

export const JiraStatusList = z.array(
  z.looseObject({ id: z.string(), name: z.string(), statusCategory: z.looseObject({ key: z.string() }) }),
);

interface Cursor {
  v: 1;
  /** When the last history read started: the next one only needs the issues changed since. */
  readAt: string;
}

export function createJiraHistory(deps: { api: JiraApi; config: JiraConnection; now: () => number }) {
  const { api, config } = deps;

  async function categories() {
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
    return (id: string | null | undefined, name: string | null | undefined) =>
      (id ? byId.get(id) : undefined) ?? (name ? byName.get(name.toLowerCase()) : undefined);
  }

  /**
   * Reads the status changes since `since` of `keys` (every in-scope issue on a backfill, the
   * changed ones after), 1,000 issues a request: ⌈keys/1000⌉ requests when each thousand has
   * fewer than 10,000 status changes, which is the fewest the endpoint allows.
   */
  async function history(opts: HistoryOptions): Promise<{ cursor: string }> {
    const readAt = new Date(deps.now()).toISOString();
    if (opts.items.length === 0) return { cursor: JSON.stringify({ v: 1, readAt } satisfies Cursor) };
    const categoryOf = await categories();
    const since = Date.parse(opts.since);
    for (let i = 0; i < opts.items.length; i += CHANGELOG_ISSUES_MAX) {
      const batch = opts.items.slice(i, i + CHANGELOG_ISSUES_MAX);
      const byIssue = new Map<string, StatusTransition[]>();
      let token: string | undefined;
      do {
        opts.signal?.throwIfAborted();
        const page = validateReply(
          JiraBulkChangelog,
          await api.issues.getBulkChangelogs({
            issueIdsOrKeys: batch.map((x) => x.id ?? x.key),
            fieldIds: ['status'],
            maxResults: CHANGELOG_PAGE,
            nextPageToken: token,
          }),
          'POST changelog/bulkfetch',
          { tracker: 'jira', connection: config.id },
        );
        for (const log of page.issueChangeLogs) {
          const list = byIssue.get(log.issueId) ?? [];
          for (const h of log.changeHistories) {
            const at = parseJiraTime(h.created);
            if (at === null || at < since) continue;
            for (const item of h.items) {
              if ((item.fieldId ?? item.field) !== 'status') continue;
              const to = categoryOf(item.to, item.toString);
              if (to) list.push({ at: new Date(at).toISOString(), to });
            }
          }
          byIssue.set(log.issueId, list);
        }
        token = page.nextPageToken ?? undefined;
      } while (token);
      // The changelog names issues by id; an item asked for by key (id unknown) is matched by key.
      const out: ItemHistory[] = batch.map(({ key, id }) => {
        const transitions = byIssue.get(id ?? key) ?? [];
        transitions.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
        return { key, mode: 'replace' as const, transitions };
      });
      await opts.onHistories(out);
    }
    return { cursor: JSON.stringify({ v: 1, readAt } satisfies Cursor) };
  }

  return { history };
}

/** Jira's `2026-01-05T10:00:00.000+0000` (no colon in the offset), or ISO. */
export function parseJiraTime(s: string): number | null {
  const iso = s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}
