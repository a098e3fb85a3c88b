// The REST subset the simulator speaks, as pure handlers over the store: discovery (resource areas,
// OPTIONS locations, connection data), WIQL, workitemsbatch, work item get/patch, comments, work
// item types and states, and service hook subscriptions. Errors use the service's JSON error shape.
import { areaLocations, resourceAreasBody } from '../locations.ts';
import type { SimHooks } from './hooks.ts';
import { iterationTree, subscriptions, workItemTypes } from './metadata.ts';
import { apiError, type SimRequest, type SimResponse } from './protocol.ts';
import { reportingRevisions } from './reporting.ts';
import {
  identityJson,
  type SimComment,
  type SimIdentity,
  type SimRelation,
  type SimStore,
  type SimWorkItem,
} from './store.ts';
import { evaluate, parseWiql, WiqlError } from './wiql.ts';

export const WIQL_LIMIT = 20_000;
export const BATCH_LIMIT = 200;

export interface RouteDeps {
  store: SimStore;
  hooks: SimHooks;
  url: () => string;
  bot: SimIdentity;
}

export function createRoutes({ store, hooks, url, bot }: RouteDeps) {
  // Who the request acts as: the PAT's identity. Routes run synchronously, one request at a
  // time, so the current identity can live here for the duration of one call.
  let actor: SimIdentity = bot;
  const itemJson = (it: SimWorkItem, expand: string, fields: string[] | null) => {
    const self = `${url()}/_apis/wit/workItems/${it.id}`;
    const f: Record<string, unknown> = {};
    if (fields) {
      for (const name of fields) if (it.fields[name] !== undefined) f[name] = it.fields[name];
    } else Object.assign(f, it.fields);
    const out: Record<string, unknown> = { id: it.id, rev: it.rev, fields: f };
    const relations = store.visibleRelations(it);
    if ((expand === 'relations' || expand === 'all') && relations.length > 0) out.relations = relations;
    if (expand === 'links' || expand === 'all') {
      out._links = {
        self: { href: self },
        workItemUpdates: { href: `${self}/updates` },
        workItemRevisions: { href: `${self}/revisions` },
        workItemHistory: { href: `${self}/history` },
        workItemComments: { href: `${self}/comments` },
        html: { href: `${url()}/web/wi.aspx?id=${it.id}` },
        workItemType: {
          href: `${url()}/_apis/wit/workItemTypes/${encodeURIComponent(String(it.fields['System.WorkItemType']))}`,
        },
        fields: { href: `${url()}/_apis/wit/fields` },
      };
    }
    out.url = self;
    return out;
  };

  const commentJson = (it: SimWorkItem, c: SimComment) => ({
    workItemId: it.id,
    id: c.id,
    version: c.version,
    text: c.text,
    createdBy: identityJson(c.createdBy, url()),
    createdDate: c.createdDate,
    modifiedBy: identityJson(c.modifiedBy, url()),
    modifiedDate: c.modifiedDate,
    ...(c.isDeleted ? { isDeleted: true } : {}),
    url: `${url()}/_apis/wit/workItems/${it.id}/comments/${c.id}`,
  });

  const live = (id: number) => {
    const it = store.items.get(id);
    return it && !it.deleted ? it : null;
  };
  const notFound = (id: unknown) =>
    apiError(
      404,
      `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`,
      'WorkItemUnauthorizedAccessException',
    );

  const wiql = (req: SimRequest, project: string | undefined): SimResponse => {
    const body = req.body as { query?: unknown } | null;
    if (!body || typeof body.query !== 'string') return apiError(400, 'The request body must contain a WIQL "query".');
    const timePrecision = req.query.get('timePrecision') === 'true';
    const topRaw = req.query.get('$top');
    const top = topRaw === null ? null : Number(topRaw);
    if (top !== null && (!Number.isInteger(top) || top < 1 || top > WIQL_LIMIT))
      return apiError(400, `$top must be between 1 and ${WIQL_LIMIT}.`);
    let q: ReturnType<typeof parseWiql>;
    try {
      q = parseWiql(body.query, { project, me: bot.uniqueName, now: Date.now() });
    } catch (e) {
      if (e instanceof WiqlError) return apiError(400, e.message, 'SyntaxException');
      throw e;
    }
    const rows: SimWorkItem[] = [];
    for (const it of store.items.values()) {
      if (it.deleted) continue;
      const get = (f: string) => (f === 'System.Id' ? it.id : it.fields[f]);
      if (!q.where || evaluate(q.where, get, timePrecision)) rows.push(it);
    }
    const order = q.orderBy.length ? q.orderBy : [{ field: 'System.Id', desc: false }];
    rows.sort((a, b) => {
      for (const o of order) {
        const va = o.field === 'System.Id' ? a.id : a.fields[o.field];
        const vb = o.field === 'System.Id' ? b.id : b.fields[o.field];
        const d =
          va === vb ? 0 : va === undefined ? -1 : vb === undefined ? 1 : (va as number) < (vb as number) ? -1 : 1;
        if (d !== 0) return o.desc ? -d : d;
      }
      return a.id - b.id;
    });
    if (top === null && rows.length > WIQL_LIMIT) {
      return apiError(
        400,
        `VS402337: The number of work items returned exceeds the size limit of ${WIQL_LIMIT}. Change the query to return fewer work items.`,
        'WorkItemTrackingQueryResultSizeLimitExceededException',
      );
    }
    const picked = top === null ? rows : rows.slice(0, top);
    const col = (ref: string) => ({
      referenceName: ref,
      name: ref.split('.').pop(),
      url: `${url()}/_apis/wit/fields/${ref}`,
    });
    return {
      status: 200,
      body: {
        queryType: 'flat',
        queryResultType: 'workItem',
        asOf: store.clock(),
        columns: q.select.map(col),
        sortColumns: order.map((o) => ({ field: col(o.field), descending: o.desc })),
        workItems: picked.map((it) => ({ id: it.id, url: `${url()}/_apis/wit/workItems/${it.id}` })),
      },
    };
  };

  const batch = (req: SimRequest): SimResponse => {
    const b = req.body as { ids?: unknown; fields?: unknown; $expand?: unknown; errorPolicy?: unknown } | null;
    if (!b || !Array.isArray(b.ids) || b.ids.length === 0) return apiError(400, 'The request must contain "ids".');
    if (b.ids.length > BATCH_LIMIT)
      return apiError(400, `VS403474: The maximum number of work items that can be requested is ${BATCH_LIMIT}.`);
    const expand = String(b.$expand ?? 'none').toLowerCase();
    if (Array.isArray(b.fields) && expand !== 'none')
      return apiError(400, 'The expand parameter can not be used with the fields parameter.');
    const omit = String(b.errorPolicy ?? 'fail').toLowerCase() === 'omit';
    const out: unknown[] = [];
    for (const id of b.ids) {
      const it = live(Number(id));
      if (!it) {
        if (!omit) return notFound(id);
        out.push(null);
      } else out.push(itemJson(it, expand, Array.isArray(b.fields) ? b.fields.map(String) : null));
    }
    return { status: 200, body: { count: out.length, value: out } };
  };

  const patchItem = (it: SimWorkItem, ops: unknown): SimResponse => {
    if (!Array.isArray(ops)) return apiError(400, 'You must pass a valid patch document in the body of the request.');
    const fields: Record<string, unknown> = {};
    const add: SimRelation[] = [];
    const removeIndexes: number[] = [];
    for (const raw of ops) {
      const op = raw as { op?: string; path?: string; value?: unknown };
      const path = op.path ?? '';
      if (op.op === 'test') {
        const current = path === '/rev' ? it.rev : path.startsWith('/fields/') ? it.fields[path.slice(8)] : undefined;
        if (current !== op.value) {
          return apiError(
            412,
            `Test operation failed for ${path}: expected ${JSON.stringify(op.value)}, found ${JSON.stringify(current)}.`,
            'WorkItemRevisionMismatchException',
          );
        }
      } else if ((op.op === 'add' || op.op === 'replace') && path.startsWith('/fields/'))
        fields[path.slice(8)] = op.value;
      else if (op.op === 'remove' && path.startsWith('/fields/')) fields[path.slice(8)] = null;
      else if (op.op === 'add' && path === '/relations/-') add.push(op.value as SimRelation);
      else if (op.op === 'remove' && /^\/relations\/\d+$/.test(path)) removeIndexes.push(Number(path.slice(11)));
      else return apiError(400, `Unsupported patch operation ${op.op} ${path}.`);
    }
    store.update(it.id, fields, actor, { add, removeIndexes });
    return { status: 200, body: itemJson(it, 'relations', null) };
  };

  const comments = (req: SimRequest, it: SimWorkItem, commentId: string | undefined): SimResponse => {
    const text = (req.body as { text?: unknown } | null)?.text;
    if (commentId === undefined) {
      if (req.method === 'POST') {
        if (typeof text !== 'string') return apiError(400, 'The comment text is required.');
        return { status: 200, body: commentJson(it, store.addComment(it.id, text, actor)) };
      }
      if (req.method !== 'GET') return apiError(405, 'Method not allowed.');
      const includeDeleted = req.query.get('includeDeleted') === 'true';
      const all = it.comments.filter((c) => includeDeleted || !c.isDeleted);
      const top = Math.min(200, Number(req.query.get('$top') ?? 200));
      const start = Number(req.query.get('continuationToken') ?? 0);
      const page = all.slice(start, start + top);
      const next = start + top < all.length ? String(start + top) : undefined;
      return {
        status: 200,
        body: {
          totalCount: all.length,
          count: page.length,
          comments: page.map((c) => commentJson(it, c)),
          ...(next ? { continuationToken: next } : {}),
          url: `${url()}/_apis/wit/workItems/${it.id}/comments`,
        },
      };
    }
    const cid = Number(commentId);
    const c = it.comments.find((x) => x.id === cid && !x.isDeleted);
    if (!c) return apiError(404, `Comment ${commentId} does not exist on work item ${it.id}.`);
    if (req.method === 'GET') return { status: 200, body: commentJson(it, c) };
    if (req.method === 'PATCH') {
      if (typeof text !== 'string') return apiError(400, 'The comment text is required.');
      return { status: 200, body: commentJson(it, store.editComment(it.id, cid, text, actor)!) };
    }
    if (req.method === 'DELETE') {
      store.deleteComment(it.id, cid);
      return { status: 204 };
    }
    return apiError(405, 'Method not allowed.');
  };

  return (req: SimRequest): SimResponse => {
    actor = req.as ?? bot;
    const i = req.segments.findIndex((s) => s.toLowerCase() === '_apis');
    if (i < 0) return apiError(404, 'Not found.');
    const project = i > 0 ? req.segments.slice(0, i).join('/') : undefined;
    const [area = '', res = '', a, b, c] = req.segments.slice(i + 1);
    const A = area.toLowerCase();
    const R = res.toLowerCase();
    if (req.method === 'OPTIONS') {
      const known = { wit: 'wit', location: 'Location', hooks: 'hooks', core: 'core' } as const;
      const name = known[A as keyof typeof known];
      return name && !res ? { status: 200, body: areaLocations(name) } : { status: 200, body: { count: 0, value: [] } };
    }
    if (A === 'resourceareas') return { status: 200, body: resourceAreasBody(url()) };
    if (A === 'connectiondata') {
      const u = {
        id: actor.id,
        descriptor: `aad.${actor.id}`,
        subjectDescriptor: `aad.${actor.id}`,
        providerDisplayName: actor.displayName,
        isActive: true,
        properties: { Account: { $type: 'System.String', $value: actor.uniqueName } },
        resourceVersion: 2,
        metaTypeId: 0,
      };
      return {
        status: 200,
        body: {
          authenticatedUser: u,
          authorizedUser: u,
          instanceId: '00000000-0000-0000-0000-000000000001',
          deploymentType: 'hosted',
        },
      };
    }
    if (A === 'wit') {
      if (R === 'wiql' && req.method === 'POST') return wiql(req, project);
      if (R === 'workitemsbatch' && req.method === 'POST') return batch(req);
      if (R === 'reporting' && a?.toLowerCase() === 'workitemrevisions' && req.method === 'GET')
        return reportingRevisions(store, url(), project, req);
      if (R === 'workitems' && a === undefined && req.method === 'GET') {
        const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean);
        if (ids.length === 0 || ids.length > BATCH_LIMIT)
          return apiError(400, `Pass between 1 and ${BATCH_LIMIT} ids.`);
        const expand = (req.query.get('$expand') ?? 'none').toLowerCase();
        const fields = req.query.get('fields');
        if (fields && expand !== 'none')
          return apiError(400, 'The expand parameter can not be used with the fields parameter.');
        const value = [];
        for (const id of ids) {
          const it = live(Number(id));
          if (!it) return notFound(id);
          value.push(itemJson(it, expand, fields ? fields.split(',') : null));
        }
        return { status: 200, body: { count: value.length, value } };
      }
      if (R === 'workitems' && a !== undefined) {
        const it = live(Number(a));
        if (!it) return notFound(a);
        if (b?.toLowerCase() === 'comments') return comments(req, it, c);
        if (req.method === 'GET') {
          const expand = (req.query.get('$expand') ?? 'none').toLowerCase();
          const fields = req.query.get('fields');
          if (fields && expand !== 'none')
            return apiError(400, 'The expand parameter can not be used with the fields parameter.');
          return { status: 200, body: itemJson(it, expand, fields ? fields.split(',') : null) };
        }
        if (req.method === 'PATCH') return patchItem(it, req.body);
      }
      if (R === 'classificationnodes' && a?.toLowerCase() === 'iterations' && req.method === 'GET') {
        return iterationTree(store, url(), project, Number(req.query.get('$depth') ?? 0));
      }
      if (R === 'workitemtypes' && req.method === 'GET') return workItemTypes(store, url(), project, a, b);
    }
    if (A === 'projects' && res && req.method === 'GET') {
      // Core's GET _apis/projects/{name or id}.
      const p = [...store.projects.values()].find((x) => x.id === res || x.name.toLowerCase() === res.toLowerCase());
      if (!p)
        return apiError(
          404,
          `The project with id '${res}' does not exist, or you do not have permission to access it.`,
        );
      return {
        status: 200,
        body: {
          id: p.id,
          name: p.name,
          url: `${url()}/_apis/projects/${p.id}`,
          state: 'wellFormed',
          visibility: 'private',
        },
      };
    }
    if (A === 'hooks' && R === 'subscriptions') {
      const r = subscriptions(hooks, store.projects, url(), req, a);
      if (r) return r;
    }
    return apiError(404, `The simulator does not serve ${req.method} ${req.segments.join('/')}.`);
  };
}
