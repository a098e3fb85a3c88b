// Azure DevOps simulator: a real HTTP server on 127.0.0.1 speaking the REST subset the connector
// and azure-devops-node-api use, with a seeded organization, a TSTU-like budget that answers with
// the real throttling headers, injected faults, latency, request counters by endpoint, and service
// hooks delivered (or dropped, duplicated, delayed) with basic auth.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BROWSE_HEADERS, plainText, renderBrowsePage } from '../../http/browse-page.ts';
import type { SimDeliveryFaults, TrackerSimulator } from '../../simulator.ts';
import { endpointLabel } from '../endpoint.ts';
import { type AdoSimAdmin, createAdoSimAdmin } from './doctor.ts';
import { type EntraSimOptions, type EntraSimulator, startEntraSimulator } from './entra.ts';
import {
  createHooks,
  type DeliveryFaults,
  type DeliveryRecord,
  type SimSubscription,
  type SubscriptionStatus,
} from './hooks.ts';
import type { ProcessName } from './processes.ts';
import { apiError, type SimResponse } from './protocol.ts';
import { createRoutes } from './routes.ts';
import { type SeedOptions, type SeedResult, seedPortfolio } from './seed.ts';
import { createStore, PERSON, type SimIdentity, type SimStore, type SimWorkItem } from './store.ts';

export type { AdoSimAdmin, SimPermission, SimSubscriptionStatus } from './doctor.ts';
export type {
  DeliveryFaults,
  DeliveryRecord,
  ProcessName,
  SeedOptions,
  SeedResult,
  SimIdentity,
  SimStore,
  SimWorkItem,
  SubscriptionStatus,
};
export { PERSON };

/**
 * Azure DevOps' global consumption limit as the simulator models it: a leaky bucket of TSTUs
 * (Microsoft: 200 TSTUs in a sliding five-minute window) that drains linearly over the window, on
 * the simulator's clock. Every answer carries X-RateLimit-Resource, -Limit, -Remaining (0 once
 * delayed or blocked) and -Reset (Unix seconds when usage would be back to 0 if requests stopped).
 */
export interface ThrottleBudget {
  /** TSTUs allowed in the sliding window before requests are delayed or blocked. */
  limit: number;
  windowMs: number;
  /** TSTUs one request costs (default 1). */
  costPerRequest?: number;
  /** TSTUs by endpoint label (`POST wit/wiql`), where a request costs other than `costPerRequest`. */
  costs?: Record<string, number>;
  /** Over budget: `delay` answers 200 with X-RateLimit-Delay and Retry-After; `block` answers 429. */
  mode: 'delay' | 'block';
  /** Seconds sent in Retry-After (default 1). */
  retryAfterSeconds?: number;
  /** `delay` mode: how long a request over budget is held, sent as X-RateLimit-Delay (default 0.05 s). */
  delaySeconds?: number;
  /** `delay` mode: whether a delayed answer carries Retry-After too (default true). */
  retryAfterOnDelay?: boolean;
  /** `delay` mode: past this many TSTUs in use, requests are blocked (429) instead (default never). */
  blockAbove?: number;
}

export interface FaultSpec {
  /** Endpoint label as in requestCounts() (`POST wit/workitemsbatch`); omitted: any request. */
  endpoint?: string;
  status: number;
  /** How many matching requests fail (default 1). */
  times?: number;
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface SimRequestRecord {
  at: number;
  label: string;
  status: number;
  /** Whether the request carried an Authorization header. */
  authorized: boolean;
  /** Its scheme: a PAT is `basic`, an Entra ID token `bearer`. */
  scheme: 'basic' | 'bearer' | 'none';
}

export interface AdoSimulatorOptions {
  org?: string;
  /** Accepted PATs; omitted: any non-empty PAT. */
  pats?: string[];
  /** Identity the PATs act as (revisions and comments made through REST carry it). */
  identity?: SimIdentity;
  latencyMs?: number;
  budget?: ThrottleBudget | null;
  /** Millisecond clock for System.ChangedDate (kept strictly increasing). */
  now?: () => number;
  /** People who may call the REST API with their own PAT: their edits and comments are theirs. */
  people?: { pat: string; identity: SimIdentity }[];
  /** Failed probation retries after which a subscription is `disabledBySystem` (default 3). */
  probationRetriesBeforeDisable?: number;
  /**
   * A Microsoft Entra ID token service beside the organization (entra.ts): its bearer tokens are
   * accepted as the bot's, beside the PATs.
   */
  entra?: EntraSimOptions;
}

export interface AdoSimulator extends TrackerSimulator {
  readonly tracker: 'azure-devops';
  /** Organization URL: `http://127.0.0.1:<port>/<org>`. */
  readonly url: string;
  readonly store: SimStore;
  readonly identity: SimIdentity;
  /** Organization administration doctor reads: permissions, fields, subscription status. */
  readonly admin: AdoSimAdmin;
  /** The Entra ID token service, when `entra` was given. */
  readonly entra: EntraSimulator | null;
  addProject(name: string, process: ProcessName): void;
  seedPortfolio(o: SeedOptions): SeedResult;
  /** Loads Microsoft's `$expand=all` example work items (297, 299, 300 in Fabrikam-Fiber-Git, Scrum). */
  seedFromExamples(): number[];
  /** Registers a service hook target like a `webHooks` subscription with basic auth. */
  subscribe(s: { url: string; eventTypes?: string[]; username?: string; password?: string }): SimSubscription[];
  /** The service hook subscriptions as they stand (made here or through the REST API). */
  subscriptions(): SimSubscription[];
  /** The common drop/duplicate switches, or the next n deliveries (`dropNext`, `delayNext`…). */
  setDeliveryFaults(f: DeliveryFaults & SimDeliveryFaults): void;
  /** The service's next probation retry of every subscription on probation (hooks.ts). */
  retryProbation(): Promise<void>;
  /** Sets a subscription's status, as a person in the Service Hooks page does. */
  setSubscriptionStatus(id: string, status: SubscriptionStatus): void;
  deliveries(): DeliveryRecord[];
  /** Waits until every delivery in flight has been answered. */
  flushDeliveries(): Promise<void>;
  configure(o: Pick<AdoSimulatorOptions, 'latencyMs' | 'budget' | 'pats'>): void;
  injectFault(f: FaultSpec): void;
  requestCounts(): Record<string, number>;
  /** Every request in arrival order: when (on the simulator's clock), which endpoint, the answer's status. */
  requestLog(): SimRequestRecord[];
  totalRequests(): number;
  /** Most requests in flight at once since the last resetCounts(). */
  maxInFlight(): number;
  /** Requests being answered now. */
  inFlight(): number;
  resetCounts(): void;
  close(): Promise<void>;
}

const BOT: SimIdentity = {
  id: 'b0b0b0b0-0000-4000-8000-000000000001',
  displayName: 'pmo-sync',
  uniqueName: 'pmo-sync@example.com',
};
const ALL_EVENTS = [
  'workitem.created',
  'workitem.updated',
  'workitem.deleted',
  'workitem.restored',
  'workitem.commented',
];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startAdoSimulator(opts: AdoSimulatorOptions = {}): Promise<AdoSimulator> {
  const org = opts.org ?? 'acme';
  const bot = opts.identity ?? BOT;
  const behaviour = { latencyMs: opts.latencyMs ?? 0, budget: opts.budget ?? null, pats: opts.pats ?? null };
  const counts: Record<string, number> = {};
  const log: SimRequestRecord[] = [];
  const clock = opts.now ?? Date.now;
  const faults: (FaultSpec & { left: number })[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let usage = 0;
  let usageAt = clock();
  let url = '';
  const store = createStore({ baseUrl: () => url, onChange: (c) => hooks.emit(c), now: opts.now });
  const hooks = createHooks(store, () => url, {
    now: opts.now,
    probationRetriesBeforeDisable: opts.probationRetriesBeforeDisable,
  });
  const admin = createAdoSimAdmin({ store, hooks, url: () => url });
  const route = admin.wrap(createRoutes({ store, hooks, url: () => url, bot }));

  /** The configured person whose PAT the request carries, if any. */
  const personOf = (h: string | undefined): SimIdentity | undefined => {
    const m = /^Basic\s+(\S+)$/i.exec(h ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const pat = decoded.slice(decoded.indexOf(':') + 1);
    return opts.people?.find((p) => p.pat === pat)?.identity;
  };
  const entra = opts.entra ? await startEntraSimulator({ now: opts.now, ...opts.entra }) : null;
  const authorized = (h: string | undefined) => {
    if (personOf(h)) return true;
    const bearer = /^Bearer\s+(\S+)$/i.exec(h ?? '');
    if (bearer) return entra?.accepts(bearer[1]!) ?? false;
    const m = /^Basic\s+(\S+)$/i.exec(h ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const pat = decoded.slice(decoded.indexOf(':') + 1);
    return pat.length > 0 && (behaviour.pats === null || behaviour.pats.includes(pat));
  };

  /** Leaky bucket: usage drains linearly over the window; headers mirror the service's. */
  const throttle = (label: string): { headers: Record<string, string>; blocked: boolean; delaySec: number } => {
    const b = behaviour.budget;
    if (!b) return { headers: {}, blocked: false, delaySec: 0 };
    const now = clock();
    usage = Math.max(0, usage - ((now - usageAt) / b.windowMs) * b.limit);
    usageAt = Math.max(usageAt, now);
    const cost = b.costs?.[label] ?? b.costPerRequest ?? 1;
    usage += cost;
    const over = usage > b.limit;
    const blocked = b.mode === 'block' || (b.blockAbove !== undefined && usage > b.blockAbove);
    const headers: Record<string, string> = {
      'X-RateLimit-Resource': 'Core',
      'X-RateLimit-Limit': String(b.limit),
      'X-RateLimit-Remaining': String(Math.max(0, Math.floor(b.limit - usage))),
      'X-RateLimit-Reset': String(Math.ceil((now + (usage / b.limit) * b.windowMs) / 1000)),
    };
    if (!over) return { headers, blocked: false, delaySec: 0 };
    if (blocked) {
      headers['Retry-After'] = String(b.retryAfterSeconds ?? 1);
      usage -= cost; // a blocked request consumes nothing
      return { headers, blocked: true, delaySec: 0 };
    }
    if (b.retryAfterOnDelay !== false) headers['Retry-After'] = String(b.retryAfterSeconds ?? 1);
    const delaySec = b.delaySeconds ?? 0.05;
    headers['X-RateLimit-Delay'] = delaySec.toFixed(3);
    return { headers, blocked: false, delaySec };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const method = (req.method ?? 'GET').toUpperCase();
    const label = endpointLabel(method, u.pathname);
    counts[label] = (counts[label] ?? 0) + 1;
    const scheme = /^bearer\s/i.test(req.headers.authorization ?? '')
      ? 'bearer'
      : /^basic\s/i.test(req.headers.authorization ?? '')
        ? 'basic'
        : 'none';
    const record: SimRequestRecord = {
      at: clock(),
      label,
      status: 0,
      authorized: !!req.headers.authorization,
      scheme,
    };
    log.push(record);
    const raw = await readBody(req);
    const send = (r: SimResponse, extra: Record<string, string> = {}) => {
      record.status = r.status;
      const headers: Record<string, string> = { ...extra, ...r.headers };
      if (r.body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
      res.writeHead(r.status, headers);
      res.end(r.body === undefined ? undefined : JSON.stringify(r.body));
    };
    if (behaviour.latencyMs > 0) await new Promise((r) => setTimeout(r, behaviour.latencyMs));
    const segs = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (segs[0]?.toLowerCase() !== org.toLowerCase())
      return send(apiError(404, `Organization not found: ${segs[0] ?? ''}`));
    // The work item's web page, which pmo-sync links to: readable without a PAT.
    if (method === 'GET' && segs.length === 5 && segs[2] === '_workitems' && segs[3] === 'edit') {
      const w = store.items.get(Number(segs[4]));
      if (!w || w.deleted) return send(apiError(404, `TF401232: Work item ${segs[4]} does not exist.`));
      record.status = 200;
      res.writeHead(200, BROWSE_HEADERS);
      res.end(
        renderBrowsePage({
          tracker: 'Azure DevOps',
          key: String(w.id),
          title: String(w.fields['System.Title'] ?? ''),
          type: String(w.fields['System.WorkItemType'] ?? ''),
          status: String(w.fields['System.State'] ?? ''),
          comments: w.comments
            .filter((c) => !c.isDeleted)
            .map((c) => ({ author: c.createdBy.displayName, text: plainText(c.text) })),
        }),
      );
      return;
    }
    if (!authorized(req.headers.authorization)) {
      return send(
        apiError(401, 'TF400813: The user is not authorized to access this resource.', 'UnauthorizedRequestException'),
      );
    }
    const fault = faults.find((f) => f.left > 0 && (!f.endpoint || f.endpoint === label));
    if (fault) {
      fault.left--;
      const headers = {
        ...fault.headers,
        ...(fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {}),
      };
      return send({
        status: fault.status,
        body: fault.body ?? apiError(fault.status, `Injected fault ${fault.status}.`).body,
        headers,
      });
    }
    const t = throttle(label);
    if (t.blocked) {
      return send(
        apiError(
          429,
          'TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource Core.',
          'RequestBlockedException',
        ),
        t.headers,
      );
    }
    // On an injected clock the hold is only reported: the test's clock, not a timer, says when it ends.
    if (t.delaySec > 0 && !opts.now) await new Promise((r) => setTimeout(r, t.delaySec * 1000));
    let body: unknown = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(apiError(400, 'The request body is not valid JSON.'), t.headers);
      }
    }
    send(
      route({ method, segments: segs.slice(1), query: u.searchParams, body, as: personOf(req.headers.authorization) }),
      t.headers,
    );
  };

  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    handle(req, res)
      .catch((err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: `simulator error: ${(err as Error).message}` }));
      })
      .finally(() => {
        inFlight--;
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${org}`;

  return {
    tracker: 'azure-devops',
    get url() {
      return url;
    },
    store,
    identity: bot,
    admin,
    entra,
    addProject: (name, process) => store.addProject(name, process),
    seedPortfolio: (o) => seedPortfolio(store, o),
    seedFromExamples() {
      const file = new URL('../__fixtures__/wit-workitems-expand-all.json', import.meta.url);
      const example = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as {
        responses: {
          200: {
            body: {
              value: {
                id: number;
                rev: number;
                fields: Record<string, unknown>;
                relations?: SimWorkItem['relations'];
              }[];
            };
          };
        };
      };
      const ids: number[] = [];
      for (const w of example.responses[200].body.value) {
        const project = String(w.fields['System.TeamProject']);
        if (![...store.projects.values()].some((p) => p.name === project)) store.addProject(project, 'Scrum');
        const rebased = (w.relations ?? []).map((r) => ({
          ...r,
          url: r.url.replace(/^https:\/\/dev\.azure\.com\/fabrikam/, url),
        }));
        const it = store.create({
          project,
          type: String(w.fields['System.WorkItemType']),
          title: String(w.fields['System.Title']),
          id: w.id,
          silent: true,
          createdDate: String(w.fields['System.CreatedDate']),
        });
        it.fields = { ...w.fields };
        it.rev = w.rev;
        it.relations = rebased;
        ids.push(w.id);
      }
      return ids;
    },
    subscribe: (s) =>
      (s.eventTypes ?? ALL_EVENTS).map((eventType) =>
        hooks.subscribe({ eventType, url: s.url, username: s.username, password: s.password }),
      ),
    subscriptions: () => [...hooks.subs.values()].map((x) => ({ ...x })),
    setDeliveryFaults: ({ drop, duplicate, ...next }) =>
      hooks.setFaults({
        ...next,
        ...(drop !== undefined && { dropNext: drop ? Number.POSITIVE_INFINITY : 0 }),
        ...(duplicate !== undefined && { duplicateNext: duplicate ? Number.POSITIVE_INFINITY : 0 }),
      }),
    failNext: (f) => void faults.push({ ...f, left: f.times ?? 1 }),
    edit(key, e) {
      const fields: Record<string, unknown> = {};
      if (e.title !== undefined) fields['System.Title'] = e.title;
      if (e.assignee !== undefined) fields['System.AssignedTo'] = e.assignee && `${e.assignee.name} <${e.assignee.id}>`;
      if (e.status !== undefined) fields['System.State'] = e.status;
      if (e.labels !== undefined) fields['System.Tags'] = e.labels.length ? e.labels.join('; ') : null;
      store.update(Number(key), fields);
    },
    retryProbation: () => hooks.retryProbation(),
    setSubscriptionStatus: (id, status) => void hooks.setStatus(id, status),
    deliveries: () => hooks.deliveries(),
    flushDeliveries: () => hooks.flush(),
    configure(o) {
      if (o.latencyMs !== undefined) behaviour.latencyMs = o.latencyMs;
      if (o.budget !== undefined) {
        behaviour.budget = o.budget;
        usage = 0;
        usageAt = clock();
      }
      if (o.pats !== undefined) behaviour.pats = o.pats;
    },
    injectFault: (f) => void faults.push({ ...f, left: f.times ?? 1 }),
    requestCounts: () => ({ ...counts }),
    requestLog: () => log.map((r) => ({ ...r })),
    totalRequests: () => Object.values(counts).reduce((a, b) => a + b, 0),
    maxInFlight: () => maxInFlight,
    inFlight: () => inFlight,
    resetCounts() {
      for (const k of Object.keys(counts)) delete counts[k];
      log.length = 0;
      maxInFlight = inFlight;
    },
    async close() {
      await hooks.flush();
      await entra?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
