// Write-back: the bot comment (Comments API) and tags/fields (JSON Patch guarded by a `test` on
// `/rev`). A failed revision test means a person changed the item since we read it: we re-read and
// re-plan from their version, a bounded number of times, and never overwrite their edit.

// Installing our service hook subscriptions is a write to the organisation too, so it lives here.
import { ConflictError, ConnectorError } from '../../src/core/errors.ts';
import type {
  DeleteCommentInput,
  EnsureCommentInput,
  EnsureCommentResult,
  FieldChange,
  LabelChange,
  WebhookRegistration,
} from '../types.ts';
import { validateReply } from '../validate.ts';
import { type AdoClient, TRACKER } from './client.ts';
import { commentHash, readFooter, renderComment } from './comment.ts';
import type { AdoConnection } from './config.ts';
import { LOCATIONS } from './locations.ts';
import { joinTags, splitTags } from './map.ts';
import {
  type AdoComment,
  AdoCommentList,
  AdoComment as AdoCommentSchema,
  type AdoIdentity,
  AdoProject,
  AdoSubscriptionList,
  AdoWorkItem,
} from './schema.ts';

export const MAX_CONFLICT_ATTEMPTS = 3;

/** Events pmo-sync needs to re-check an item seconds after it changes. */
export const WEBHOOK_EVENTS = [
  'workitem.created',
  'workitem.updated',
  'workitem.deleted',
  'workitem.restored',
  'workitem.commented',
] as const;

/**
 * The tags after adding and removing ours, others kept in place; `null` when that is the same set.
 * ADO tags are case-insensitive, so "PMO-Red" already satisfies an add of "pmo-red".
 */
export function planTags(
  current: readonly string[],
  add: readonly string[],
  remove: readonly string[],
): string[] | null {
  const lc = (s: string) => s.toLowerCase();
  const drop = new Set(remove.map(lc));
  const next = current.filter((t) => !drop.has(lc(t)));
  for (const t of add) if (!next.some((n) => lc(n) === lc(t))) next.push(t);
  const same = next.length === current.length && next.every((t) => current.some((c) => lc(c) === lc(t)));
  return same ? null : next;
}

type PatchOp = { op: 'test' | 'add' | 'replace' | 'remove'; path: string; value?: unknown };

export interface WriteDeps {
  client: AdoClient;
  config: AdoConnection;
  /** Project of an item, remembered from pulls; read from the item when unknown. */
  projects: Map<string, string>;
  /** Whether an identity is the one pmo-sync writes as (known after whoami). */
  isSelf: (who: AdoIdentity | undefined) => boolean;
  /** Turns a subscription the service put on probation or disabled back on (hook-health.ts). */
  enableWebhook: (input: { id: string }) => Promise<unknown>;
}

export function createWriter({ client, config, projects, isSelf, enableWebhook }: WriteDeps) {
  const wi = LOCATIONS.workItems;
  const cm = LOCATIONS.comments;

  const readItem = async (key: string, fields: readonly string[]) => {
    const reply = await client.call({
      method: 'GET',
      area: wi.area,
      locationId: wi.id,
      apiVersion: wi.apiVersion,
      routeValues: { id: key },
      query: { fields: ['System.TeamProject', ...fields].join(',') },
      what: `read work item ${key}`,
    });
    const item = validateReply(AdoWorkItem, reply.body, `work item ${key}`, client.source);
    const project = item.fields['System.TeamProject'];
    if (typeof project === 'string') projects.set(key, project);
    return item;
  };

  const projectOf = async (key: string) =>
    projects.get(key) ?? String((await readItem(key, [])).fields['System.TeamProject']);

  /**
   * The ids of the scope's projects, for service hook filters; null for a WIQL scope without a
   * project, which may span several (its hooks are org-wide, and checkScope filters events).
   */
  const scopedProjectIds = async (): Promise<string[] | null> => {
    const names =
      'projects' in config.scope ? config.scope.projects : config.scope.project ? [config.scope.project] : null;
    if (!names) return null;
    const l = LOCATIONS.projects;
    const ids: string[] = [];
    for (const name of names) {
      const reply = await client.call({
        method: 'GET',
        area: l.area,
        locationId: l.id,
        apiVersion: l.apiVersion,
        routeValues: { projectId: name },
        what: `read the project "${name}"`,
      });
      ids.push(validateReply(AdoProject, reply.body, 'project', client.source).id);
    }
    return ids;
  };

  /** Reads, plans and patches until the revision test holds; `null` from plan means nothing to do. */
  const patchGuarded = async (
    key: string,
    fields: readonly string[],
    plan: (item: AdoWorkItem) => PatchOp[] | null,
  ): Promise<'updated' | 'unchanged'> => {
    for (let attempt = 1; attempt <= MAX_CONFLICT_ATTEMPTS; attempt++) {
      const item = await readItem(key, fields);
      const ops = plan(item);
      if (!ops || ops.length === 0) return 'unchanged';
      try {
        await client.call({
          method: 'PATCH',
          area: wi.area,
          locationId: wi.id,
          apiVersion: wi.apiVersion,
          routeValues: { id: key },
          body: [{ op: 'test', path: '/rev', value: item.rev }, ...ops],
          contentType: 'application/json-patch+json',
          what: `update work item ${key}`,
        });
        return 'updated';
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt === MAX_CONFLICT_ATTEMPTS) {
          if (err instanceof ConflictError) {
            throw new ConflictError(
              `Azure DevOps (${config.id}): work item ${key} kept changing under us (${attempt} attempts); left as the person edited it`,
              { tracker: TRACKER, connection: config.id, httpStatus: err.httpStatus, cause: err },
            );
          }
          throw err;
        }
      }
    }
    /* c8 ignore next */
    throw new Error('unreachable');
  };

  const commentCall = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    project: string,
    key: string,
    extra: {
      commentId?: string;
      body?: unknown;
      query?: Record<string, string | number>;
      accept?: number[];
      createsSomething?: boolean;
    },
    what: string,
  ) =>
    client.call({
      method,
      area: cm.area,
      locationId: cm.id,
      apiVersion: cm.apiVersion,
      routeValues: { project, workItemId: key, ...(extra.commentId ? { commentId: extra.commentId } : {}) },
      query: extra.query,
      body: extra.body,
      accept: extra.accept,
      createsSomething: extra.createsSomething,
      what,
    });

  // A person may quote our footer in their own comment: only a comment we wrote is ours to edit.
  const ours = (c: AdoComment, marker: string) =>
    !c.isDeleted && readFooter(c.text)?.marker === marker && isSelf(c.createdBy);

  const findComment = async (project: string, key: string, commentId: string | null, marker: string) => {
    if (commentId) {
      const r = await commentCall(
        'GET',
        project,
        key,
        { commentId, accept: [404] },
        `read comment ${commentId} on ${key}`,
      );
      if (r.status !== 404) {
        const c = validateReply(AdoCommentSchema, r.body, 'comment', client.source);
        if (ours(c, marker)) return c;
      }
    }
    let token: string | null | undefined;
    do {
      const query: Record<string, string | number> = { $top: 200 };
      if (token) query.continuationToken = token;
      const r = await commentCall('GET', project, key, { query }, `list comments on ${key}`);
      const page = validateReply(AdoCommentList, r.body, 'comment list', client.source);
      const hit = page.comments.find((c) => ours(c, marker));
      if (hit) return hit;
      token = page.continuationToken;
    } while (token);
    return null;
  };

  return {
    async ensureComment({ key, doc, commentId }: EnsureCommentInput): Promise<EnsureCommentResult> {
      const project = await projectOf(key);
      const html = renderComment(doc);
      const existing = await findComment(project, key, commentId, doc.marker);
      if (existing) {
        const id = String(existing.id);
        if (readFooter(existing.text)?.hash === commentHash(doc)) return { outcome: 'unchanged', commentId: id };
        await commentCall(
          'PATCH',
          project,
          key,
          { commentId: id, body: { text: html } },
          `edit comment ${id} on ${key}`,
        );
        return { outcome: 'updated', commentId: id };
      }
      const r = await commentCall(
        'POST',
        project,
        key,
        { body: { text: html }, createsSomething: true },
        `comment on ${key}`,
      );
      const created = validateReply(AdoCommentSchema, r.body, 'created comment', client.source);
      return { outcome: 'created', commentId: String(created.id) };
    },

    async deleteComment({ key, commentId, marker }: DeleteCommentInput): Promise<'deleted' | 'absent'> {
      const project = await projectOf(key);
      const existing = await findComment(project, key, commentId, marker);
      if (!existing) return 'absent';
      const r = await commentCall(
        'DELETE',
        project,
        key,
        { commentId: String(existing.id), accept: [404] },
        `delete comment ${existing.id} on ${key}`,
      );
      return r.status === 404 ? 'absent' : 'deleted';
    },

    updateLabels({ key, add, remove }: LabelChange): Promise<'updated' | 'unchanged'> {
      return patchGuarded(key, ['System.Tags'], (item) => {
        const current = splitTags(item.fields['System.Tags']);
        const next = planTags(current, add, remove);
        if (next === null) return null;
        if (next.length === 0) return [{ op: 'remove', path: '/fields/System.Tags' }];
        const op = item.fields['System.Tags'] === undefined ? 'add' : 'replace';
        return [{ op, path: '/fields/System.Tags', value: joinTags(next) }];
      });
    },

    updateFields({ key, fields }: FieldChange): Promise<'updated' | 'unchanged'> {
      return patchGuarded(key, Object.keys(fields), (item) => {
        const ops: PatchOp[] = [];
        for (const [ref, value] of Object.entries(fields)) {
          const cur = item.fields[ref];
          if (value === null) {
            if (cur !== undefined && cur !== null) ops.push({ op: 'remove', path: `/fields/${ref}` });
          } else if (cur === undefined || cur === null || String(cur) !== String(value)) {
            ops.push({ op: 'add', path: `/fields/${ref}`, value });
          }
        }
        return ops.length ? ops : null;
      });
    },
    async installWebhooks({ url }: { url: string; secret?: string }): Promise<WebhookRegistration[]> {
      const auth = config.webhookAuth;
      if (!auth) {
        throw new ConnectorError(`Azure DevOps (${config.id}): set webhookAuth before installing service hooks`, {
          tracker: TRACKER,
          connection: config.id,
        });
      }
      // One subscription per event type and scoped project (publisherInputs.projectId): an
      // org-wide hook sent every project's changes here, out of scope ones included.
      const projectIds = await scopedProjectIds();
      const l = LOCATIONS.subscriptions;
      const base = { area: l.area, locationId: l.id, apiVersion: l.apiVersion } as const;
      const list = await client.call({ ...base, method: 'GET', what: 'list service hook subscriptions' });
      const existing = validateReply(AdoSubscriptionList, list.body, 'subscriptions', client.source).value;
      const events: readonly string[] = WEBHOOK_EVENTS;
      const mine = existing.filter((s) => s.consumerInputs?.url === url && events.includes(s.eventType));
      const kept = new Set<string>();
      const out: WebhookRegistration[] = [];
      for (const eventType of WEBHOOK_EVENTS) {
        for (const projectId of projectIds ?? [undefined]) {
          const hit = mine.find(
            (s) => s.eventType === eventType && (s.publisherInputs?.projectId || undefined) === projectId,
          );
          if (hit) {
            kept.add(hit.id);
            // One the service put on probation or disabled delivers nothing: installing turns it back on.
            const off = hit.status === 'onProbation' || hit.status === 'disabledBySystem';
            if (off) await enableWebhook({ id: hit.id });
            out.push({
              id: hit.id,
              action: off ? 'refreshed' : 'unchanged',
              url,
              events: [eventType],
              expiresAt: null,
            });
            continue;
          }
          const created = await client.call({
            ...base,
            method: 'POST',
            body: {
              publisherId: 'tfs',
              eventType,
              resourceVersion: '1.0',
              consumerId: 'webHooks',
              consumerActionId: 'httpRequest',
              publisherInputs: projectId ? { projectId } : {},
              consumerInputs: { url, basicAuthUsername: auth.username, basicAuthPassword: auth.password },
            },
            what: `create the ${eventType} service hook`,
            createsSomething: true,
          });
          const sub = validateReply(
            AdoSubscriptionList.shape.value.element,
            created.body,
            'subscription',
            client.source,
          );
          kept.add(sub.id);
          out.push({ id: sub.id, action: 'created', url, events: [eventType], expiresAt: null });
        }
      }
      // Ours for this URL that the scope no longer names (org-wide, or a project left the scope).
      for (const s of mine) {
        if (kept.has(s.id)) continue;
        await client.call({
          ...base,
          method: 'DELETE',
          routeValues: { subscriptionId: s.id },
          accept: [404],
          what: `delete the service hook ${s.id}`,
        });
        out.push({ id: s.id, action: 'deleted', url, events: [s.eventType], expiresAt: null });
      }
      return out;
    },
  };
}
