// The Azure DevOps Boards connector (issue 4): pulls work items by WIQL + workitemsbatch, maps them
// to the common model, writes the bot comment, tags and fields back, and receives service hooks.
import { ConnectorError, SchemaError } from '../../src/errors.ts';
import type { Person, WorkItem } from '../../src/model/work-item.ts';
import type {
  AdoConnectorDeps,
  Connector,
  MappingDrift,
  PullOptions,
  PullResult,
  UnreadableItem,
  WebhookRegistration,
} from '../types.ts';
import { createAdoCredential } from './auth.ts';
import { type AdoClientOptions, createAdoClient, TRACKER } from './client.ts';
import { createAdoHistory } from './history.ts';
import { createHookHealth } from './hook-health.ts';
import { createIterationCache } from './iterations.ts';
import { LOCATIONS } from './locations.ts';
import { DEFAULT_KINDS, parseIdentity, statusCategoryOf, toWorkItem } from './map.ts';
import {
  AdoConnectionData,
  AdoProject,
  AdoSubscriptionList,
  AdoWiqlResult,
  AdoWorkItem,
  AdoWorkItemBatch,
} from './schema.ts';
import { createAdoScopeCheck } from './scope.ts';
import { createStateCategoryCache } from './states.ts';
import { parseServiceHook, verifyServiceHook } from './webhook.ts';
import { BATCH_MAX, sliceQuery, WIQL_CAP } from './wiql.ts';
import { createWriter } from './write.ts';

export const HOOK_EVENTS = [
  'workitem.created',
  'workitem.updated',
  'workitem.deleted',
  'workitem.restored',
  'workitem.commented',
] as const;

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

function decodeCursor(c: string | null): Cursor {
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

export interface AdoConnectorOptions {
  /** Tuning for tests (retry delays, a fake sleep) and the transport (`fetch` on Workers). */
  client?: Pick<AdoClientOptions, 'retry' | 'sleep' | 'now' | 'timeoutMs' | 'slowdownBelow' | 'transport'>;
  /** The agent Entra ID token requests use (a test authority's own certificate); see auth.ts. */
  entraAgent?: import('node:http').Agent;
}

type Unreadable = (item: UnreadableItem) => void;

export function createAdoConnector(deps: AdoConnectorDeps, options: AdoConnectorOptions = {}): Connector {
  const { config, log, resolveRef } = deps;
  const orgUrl = (deps.baseUrl ?? config.orgUrl).replace(/\/+$/, '');
  const client = createAdoClient({
    orgUrl,
    credential: createAdoCredential(config.auth, {
      connectionId: config.id,
      now: options.client?.now ?? Date.now,
      entraAgent: options.entraAgent,
    }),
    connectionId: config.id,
    limits: config.limits,
    log,
    ...options.client,
  });
  const states = createStateCategoryCache(client);
  const hookHealth = createHookHealth({ client, config, events: HOOK_EVENTS });
  const iterations = createIterationCache(client);
  const revisions = createAdoHistory({ client, config, states });
  const projects = new Map<string, string>();
  const selfIds = new Set<string>();
  const writer = createWriter({
    client,
    config,
    projects,
    isSelf: (who) => {
      const p = parseIdentity(who);
      // Before whoami has answered we cannot tell; writes call whoami first, so this is rare.
      return (
        selfIds.size === 0 || (p !== null && (selfIds.has(p.id.toLowerCase()) || selfIds.has(p.name.toLowerCase())))
      );
    },
  });
  const warnedStates = new Set<string>();
  let self: Promise<Person> | null = null;

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
    const result = client.parse(AdoWiqlResult, reply.body, 'WIQL result');
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
    return client.parse(AdoWiqlResult, reply.body, 'WIQL result').workItems.map((w) => w.id);
  };

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
      ids.push(client.parse(AdoProject, reply.body, 'project').id);
    }
    return ids;
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
    for (const [i, value] of client.parse(AdoWorkItemBatch, reply.body, 'work item batch').value.entries()) {
      if (value === null) continue;
      const r = AdoWorkItem.safeParse(value);
      if (r.success) {
        raws.push(r.data);
        continue;
      }
      // Named as in the whole answer (`value.3.fields`), never by its value.
      const err = new SchemaError(
        `Azure DevOps (${config.id}): work item batch`,
        r.error.issues.map((x) => ({ path: ['value', i, ...x.path].join('.'), message: x.message })),
        { tracker: TRACKER, connection: config.id },
      );
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
    const [categories, sprints] = await Promise.all([states.get(project, type), iterations.get(project)]);
    const state = String(raw.fields['System.State'] ?? '');
    const unknownKey = `${project}\u0000${type}\u0000${state}`;
    if (!categories.has(state) && !warnedStates.has(unknownKey)) {
      warnedStates.add(unknownKey); // once per state, not once per item
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

  const chunks = <T>(xs: readonly T[], n: number): T[][] => {
    const out: T[][] = [];
    for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
    return out;
  };

  const whoami = (): Promise<Person> => {
    if (!self) {
      const l = LOCATIONS.connectionData;
      const p = client
        .call({
          method: 'GET',
          area: l.area,
          locationId: l.id,
          apiVersion: l.apiVersion,
          what: 'read the PAT identity',
        })
        .then((reply) => {
          const u = client.parse(AdoConnectionData, reply.body, 'connection data').authenticatedUser;
          const account = (u.properties?.Account as { $value?: unknown } | undefined)?.$value;
          const name = u.customDisplayName ?? u.providerDisplayName ?? u.id;
          const id = typeof account === 'string' && account ? account : u.id;
          for (const s of [u.id, id, name]) selfIds.add(s.toLowerCase());
          return { id, name };
        });
      self = p;
      p.catch(() => {
        if (self === p) self = null;
      });
    }
    return self;
  };

  const pull = async ({ cursor, onPage, onTotal, onUnreadable, signal }: PullOptions): Promise<PullResult> => {
    iterations.reset();
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
  };

  const connector: Connector = {
    id: config.id,
    tracker: TRACKER,
    whoami,

    // The pull's signal reaches every call it makes, so aborting it ends their waits too.
    pull: (opts: PullOptions) => client.withSignal(opts.signal, () => pull(opts)),

    listKeys: (opts) =>
      client.withSignal(opts?.signal, async () => {
        const keys: string[] = [];
        await eachSlice(NO_CURSOR, async (ids) => void keys.push(...ids.map(String)), opts?.signal);
        return keys;
      }),

    async fetchItems(keys, opts = {}) {
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
    },

    checkScope: createAdoScopeCheck({ config, runQuery: runScopeQuery }),

    // Before our first write we learn who we are, so the service hooks our writes cause are
    // recognised as echoes even if nobody called whoami() (one request, once).
    async ensureComment(input) {
      await whoami();
      return writer.ensureComment(input);
    },
    async deleteComment(input) {
      await whoami();
      return writer.deleteComment(input);
    },
    async updateLabels(change) {
      await whoami();
      return writer.updateLabels(change);
    },
    async updateFields(change) {
      await whoami();
      return writer.updateFields(change);
    },

    verifyWebhook: (req) => verifyServiceHook(config.webhookAuth, req),
    parseWebhook: (req) => parseServiceHook(req, selfIds),

    async installWebhooks({ url }): Promise<WebhookRegistration[]> {
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
      const existing = client.parse(AdoSubscriptionList, list.body, 'subscriptions').value;
      const events: readonly string[] = HOOK_EVENTS;
      const mine = existing.filter((s) => s.consumerInputs?.url === url && events.includes(s.eventType));
      const kept = new Set<string>();
      const out: WebhookRegistration[] = [];
      for (const eventType of HOOK_EVENTS) {
        for (const projectId of projectIds ?? [undefined]) {
          const hit = mine.find(
            (s) => s.eventType === eventType && (s.publisherInputs?.projectId || undefined) === projectId,
          );
          if (hit) {
            kept.add(hit.id);
            // One the service put on probation or disabled delivers nothing: installing turns it back on.
            const off = hit.status === 'onProbation' || hit.status === 'disabledBySystem';
            if (off) await hookHealth.enableWebhook({ id: hit.id });
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
          const sub = client.parse(AdoSubscriptionList.shape.value.element, created.body, 'subscription');
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

    webhookHealth: (input) => hookHealth.webhookHealth(input),
    enableWebhook: (input) => hookHealth.enableWebhook(input),

    rewindCursor(cursor, since) {
      if (cursor === null || Number.isNaN(Date.parse(since))) return cursor;
      const c = decodeCursor(cursor);
      if (c.changedSince === null) return null;
      const at = new Date(since).toISOString();
      return JSON.stringify({ v: 1, changedSince: at < c.changedSince ? at : c.changedSince } satisfies Cursor);
    },

    async checkMapping(): Promise<MappingDrift[]> {
      const drift: MappingDrift[] = [];
      // States items were seen in that their type does not list (renamed or added since the
      // states were read): those items were read as todo, which the PMO must hear about.
      for (const key of warnedStates) {
        const [project, type, state] = key.split('\u0000') as [string, string, string];
        drift.push({
          what: 'status',
          name: state,
          message: `state "${state}" of ${type} in ${project} is not among the type's states; its items are read as todo`,
        });
      }
      for (const { project, type, states: st } of await states.known()) {
        if (!config.typeMap[type] && !DEFAULT_KINDS[type]) {
          drift.push({
            what: 'type',
            name: type,
            message: `type "${type}" in ${project} has no kind; add it to typeMap`,
          });
        }
        for (const [state, category] of st) {
          if (!statusCategoryOf(category)) {
            drift.push({
              what: 'status',
              name: state,
              message: `state "${state}" of ${type} in ${project} has unknown category "${category}"`,
            });
          }
        }
      }
      return drift;
    },

    history: (opts) => client.withSignal(opts.signal, () => revisions.history(opts)),

    stats: () => client.stats(),
    close: () => client.close(),
  };
  return connector;
}
