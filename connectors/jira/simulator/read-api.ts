// The simulator's read side: issue, comment and changelog JSON as Jira shapes it, the enhanced
// JQL search with keyset nextPageTokens and Jira's page caps, and the bulk changelog fetch.
import { JqlError, parseJql } from './jql.ts';
import { createSearchResults, firstAfter } from './search.ts';
import type { JiraSimStore, SimComment, SimIssue } from './store.ts';
import { userJson } from './store.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}
export const notFoundIssue = () =>
  new HttpError(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
export const badRequest = (msg: string) => new HttpError(400, { errorMessages: [msg], errors: {} });

export function createReadApi(deps: { store: JiraSimStore; site: () => string; now: () => number }) {
  const { store } = deps;
  const ranked = createSearchResults(store);
  const issueJson = (i: SimIssue, fields: string[] | null) => {
    const all = !fields || fields.length === 0 || fields.some((f) => f === '*all' || f === '*navigable');
    const picked = all
      ? i.fields
      : Object.fromEntries(fields.filter((f) => f in i.fields).map((f) => [f, i.fields[f]]));
    return {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: i.id,
      self: `${deps.site()}/rest/api/3/issue/${i.id}`,
      key: i.key,
      fields: picked,
    };
  };
  const commentJson = (i: SimIssue, c: SimComment) => ({
    self: `${deps.site()}/rest/api/3/issue/${i.id}/comment/${c.id}`,
    id: c.id,
    author: userJson(c.author, deps.site()),
    body: c.body,
    updateAuthor: userJson(c.updateAuthor, deps.site()),
    created: c.created,
    updated: c.updated,
    jsdPublic: true,
  });
  const historyJson = (h: SimIssue['histories'][number]) => ({
    id: h.id,
    author: userJson(h.author, deps.site()),
    created: h.created,
    items: h.items,
  });
  const fieldsParam = (v: unknown): string[] | null =>
    v === undefined || v === null
      ? null
      : Array.isArray(v)
        ? v.map(String)
        : String(v)
            .split(',')
            .map((s) => s.trim());
  const mustIssue = (key: string) =>
    store.liveIssue(key) ??
    (() => {
      throw notFoundIssue();
    })();

  function search(params: { jql?: unknown; nextPageToken?: unknown; maxResults?: unknown; fields?: unknown }) {
    const jql = String(params.jql ?? '');
    let q: ReturnType<typeof parseJql>;
    try {
      q = parseJql(jql);
    } catch (e) {
      throw badRequest(e instanceof JqlError ? e.message : 'Error in the JQL Query.');
    }
    const { order, list } = ranked.results(jql, q, deps.now());
    let start = 0;
    if (params.nextPageToken) {
      // Keyset token: the position after the last issue sent, so edits while paging never shift pages.
      let after: { q: string; t: (string | number)[] };
      try {
        after = JSON.parse(Buffer.from(String(params.nextPageToken), 'base64url').toString('utf8'));
      } catch {
        throw badRequest('Invalid nextPageToken.');
      }
      if (after.q !== jql) throw badRequest('The nextPageToken does not belong to this query.');
      const flags = order.flatMap((o) => [o.desc, o.desc]);
      start = firstAfter(
        list,
        after.t.map((v, k) => ({ v, desc: flags[k] ?? false })),
      );
    }
    const fields = fieldsParam(params.fields);
    const idsOnly = fields !== null && fields.length > 0 && fields.every((f) => f === 'id' || f === 'key');
    const cap = idsOnly ? 5000 : 100;
    const size = Math.max(1, Math.min(Number(params.maxResults ?? 50) || 50, cap));
    const page = list.slice(start, start + size);
    const more = start + size < list.length;
    const token = more
      ? Buffer.from(JSON.stringify({ q: jql, t: page.at(-1)!.t.map((x) => x.v) })).toString('base64url')
      : undefined;
    return {
      issues: page.map(({ i }) =>
        idsOnly
          ? { id: i.id, key: i.key, self: `${deps.site()}/rest/api/3/issue/${i.id}`, fields: {} }
          : issueJson(i, fields),
      ),
      ...(token ? { nextPageToken: token } : {}),
      isLast: !more,
    };
  }

  function changelogBulk(body: {
    issueIdsOrKeys?: string[];
    fieldIds?: string[];
    maxResults?: number;
    nextPageToken?: string;
  }) {
    const ids = body.issueIdsOrKeys ?? [];
    if (ids.length < 1 || ids.length > 1000) throw badRequest('issueIdsOrKeys must list between 1 and 1000 issues.');
    const max = Math.min(Math.max(1, body.maxResults ?? 1000), 10_000);
    const only = body.fieldIds?.length ? new Set(body.fieldIds) : null;
    const entries = ids
      .map((k) => store.liveIssue(k))
      .filter((i): i is SimIssue => !!i)
      .flatMap((i) =>
        i.histories
          .map((h) => ({
            ...h,
            items: h.items.filter(
              (it) => !only || (it.fieldId !== undefined && only.has(it.fieldId)) || only.has(it.field),
            ),
          }))
          .filter((h) => h.items.length)
          .map((h) => ({ issueId: i.id, h })),
      )
      .sort((a, b) =>
        a.h.created === b.h.created ? Number(a.issueId) - Number(b.issueId) : a.h.created < b.h.created ? -1 : 1,
      );
    const start = body.nextPageToken ? Number(Buffer.from(body.nextPageToken, 'base64url').toString('utf8')) : 0;
    const page = entries.slice(start, start + max);
    const grouped = new Map<string, ReturnType<typeof historyJson>[]>();
    for (const e of page) grouped.set(e.issueId, [...(grouped.get(e.issueId) ?? []), historyJson(e.h)]);
    const next = start + max < entries.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return {
      issueChangeLogs: [...grouped].map(([issueId, changeHistories]) => ({ issueId, changeHistories })),
      ...(next ? { nextPageToken: next } : {}),
    };
  }

  return { issueJson, commentJson, historyJson, fieldsParam, mustIssue, search, changelogBulk };
}
