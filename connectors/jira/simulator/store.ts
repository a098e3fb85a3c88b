// The simulator's data: issues as Jira Cloud returns them, their status history, comments, and
// the admin webhooks registered against it. Every change bumps `updated`, records a changelog
// entry and announces itself to the listener that turns it into webhook deliveries.

import { issueTypeJson, jiraTime, PEOPLE, statusJson, userJson } from './catalog.ts';
import type {
  ChangeOptions,
  NewIssue,
  SimComment,
  SimEvent,
  SimHistory,
  SimIssue,
  SimUser,
  SimWebhook,
} from './model.ts';

export {
  BOT_USER,
  CUSTOM_FIELDS,
  ISSUE_TYPES,
  issueTypeJson,
  jiraTime,
  PEOPLE,
  STATUSES,
  statusJson,
  userJson,
} from './catalog.ts';

export type {
  ChangeOptions,
  NewIssue,
  SimComment,
  SimEvent,
  SimHistory,
  SimIssue,
  SimUser,
  SimWebhook,
} from './model.ts';

export function createStore(opts: {
  site: () => string;
  now: () => number;
  searchLagMs: () => number;
  emit: (e: SimEvent) => void;
}) {
  const issues = new Map<string, SimIssue>();
  const byId = new Map<string, SimIssue>();
  const webhooks = new Map<number, SimWebhook>();
  const counters = new Map<string, number>();
  let nextId = 10_000;
  let nextHistory = 100_000;
  let nextComment = 20_000;
  let nextWebhook = 1;
  // Bumped by every change search could see (membership, order, `updated`), so search can keep
  // its sorted results while nothing changed. Changes must go through these functions: an issue
  // edited in place through `liveIssue` is not noticed.
  let version = 0;

  const cloneIssue = (i: SimIssue): SimIssue => structuredClone(i);

  function withParent(fields: Record<string, unknown>, parentKey: string | undefined): void {
    if (!parentKey) return;
    const p = issues.get(parentKey);
    if (!p) throw new Error(`no parent ${parentKey}`);
    fields.parent = {
      id: p.id,
      key: p.key,
      self: `${opts.site()}/rest/api/3/issue/${p.id}`,
      fields: { summary: p.fields.summary, status: p.fields.status, issuetype: p.fields.issuetype },
    };
  }

  /** The `parent` field naming an issue (its key, or `{ key }` / `{ id }` as the REST API takes it); null unsets it. */
  function parentJson(v: unknown): Record<string, unknown> | null {
    if (v === null || v === undefined) return null;
    const o = typeof v === 'object' ? (v as { key?: string; id?: string }) : { key: String(v) };
    const p = (o.key ? issues.get(o.key) : undefined) ?? (o.id ? byId.get(o.id) : undefined);
    if (!p) throw new Error(`no parent ${o.key ?? o.id}`);
    const fields: Record<string, unknown> = {};
    withParent(fields, p.key);
    return fields.parent as Record<string, unknown>;
  }

  /** Inserts an issue exactly as given (seeding from captured data); no event. */
  function insertRaw(
    raw: { id?: string; key: string; fields: Record<string, unknown>; histories?: SimHistory[] },
    searchable = true,
  ): SimIssue {
    const id = raw.id ?? String(nextId++);
    nextId = Math.max(nextId, Number(id) + 1);
    const issue: SimIssue = {
      id,
      key: raw.key,
      fields: structuredClone(raw.fields),
      histories: raw.histories ?? [],
      comments: [],
      searchableAt: searchable ? 0 : opts.now() + opts.searchLagMs(),
    };
    const [project, n] = raw.key.split('-');
    counters.set(project!, Math.max(counters.get(project!) ?? 0, Number(n)));
    issues.set(issue.key, issue);
    byId.set(issue.id, issue);
    version++;
    return issue;
  }

  function createIssue(input: NewIssue, change: ChangeOptions & { emit?: boolean } = {}): SimIssue {
    const at = change.at ?? opts.now();
    const n = (counters.get(input.project) ?? 0) + 1;
    counters.set(input.project, n);
    const site = opts.site();
    const fields: Record<string, unknown> = {
      summary: input.summary,
      issuetype: issueTypeJson(input.issuetype, site),
      status: statusJson(input.status ?? 'To Do', site),
      project: {
        self: `${site}/rest/api/3/project/${input.project}`,
        id: String(10_000 + input.project.length),
        key: input.project,
        name: input.project,
      },
      created: jiraTime(at),
      updated: jiraTime(at),
      statuscategorychangedate: jiraTime(at),
      assignee: null,
      reporter: userJson(change.actor ?? PEOPLE[0]!, site),
      priority: { self: `${site}/rest/api/3/priority/3`, id: '3', name: 'Medium' },
      labels: [],
      resolutiondate: null,
      duedate: null,
      issuelinks: [],
      timetracking: {},
    };
    for (const [k, v] of Object.entries(input.fields ?? {})) {
      fields[k] = v && typeof v === 'object' && 'accountId' in v ? userJson(v as SimUser, site) : v;
    }
    withParent(fields, input.parent);
    const issue = insertRaw({ key: `${input.project}-${n}`, fields }, false);
    issue.searchableAt = at + opts.searchLagMs();
    version++;
    if (change.emit !== false) {
      opts.emit({
        kind: 'issue',
        event: 'jira:issue_created',
        typeName: 'issue_created',
        issue: cloneIssue(issue),
        actor: change.actor ?? PEOPLE[0]!,
        changelog: null,
      });
    }
    return issue;
  }

  function get(keyOrId: string): SimIssue | undefined {
    return issues.get(keyOrId) ?? byId.get(keyOrId);
  }

  function mustGet(keyOrId: string): SimIssue {
    const i = get(keyOrId);
    if (!i) throw new Error(`no issue ${keyOrId}`);
    return i;
  }

  const display = (v: unknown): string | null => {
    if (v === null || v === undefined) return null;
    if (Array.isArray(v)) return v.map((x) => display(x)).join(' ');
    if (typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return String(o.name ?? o.displayName ?? o.value ?? o.key ?? JSON.stringify(v));
    }
    return String(v);
  };

  /**
   * Changes fields as a person (or the API user) would: `status` by name, users as SimUser, any
   * other raw field value. Bumps `updated`, records history, emits `jira:issue_updated`.
   */
  function updateIssue(
    keyOrId: string,
    patch: Record<string, unknown>,
    change: ChangeOptions & { emit?: boolean } = {},
  ): SimIssue {
    const issue = mustGet(keyOrId);
    const at = Math.max(change.at ?? opts.now(), Date.parse(String(issue.fields.updated).replace('+0000', 'Z')) + 1);
    const site = opts.site();
    const actor = change.actor ?? PEOPLE[0]!;
    const history: SimHistory = { id: String(nextHistory++), created: jiraTime(at), author: actor, items: [] };
    for (const [field, raw] of Object.entries(patch)) {
      let value = raw;
      if (field === 'status') value = statusJson(String(raw), site);
      else if (field === 'parent') value = parentJson(raw);
      else if (value && typeof value === 'object' && 'accountId' in value && !('self' in value))
        value = userJson(value as SimUser, site);
      const before = issue.fields[field];
      if (field === 'parent') {
        // Jira Cloud logs a new parent as IssueParentAssociation, without a fieldId: issue ids in
        // from/to, keys in the strings.
        const from = before as { id: string; key: string } | null | undefined;
        const to = value as { id: string; key: string } | null;
        if ((from?.key ?? null) === (to?.key ?? null)) continue;
        history.items.push({
          field: 'IssueParentAssociation',
          fieldtype: 'jira',
          from: from?.id ?? null,
          fromString: from?.key ?? null,
          to: to?.id ?? null,
          toString: to?.key ?? null,
        });
        issue.fields.parent = to;
        continue;
      }
      if (JSON.stringify(before) === JSON.stringify(value)) continue;
      if (field === 'duedate') {
        // A date's raw value is the day; its string Jira's timestamp rendering of it.
        const day = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 10) : null);
        history.items.push({
          field: 'duedate',
          fieldtype: 'jira',
          fieldId: 'duedate',
          from: day(before),
          fromString: day(before) && `${day(before)} 00:00:00.0`,
          to: day(value),
          toString: day(value) && `${day(value)} 00:00:00.0`,
        });
        issue.fields.duedate = value;
        continue;
      }
      if (field === 'status') {
        const from = before as { id: string; name: string; statusCategory: { key: string } };
        const to = value as { id: string; name: string; statusCategory: { key: string } };
        if (from.statusCategory.key !== to.statusCategory.key) issue.fields.statuscategorychangedate = jiraTime(at);
        issue.fields.resolutiondate = to.statusCategory.key === 'done' ? jiraTime(at) : null;
        history.items.push({
          field: 'status',
          fieldtype: 'jira',
          fieldId: 'status',
          from: from.id,
          fromString: from.name,
          to: to.id,
          toString: to.name,
        });
      } else {
        history.items.push({
          field,
          fieldtype: field.startsWith('customfield_') ? 'custom' : 'jira',
          fieldId: field,
          from: null,
          fromString: display(before),
          to: null,
          toString: display(value),
        });
      }
      issue.fields[field] = value;
    }
    if (history.items.length === 0) return issue;
    issue.fields.updated = jiraTime(at);
    issue.histories.push(history);
    version++;
    if (change.emit !== false) {
      opts.emit({
        kind: 'issue',
        event: 'jira:issue_updated',
        typeName: history.items.some((i) => i.field === 'status') ? 'issue_generic' : 'issue_updated',
        issue: cloneIssue(issue),
        actor,
        changelog: history,
      });
    }
    return issue;
  }

  /**
   * Deletes an issue as Jira does: its links go with it (DefaultIssueDeleteHelper removes them
   * with IssueLinkManager.removeIssueLinksNoChangeItems), so the issues it was linked to no
   * longer list it in `issuelinks`, with no changelog entry and no `updated` bump on them, and
   * no event of their own: an incremental pull by `updated` never reads them again for it.
   */
  function deleteIssue(keyOrId: string, change: ChangeOptions = {}): void {
    const issue = mustGet(keyOrId);
    issues.delete(issue.key);
    byId.delete(issue.id);
    for (const other of issues.values()) {
      const links = other.fields.issuelinks as { inwardIssue?: { id: string }; outwardIssue?: { id: string } }[];
      if (!Array.isArray(links)) continue;
      const kept = links.filter((l) => (l.inwardIssue ?? l.outwardIssue)?.id !== issue.id);
      if (kept.length !== links.length) other.fields.issuelinks = kept;
    }
    version++;
    opts.emit({
      kind: 'issue',
      event: 'jira:issue_deleted',
      typeName: 'issue_deleted',
      issue: cloneIssue(issue),
      actor: change.actor ?? PEOPLE[0]!,
      changelog: null,
    });
  }

  function touch(issue: SimIssue, at: number): void {
    issue.fields.updated = jiraTime(Math.max(at, Date.parse(String(issue.fields.updated).replace('+0000', 'Z')) + 1));
    version++;
  }

  function addComment(keyOrId: string, body: unknown, change: ChangeOptions = {}): SimComment {
    const issue = mustGet(keyOrId);
    const at = change.at ?? opts.now();
    const actor = change.actor ?? PEOPLE[0]!;
    const c: SimComment = {
      id: String(nextComment++),
      body,
      author: actor,
      updateAuthor: actor,
      created: jiraTime(at),
      updated: jiraTime(at),
    };
    issue.comments.push(c);
    touch(issue, at);
    opts.emit({
      kind: 'comment',
      event: 'comment_created',
      issue: cloneIssue(issue),
      comment: structuredClone(c),
      actor,
    });
    return c;
  }

  function updateComment(
    keyOrId: string,
    commentId: string,
    body: unknown,
    change: ChangeOptions = {},
  ): SimComment | null {
    const issue = mustGet(keyOrId);
    const c = issue.comments.find((x) => x.id === commentId);
    if (!c) return null;
    const at = change.at ?? opts.now();
    c.body = body;
    c.updateAuthor = change.actor ?? PEOPLE[0]!;
    c.updated = jiraTime(at);
    touch(issue, at);
    opts.emit({
      kind: 'comment',
      event: 'comment_updated',
      issue: cloneIssue(issue),
      comment: structuredClone(c),
      actor: c.updateAuthor,
    });
    return c;
  }

  function deleteComment(keyOrId: string, commentId: string, change: ChangeOptions = {}): boolean {
    const issue = mustGet(keyOrId);
    const idx = issue.comments.findIndex((x) => x.id === commentId);
    if (idx < 0) return false;
    const [c] = issue.comments.splice(idx, 1);
    touch(issue, change.at ?? opts.now());
    opts.emit({
      kind: 'comment',
      event: 'comment_deleted',
      issue: cloneIssue(issue),
      comment: c!,
      actor: change.actor ?? PEOPLE[0]!,
    });
    return true;
  }

  function registerWebhook(w: {
    url: string;
    secret?: string | null;
    events?: string[];
    name?: string;
    filters?: Record<string, string>;
  }): SimWebhook {
    const hook: SimWebhook = {
      id: nextWebhook++,
      name: w.name ?? 'webhook',
      url: w.url,
      events: w.events ?? [],
      secret: w.secret ?? null,
      filters: w.filters ?? {},
    };
    webhooks.set(hook.id, hook);
    return hook;
  }

  /** Boards and the saved filters they show (a board is a filter, as in Jira Software). */
  const boards = new Map<number, { id: number; name: string; type: 'scrum' | 'kanban'; filterId: string }>();
  const filters = new Map<string, { id: string; name: string; jql: string }>();

  function addBoard(input: { name: string; jql: string; type?: 'scrum' | 'kanban' }): { id: number; filterId: string } {
    const filterId = String(10_000 + filters.size);
    filters.set(filterId, { id: filterId, name: `Filter for ${input.name}`, jql: input.jql });
    const id = boards.size + 1;
    boards.set(id, { id, name: input.name, type: input.type ?? 'scrum', filterId });
    return { id, filterId };
  }

  return {
    insertRaw,
    createIssue,
    updateIssue,
    deleteIssue,
    addComment,
    updateComment,
    deleteComment,
    /** A copy of the issue as stored, or undefined. */
    getIssue: (keyOrId: string) => {
      const i = get(keyOrId);
      return i ? cloneIssue(i) : undefined;
    },
    /** Live issues (the server reads these; tests should prefer `getIssue`). */
    liveIssue: get,
    all: () => [...issues.values()],
    size: () => issues.size,
    /** Changes so far; equal values mean search would find the same issues in the same order. */
    version: () => version,
    registerWebhook,
    /** Sends an event to the webhook targets (used by helpers that change several issues at once). */
    announce: (e: SimEvent) => opts.emit(e),
    webhooks: () => [...webhooks.values()],
    webhook: (id: number) => webhooks.get(id),
    removeWebhook: (id: number) => webhooks.delete(id),
    addBoard,
    board: (id: number) => boards.get(id),
    filter: (id: string) => filters.get(id),
    /** Changes a saved filter's JQL (a board's issues change with it). */
    setFilterJql: (id: string, jql: string) => {
      const f = filters.get(id);
      if (!f) throw new Error(`no filter ${id}`);
      f.jql = jql;
    },
  };
}
export type JiraSimStore = ReturnType<typeof createStore>;
