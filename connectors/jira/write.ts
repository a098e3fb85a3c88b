// Writing to Jira: the one bot comment per item, label add/remove operations, configured fields
// and admin webhook registration. Every write first reads what is there, so a write that would
// change nothing is never sent (convergence), and the transport paces per-issue writes.

import { NotFoundError } from '../../src/core/errors.ts';
import type {
  DeleteCommentInput,
  EnsureCommentInput,
  EnsureCommentResult,
  FieldChange,
  LabelChange,
  WebhookRegistration,
} from '../types.ts';
import { validateReply } from '../validate.ts';
import type { JiraApi, JiraTransport } from './client.ts';
import { hasMarker, renderAdf, sameBody } from './comment.ts';
import type { JiraConnection } from './config.ts';
import { scopeJql } from './read.ts';
import { JiraAdminWebhook, JiraAdminWebhookList, JiraComment, JiraCommentPage } from './schema.ts';

/** Events pmo-sync needs to re-check an item seconds after it changes. */
export const WEBHOOK_EVENTS = [
  'jira:issue_created',
  'jira:issue_updated',
  'jira:issue_deleted',
  'comment_created',
  'comment_updated',
  'comment_deleted',
  'issuelink_created',
  'issuelink_deleted',
];

const COMMENT_PAGE = 100;

export interface WriterDeps {
  api: JiraApi;
  transport: JiraTransport;
  config: JiraConnection;
  /** Our account id (asks Jira once when not yet known). */
  selfAccountId: () => Promise<string>;
}

const isNotFound = (e: unknown) => e instanceof NotFoundError;

export function createWriter({ api, transport, config, selfAccountId }: WriterDeps) {
  const id = config.id;

  async function getComment(key: string, commentId: string): Promise<JiraComment | null> {
    try {
      return validateReply(
        JiraComment,
        await api.issueComments.getComment({ issueIdOrKey: key, id: commentId }),
        'GET comment',
        { tracker: 'jira', connection: id },
      );
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /**
   * The bot's comment found by its marker. Only comments we wrote count: a person quoting the
   * marker must not have their comment taken over (Jira would refuse the edit anyway).
   */
  async function findByMarker(key: string, marker: string): Promise<JiraComment | null> {
    const me = await selfAccountId();
    for (let startAt = 0; ; startAt += COMMENT_PAGE) {
      const page = validateReply(
        JiraCommentPage,
        await api.issueComments.getComments({ issueIdOrKey: key, startAt, maxResults: COMMENT_PAGE }),
        'GET issue/{key}/comment',
        { tracker: 'jira', connection: id },
      );
      const mine = page.comments.find((c) => c.author?.accountId === me && hasMarker(c.body, marker));
      if (mine) return mine;
      if (page.comments.length === 0 || startAt + page.comments.length >= page.total) return null;
    }
  }

  async function ensureComment(input: EnsureCommentInput): Promise<EnsureCommentResult> {
    const body = renderAdf(input.doc);
    const existing =
      (input.commentId ? await getComment(input.key, input.commentId) : null) ??
      (await findByMarker(input.key, input.doc.marker));
    if (!existing) {
      const created = validateReply(
        JiraComment,
        await api.issueComments.addComment({ issueIdOrKey: input.key, body: body as never }),
        'POST issue/{key}/comment',
        { tracker: 'jira', connection: id },
      );
      return { outcome: 'created', commentId: created.id };
    }
    if (sameBody(existing.body, body)) return { outcome: 'unchanged', commentId: existing.id };
    // jira.js takes the comment bean here (`{ body: <ADF> }`), unlike addComment.
    await api.issueComments.updateComment({ issueIdOrKey: input.key, id: existing.id, body: { body } as never });
    return { outcome: 'updated', commentId: existing.id };
  }

  async function deleteComment(input: DeleteCommentInput): Promise<'deleted' | 'absent'> {
    const target =
      (input.commentId ? await getComment(input.key, input.commentId) : null) ??
      (await findByMarker(input.key, input.marker));
    if (!target) return 'absent';
    try {
      await api.issueComments.deleteComment({ issueIdOrKey: input.key, id: target.id });
      return 'deleted';
    } catch (e) {
      // Somebody deleted it between our read and our delete: the outcome is the same.
      if (isNotFound(e)) return 'absent';
      throw e;
    }
  }

  async function currentFields(key: string, fields: string[]): Promise<Record<string, unknown>> {
    const issue = (await api.issues.getIssue({ issueIdOrKey: key, fields })) as { fields?: Record<string, unknown> };
    return issue.fields ?? {};
  }

  async function updateLabels(change: LabelChange): Promise<'updated' | 'unchanged'> {
    const current = await currentFields(change.key, ['labels']);
    const labels = new Set(Array.isArray(current.labels) ? (current.labels as string[]) : []);
    const add = [...new Set(change.add)].filter((l) => !labels.has(l));
    const remove = [...new Set(change.remove)].filter((l) => labels.has(l) && !change.add.includes(l));
    if (add.length === 0 && remove.length === 0) return 'unchanged';
    // `update.labels` operations, never `fields.labels`: a label a person adds meanwhile survives.
    await api.issues.editIssue({
      issueIdOrKey: change.key,
      update: { labels: [...add.map((l) => ({ add: l })), ...remove.map((l) => ({ remove: l }))] },
    });
    return 'updated';
  }

  async function updateFields(change: FieldChange): Promise<'updated' | 'unchanged'> {
    const ids = Object.keys(change.fields);
    if (ids.length === 0) return 'unchanged';
    const current = await currentFields(change.key, ids);
    const plain = (v: unknown) =>
      v && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : (v ?? null);
    const changed = Object.fromEntries(Object.entries(change.fields).filter(([f, v]) => plain(current[f]) !== v));
    if (Object.keys(changed).length === 0) return 'unchanged';
    await api.issues.editIssue({ issueIdOrKey: change.key, fields: changed });
    return 'updated';
  }

  /** Admin webhooks (`/rest/webhooks/1.0/webhook`): the only kind Jira signs with a secret. */
  async function installWebhooks(input: { url: string; secret?: string }): Promise<WebhookRegistration[]> {
    const list = validateReply(
      JiraAdminWebhookList,
      await transport.sendRequest({ url: '/rest/webhooks/1.0/webhook', method: 'GET' }),
      'GET webhook',
      { tracker: 'jira', connection: id },
    );
    const idOf = (self: string | undefined) => self?.split('/').pop() ?? '';
    const mine = list.find((w) => w.url === input.url);
    // Issue events are filtered to the scope's JQL, so another project's changes are never
    // sent here; a registration whose filter is not the current scope's is refreshed.
    const filter = scopeJql(config.scope);
    const current = mine?.filters?.['issue-related-events-section'] === filter;
    if (mine && current && WEBHOOK_EVENTS.every((e) => mine.events.includes(e)) && !input.secret) {
      return [{ id: idOf(mine.self), action: 'unchanged', url: mine.url, events: mine.events, expiresAt: null }];
    }
    const body = {
      name: `pmo-sync ${id}`,
      url: input.url,
      events: WEBHOOK_EVENTS,
      filters: { 'issue-related-events-section': filter },
      excludeBody: false,
      ...(input.secret ? { secret: input.secret } : {}),
    };
    if (mine) {
      // Jira does not return the secret, so a registration with one is refreshed to be sure it matches.
      await transport.sendRequest({ url: `/rest/webhooks/1.0/webhook/${idOf(mine.self)}`, method: 'PUT', body });
      return [{ id: idOf(mine.self), action: 'refreshed', url: input.url, events: WEBHOOK_EVENTS, expiresAt: null }];
    }
    const created = validateReply(
      JiraAdminWebhook,
      await transport.sendRequest({ url: '/rest/webhooks/1.0/webhook', method: 'POST', body }),
      'POST webhook',
      { tracker: 'jira', connection: id },
    );
    return [{ id: idOf(created.self), action: 'created', url: created.url, events: created.events, expiresAt: null }];
  }

  return { ensureComment, deleteComment, updateLabels, updateFields, installWebhooks };
}
