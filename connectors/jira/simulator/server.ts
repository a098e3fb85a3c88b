// The simulator's HTTP face: the Jira Cloud REST subset pmo-sync uses, answered from the store,
// with faults applied before each answer and every request counted by endpoint.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BROWSE_HEADERS, plainText, renderBrowsePage } from '../../http/browse-page.ts';
import { createJiraSimAdmin } from './doctor.ts';
import type { JiraSimFaultControl } from './faults.ts';
import { fieldList, KNOWN_FIELDS } from './fields.ts';
import type { SimGateway } from './gateway.ts';
import type { PointsMeter } from './points.ts';
import { badRequest, createReadApi, HttpError } from './read-api.ts';
import { statusList } from './statuses.ts';
import type { JiraSimStore, SimIssue, SimUser } from './store.ts';
import { STATUSES, userJson } from './store.ts';
import { adfToWiki } from './wiki.ts';

export interface ServerDeps {
  store: JiraSimStore;
  faults: JiraSimFaultControl;
  site: () => string;
  now: () => number;
  /** The account the API acts as. */
  me: SimUser;
  /** When set, only these credentials are accepted. */
  auth?: { email: string; apiToken: string } | { bearerToken: string };
  /**
   * People who may also call the API (basic auth with their email and token): their edits and
   * comments are made as them, not as `me`, so pmo-sync sees them as a person's changes.
   */
  people?: { email: string; apiToken: string; user: SimUser }[];
  /** Cloud id, OAuth token endpoint, /ex/jira/{cloudId} and dynamic webhooks. */
  gateway: SimGateway;
  /** The points quota and burst buckets. */
  points: PointsMeter;
  /** Any gateway credential configured: then the gateway checks credentials strictly. */
  strictGateway: boolean;
}

export interface RequestRecord {
  at: number;
  label: string;
  status: number | 'reset' | 'timeout';
  /** The JQL a search asked for (`POST search/jql`), so a test can tell side-by-side searches apart. */
  jql?: string;
  /** Whether it came through the API gateway (`/ex/jira/{cloudId}`) or to the site (unset: the site). */
  via?: 'site' | 'gateway';
}

/** Endpoint label (the same shape the connector counts) and the issue a write touches. */
export function labelOf(
  method: string,
  path: string,
): { label: string; writeKey: string | null; issue: string | null } {
  const p = path.replace(/^\/rest\/(api\/[23]|webhooks\/1\.0|agile\/1\.0)\//, '');
  const m = /^issue\/([^/]+)(\/.*)?$/.exec(p);
  const issue = m && m[1] !== 'bulkfetch' ? decodeURIComponent(m[1]!) : null;
  const shape = p
    .replace(/^issue\/(?!bulkfetch$)[^/]+/, 'issue/{key}')
    .replace(/\/comment\/[^/]+/, '/comment/{id}')
    .replace(/^webhook\/\d+/, 'webhook/{id}')
    .replace(/^(board|filter)\/\d+/, '$1/{id}');
  const write = issue !== null && method !== 'GET';
  return { label: `${method} ${shape}`, writeKey: write ? issue : null, issue };
}

function jqlOf(text: string): string | undefined {
  try {
    const jql = (JSON.parse(text) as { jql?: unknown }).jql;
    return typeof jql === 'string' ? jql : undefined;
  } catch {
    return undefined;
  }
}

export function createJiraSimServer(deps: ServerDeps) {
  const { store, faults } = deps;
  const counts: Record<string, number> = {};
  const log: RequestRecord[] = [];
  const hanging = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let maxInFlight = 0;
  const admin = createJiraSimAdmin({ store, site: deps.site });

  const { issueJson, commentJson, fieldsParam, mustIssue, search, changelogBulk } = createReadApi({
    store,
    site: deps.site,
    now: deps.now,
  });

  function editIssue(
    actor: SimUser,
    key: string,
    body: {
      fields?: Record<string, unknown>;
      update?: Record<string, { add?: unknown; remove?: unknown; set?: unknown }[]>;
    },
  ) {
    const issue = mustIssue(key);
    const patch: Record<string, unknown> = {};
    const errors: Record<string, string> = {};
    for (const [f, v] of Object.entries(body.fields ?? {})) {
      if (!KNOWN_FIELDS.has(f))
        errors[f] = `Field '${f}' cannot be set. It is not on the appropriate screen, or unknown.`;
      else patch[f] = v;
    }
    for (const [f, ops] of Object.entries(body.update ?? {})) {
      if (f !== 'labels') {
        errors[f] = `Field '${f}' cannot be set. It is not on the appropriate screen, or unknown.`;
        continue;
      }
      let labels = [...((patch.labels ?? issue.fields.labels ?? []) as string[])];
      for (const op of ops) {
        if (op.set !== undefined) labels = [...(op.set as string[])];
        if (typeof op.add === 'string' && !labels.includes(op.add)) labels.push(op.add);
        if (typeof op.remove === 'string') labels = labels.filter((l) => l !== op.remove);
      }
      patch.labels = labels;
    }
    if (Object.keys(errors).length) throw new HttpError(400, { errorMessages: [], errors });
    store.updateIssue(key, patch, { actor });
  }

  /** `GET /rest/agile/1.0/board/{id}/configuration`, the parts Jira Software always answers. */
  function boardConfiguration(id: number) {
    const b = store.board(id);
    if (!b)
      throw new HttpError(404, {
        errorMessages: ['Board does not exist or you do not have permission to see it.'],
        errors: {},
      });
    const site = deps.site();
    return {
      id: b.id,
      name: b.name,
      type: b.type,
      self: `${site}/rest/agile/1.0/board/${b.id}/configuration`,
      filter: { id: b.filterId, self: `${site}/rest/api/3/filter/${b.filterId}` },
      columnConfig: {
        columns: Object.entries({ 'To Do': 'To Do', 'In Progress': 'In Progress', Done: 'Done' }).map(
          ([name, status]) => ({
            name,
            statuses: [{ id: STATUSES[status]!.id, self: `${site}/rest/api/3/status/${STATUSES[status]!.id}` }],
          }),
        ),
        constraintType: 'none',
      },
      ranking: { rankCustomFieldId: 10019 },
    };
  }

  /** `GET /rest/api/3/filter/{id}`. */
  function filterJson(id: string) {
    const f = store.filter(id);
    if (!f)
      throw new HttpError(404, {
        errorMessages: [
          'The selected filter is not available to you, perhaps it has been deleted or had its permissions changed.',
        ],
        errors: {},
      });
    const site = deps.site();
    return {
      self: `${site}/rest/api/3/filter/${f.id}`,
      id: f.id,
      name: f.name,
      jql: f.jql,
      viewUrl: `${site}/issues/?filter=${f.id}`,
      searchUrl: `${site}/rest/api/3/search?jql=${encodeURIComponent(f.jql)}`,
      favourite: false,
      favouritedCount: 0,
      sharePermissions: [],
      editPermissions: [],
    };
  }

  /** A configured person whose credentials the request carries, if any. */
  function personOf(req: IncomingMessage): SimUser | null {
    const h = req.headers.authorization ?? '';
    return (
      deps.people?.find((p) => h === `Basic ${Buffer.from(`${p.email}:${p.apiToken}`).toString('base64')}`)?.user ??
      null
    );
  }

  function authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    if (personOf(req)) return true;
    if (!deps.auth) return h.length > 0;
    if ('bearerToken' in deps.auth) return h === `Bearer ${deps.auth.bearerToken}`;
    return h === `Basic ${Buffer.from(`${deps.auth.email}:${deps.auth.apiToken}`).toString('base64')}`;
  }

  async function route(
    method: string,
    url: URL,
    body: unknown,
    actor: SimUser = deps.me,
  ): Promise<{ status: number; body?: unknown }> {
    const path = url.pathname;
    const qp = Object.fromEntries(url.searchParams);
    const b = (body ?? {}) as Record<string, unknown>;
    const dynamic = deps.gateway.webhooks(method, path, b);
    if (dynamic) return dynamic;
    const administration = admin.route(method, url);
    if (administration) return administration;
    if (path === '/rest/api/3/search/jql') return { status: 200, body: search(method === 'GET' ? qp : b) };
    if (path === '/rest/api/3/search/approximate-count' && method === 'POST') {
      const r = search({ jql: b.jql, maxResults: 5000, fields: 'id' });
      let count = r.issues.length;
      // Counting is approximate in Jira; here it is exact, paging through the keyset.
      let token = r.nextPageToken;
      while (token) {
        const more = search({ jql: b.jql, maxResults: 5000, fields: 'id', nextPageToken: token });
        count += more.issues.length;
        token = more.nextPageToken;
      }
      return { status: 200, body: { count } };
    }
    if (path === '/rest/api/3/issue/bulkfetch' && method === 'POST') {
      const keys = (b.issueIdsOrKeys as string[] | undefined) ?? [];
      if (keys.length < 1 || keys.length > 100) throw badRequest('issueIdsOrKeys must list between 1 and 100 issues.');
      const fields = fieldsParam(b.fields);
      const found = keys.map((k) => store.liveIssue(k)).filter((i): i is SimIssue => !!i);
      return { status: 200, body: { issues: found.map((i) => issueJson(i, fields)), issueErrors: [] } };
    }
    if (path === '/rest/api/3/changelog/bulkfetch' && method === 'POST') return { status: 200, body: changelogBulk(b) };
    if (path === '/rest/api/3/field' && method === 'GET') return { status: 200, body: fieldList() };
    const boardMatch = /^\/rest\/agile\/1\.0\/board\/(\d+)\/configuration$/.exec(path);
    if (boardMatch && method === 'GET') return { status: 200, body: boardConfiguration(Number(boardMatch[1])) };
    const filterMatch = /^\/rest\/api\/3\/filter\/(\d+)$/.exec(path);
    if (filterMatch && method === 'GET') return { status: 200, body: filterJson(filterMatch[1]!) };
    if (path === '/rest/api/3/status' && method === 'GET') return { status: 200, body: statusList(deps.site()) };
    if (path === '/rest/api/3/myself' && method === 'GET') {
      return {
        status: 200,
        body: {
          ...userJson(actor, deps.site()),
          emailAddress: actor.emailAddress ?? 'bot@example.com',
          locale: 'en_US',
        },
      };
    }
    const issueMatch = /^\/rest\/api\/3\/issue\/([^/]+)$/.exec(path);
    if (issueMatch) {
      const key = decodeURIComponent(issueMatch[1]!);
      if (method === 'GET') return { status: 200, body: issueJson(mustIssue(key), fieldsParam(qp.fields)) };
      if (method === 'PUT') {
        editIssue(actor, mustIssue(key).key, b as never);
        return { status: 204 };
      }
    }
    const commentsMatch = /^\/rest\/api\/3\/issue\/([^/]+)\/comment$/.exec(path);
    if (commentsMatch) {
      const issue = mustIssue(decodeURIComponent(commentsMatch[1]!));
      if (method === 'GET') {
        const startAt = Number(qp.startAt ?? 0);
        const max = Math.min(Number(qp.maxResults ?? 5000), 5000);
        const comments = issue.comments.slice(startAt, startAt + max).map((c) => commentJson(issue, c));
        return { status: 200, body: { comments, startAt, maxResults: max, total: issue.comments.length } };
      }
      if (method === 'POST') {
        if (!b.body) throw badRequest('Comment body can not be empty!');
        return { status: 201, body: commentJson(issue, store.addComment(issue.key, b.body, { actor })) };
      }
    }
    // REST API v2 reads: the same comments with their bodies as wiki markup instead of ADF.
    const v2 = /^\/rest\/api\/2\/issue\/([^/]+)\/comment(?:\/([^/]+))?$/.exec(path);
    if (v2 && method === 'GET') {
      const issue = mustIssue(decodeURIComponent(v2[1]!));
      const asV2 = (c: SimIssue['comments'][number]) => ({
        ...commentJson(issue, c),
        self: `${deps.site()}/rest/api/2/issue/${issue.id}/comment/${c.id}`,
        body: adfToWiki(c.body),
      });
      if (v2[2] !== undefined) {
        const c = issue.comments.find((x) => x.id === v2[2]);
        if (!c) throw new HttpError(404, { errorMessages: [`Can not find a comment for key: ${v2[2]}.`], errors: {} });
        return { status: 200, body: asV2(c) };
      }
      const startAt = Number(qp.startAt ?? 0);
      const max = Math.min(Number(qp.maxResults ?? 5000), 5000);
      const comments = issue.comments.slice(startAt, startAt + max).map(asV2);
      return { status: 200, body: { comments, startAt, maxResults: max, total: issue.comments.length } };
    }
    const commentMatch = /^\/rest\/api\/3\/issue\/([^/]+)\/comment\/([^/]+)$/.exec(path);
    if (commentMatch) {
      const issue = mustIssue(decodeURIComponent(commentMatch[1]!));
      const id = commentMatch[2]!;
      const missing = new HttpError(404, { errorMessages: [`Can not find a comment for key: ${id}.`], errors: {} });
      const c = issue.comments.find((x) => x.id === id);
      if (!c) throw missing;
      if (method === 'GET') return { status: 200, body: commentJson(issue, c) };
      if (method === 'PUT' && !b.body) throw badRequest('Comment body can not be empty!');
      if (method === 'PUT')
        return {
          status: 200,
          body: commentJson(issue, store.updateComment(issue.key, id, b.body, { actor })!),
        };
      if (method === 'DELETE') {
        store.deleteComment(issue.key, id, { actor });
        return { status: 204 };
      }
    }
    if (path === '/rest/webhooks/1.0/webhook') {
      const hookJson = (h: ReturnType<JiraSimStore['webhooks']>[number]) => ({
        self: `${deps.site()}/rest/webhooks/1.0/webhook/${h.id}`,
        name: h.name,
        url: h.url,
        events: h.events,
        filters: h.filters,
        enabled: true,
        excludeBody: false,
      });
      if (method === 'GET') return { status: 200, body: store.webhooks().map(hookJson) };
      if (method === 'POST') {
        if (typeof b.url !== 'string') throw badRequest('url is required');
        const h = store.registerWebhook({
          url: b.url,
          name: String(b.name ?? 'webhook'),
          events: (b.events as string[]) ?? [],
          secret: (b.secret as string) ?? null,
          filters: (b.filters as Record<string, string>) ?? {},
        });
        return { status: 201, body: hookJson(h) };
      }
    }
    const hookMatch = /^\/rest\/webhooks\/1\.0\/webhook\/(\d+)$/.exec(path);
    if (hookMatch) {
      const h = store.webhook(Number(hookMatch[1]));
      if (!h) throw new HttpError(404, { errorMessages: ['Webhook not found.'], errors: {} });
      if (method === 'DELETE') {
        store.removeWebhook(h.id);
        return { status: 204 };
      }
      if (method === 'PUT') {
        Object.assign(h, {
          url: b.url ?? h.url,
          events: b.events ?? h.events,
          secret: b.secret ?? h.secret,
          filters: b.filters ?? h.filters,
        });
        return {
          status: 200,
          body: {
            self: `${deps.site()}/rest/webhooks/1.0/webhook/${h.id}`,
            name: h.name,
            url: h.url,
            events: h.events,
          },
        };
      }
    }
    throw new HttpError(404, { errorMessages: [`No route for ${method} ${path} in the Jira simulator.`], errors: {} });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://sim');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const plain = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers }).end(JSON.stringify(body));
    };
    // Public, uncredentialed: the site's cloud id, and the OAuth token endpoint.
    if (url.pathname === '/_edge/tenant_info' && method === 'GET') return plain(200, { cloudId: deps.gateway.cloudId });
    if (url.pathname === '/oauth/token' && method === 'POST') {
      let form: Record<string, unknown> = {};
      try {
        form = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {}
      const out = deps.gateway.token(form);
      return plain(out.status, out.body);
    }
    let through: { path: string } | null;
    try {
      through = deps.gateway.strip(url.pathname);
    } catch (e) {
      return e instanceof HttpError ? plain(e.status, e.body) : plain(500, {});
    }
    if (through) url.pathname = through.path;
    const { label, writeKey } = labelOf(method, url.pathname);
    counts[label] = (counts[label] ?? 0) + 1;
    const record: RequestRecord = { at: deps.now(), label, status: 200, via: through ? 'gateway' : 'site' };
    log.push(record);
    if (label === 'POST search/jql') record.jql = jqlOf(Buffer.concat(chunks).toString('utf8'));
    const cfg = faults.get();
    if (cfg.latencyMs) await new Promise((r) => setTimeout(r, cfg.latencyMs));
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (body === undefined) {
        res.writeHead(status, headers).end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers }).end(JSON.stringify(body));
    };
    // The issue's web page, which pmo-sync links to: readable without the API's credentials.
    const browse = method === 'GET' ? /^\/browse\/([^/]+)$/.exec(url.pathname) : null;
    if (browse) {
      const issue = store.liveIssue(decodeURIComponent(browse[1]!));
      if (!issue) return send(404, { errorMessages: ['Issue does not exist.'], errors: {} });
      const f = issue.fields as Record<string, { name?: string } | string | undefined>;
      record.status = 200;
      res.writeHead(200, BROWSE_HEADERS).end(
        renderBrowsePage({
          tracker: 'Jira',
          key: issue.key,
          title: String(f.summary ?? ''),
          type: (f.issuetype as { name?: string } | undefined)?.name ?? '',
          status: (f.status as { name?: string } | undefined)?.name ?? '',
          comments: issue.comments.map((c) => ({ author: c.author.displayName, text: plainText(c.body) })),
        }),
      );
      return;
    }
    const viaGateway = through !== null;
    const gatewayAuth = deps.gateway.check(req, viaGateway);
    if (gatewayAuth === 'expired')
      return send(
        401,
        { code: 401, message: 'Unauthorized; scope does not match' },
        {
          'WWW-Authenticate':
            'Bearer realm="atlassian", error="invalid_token", error_description="The access token expired"',
        },
      );
    // Through the gateway only gateway credentials count (when any are configured); on the site, never.
    const ok = gatewayAuth === 'ok' || (viaGateway ? !deps.strictGateway && authorized(req) : authorized(req));
    if (!ok) return send(401, { errorMessages: ['Client must be authenticated to access this resource.'], errors: {} });
    const fate = faults.decide(label, writeKey);
    if (fate.kind === 'reset') {
      record.status = 'reset';
      req.socket.destroy();
      return;
    }
    if (fate.kind === 'timeout') {
      record.status = 'timeout';
      const t = setTimeout(() => {
        hanging.delete(t);
        req.socket.destroy();
      }, cfg.hangMs);
      hanging.add(t);
      return;
    }
    if (fate.kind === 'status') return send(fate.status, fate.body, fate.headers);
    const refused = deps.points.refuse(label);
    if (refused) return send(429, { errorMessages: [refused.message], errors: {} }, refused.headers);
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          throw badRequest('Unexpected character in the request body: not JSON.');
        }
      }
      const out = await route(method, url, body, personOf(req) ?? deps.me);
      send(out.status, out.body, deps.points.charge(label, out.body));
    } catch (e) {
      if (e instanceof HttpError) return send(e.status, e.body, deps.points.charge(label, undefined));
      send(500, { errorMessages: [e instanceof Error ? e.message : 'Internal error'], errors: {} });
    }
  }

  const server = createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const done = () => {
      inFlight -= 1;
    };
    res.once('close', done);
    handle(req, res).catch(() => res.destroy());
  });

  return {
    server,
    admin,
    counts: () => ({ ...counts }),
    requestLog: () => log.map((r) => ({ ...r })),
    /** Most requests the server was answering at once since the last reset. */
    maxInFlight: () => maxInFlight,
    reset() {
      for (const k of Object.keys(counts)) delete counts[k];
      log.length = 0;
      maxInFlight = inFlight;
    },
    stopHanging() {
      for (const t of hanging) clearTimeout(t);
      hanging.clear();
    },
  };
}
