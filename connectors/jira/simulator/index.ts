// startJiraSimulator(): a real HTTP server on 127.0.0.1 speaking the Jira Cloud REST subset
// pmo-sync uses, with a store tests can change "as a person" (each change bumps `updated` and
// sends signed webhooks), seeding, fault injection and request counts by endpoint.
import type { AddressInfo } from 'node:net';
import type { SimFault, TrackerSimulator } from '../../simulator.ts';
import { createDelivery, type Delivery } from './deliver.ts';
import type { JiraSimAdmin } from './doctor.ts';
import { createFaults, type JiraSimFaults, type ScriptedFault } from './faults.ts';
import { createGateway, type SimGateway, type SimOAuth } from './gateway.ts';
import {
  loadDevlakeIssues,
  type PortfolioManifest,
  type PortfolioOptions,
  seedFromCaptured,
  seedPortfolio,
} from './generator.ts';
import { linkIssues } from './links.ts';
import { createPointsMeter } from './points.ts';
import { createJiraSimServer, type RequestRecord } from './server.ts';
import { BOT_USER, type ChangeOptions, createStore, type JiraSimStore, type SimUser } from './store.ts';

export type { Delivery } from './deliver.ts';
export type { JiraSimAdmin } from './doctor.ts';
export type { JiraSimFaults, ScriptedFault, WebhookFaults } from './faults.ts';
export type { SimOAuth } from './gateway.ts';
export { DYNAMIC_WEBHOOK_TTL_MS } from './gateway.ts';
export type { PortfolioManifest, PortfolioOptions, Violation } from './generator.ts';
export type { BurstPerMethod, PointsQuota } from './points.ts';
export { JIRA_BURST_DEFAULTS, pointsFor } from './points.ts';
export type { RequestRecord } from './server.ts';
export type { ChangeOptions, JiraSimStore, NewIssue, SimUser } from './store.ts';
export { BOT_USER, PEOPLE } from './store.ts';

export interface JiraSimulatorOptions {
  /** Default 0: any free port. */
  port?: number;
  host?: string;
  /** When set, only these credentials are accepted (else any Authorization header is). */
  auth?: { email: string; apiToken: string } | { bearerToken: string };
  /** The account API calls act as (`/myself`, comment author, echo events). */
  me?: SimUser;
  /** People who may call the REST API as themselves (basic auth with email and token). */
  people?: { email: string; apiToken: string; user: SimUser }[];
  /** Seed for random faults. */
  seed?: number;
  /** Clock for timestamps and rate windows (tests may pin it). */
  now?: () => number;
  faults?: Partial<JiraSimFaults>;
  /** The site's cloud id (served at /_edge/tenant_info; the gateway's /ex/jira/{cloudId}). */
  cloudId?: string;
  /** OAuth 2.0 (3LO): a token endpoint at /oauth/token with rotating refresh tokens. */
  oauth?: SimOAuth;
  /** Scoped API tokens, accepted through /ex/jira/{cloudId} only. */
  scopedTokens?: { email: string; apiToken: string }[];
}

export interface JiraSimulator extends TrackerSimulator {
  readonly tracker: 'jira';
  /** `http://127.0.0.1:<port>`: pass as the connector's `baseUrl`. */
  url: string;
  /** Direct access: `store.createIssue(…)`, `store.updateIssue(key, { status: 'Done' })`, `store.addComment(…)`. */
  store: JiraSimStore;
  me: SimUser;
  /** Site administration doctor reads: permissions, projects, fields, edit screens, disabled webhooks. */
  admin: JiraSimAdmin;
  seedPortfolio(opts: PortfolioOptions): PortfolioManifest;
  /** A person links two issues ("source blocks destination" by default); returns the link id. */
  linkIssues(
    source: string,
    destination: string,
    type?: 'Blocks' | 'Relates' | 'Duplicate',
    change?: ChangeOptions,
  ): number;
  /** Loads the 33 real issues captured by Apache DevLake; returns their keys. */
  seedFromDevlake(): string[];
  /** Registers an admin webhook target (as `POST /rest/webhooks/1.0/webhook` would). */
  registerWebhook(target: { url: string; secret?: string; events?: string[] }): number;
  deliveries(): Delivery[];
  /** Waits until every webhook delivery started so far has been answered. */
  flushDeliveries(): Promise<void>;
  setFaults(patch: Partial<JiraSimFaults>, seed?: number): void;
  resetFaults(): void;
  /** Scripted fault for the next matching request(s), e.g. `{ endpoint: 'POST search/jql', kind: 429, retryAfterSec: 2 }`. */
  failNext(fault: ScriptedFault | SimFault): void;
  /** Cloud id, token endpoint and dynamic webhooks (`gateway.expireAccessTokens()`, `gateway.dynamicWebhooks()`…). */
  gateway: SimGateway;
  /** Points charged since the start or the last `resetCounts()` (with or without a quota in force). */
  pointsSpent(): number;
  pointsByEndpoint(): Record<string, number>;
  requestCounts(): Record<string, number>;
  totalRequests(): number;
  requestLog(): RequestRecord[];
  /** Most requests in flight at once since the last `resetCounts()`. */
  maxInFlight(): number;
  resetCounts(): void;
  close(): Promise<void>;
}

export async function startJiraSimulator(opts: JiraSimulatorOptions = {}): Promise<JiraSimulator> {
  const now = opts.now ?? Date.now;
  let site = 'http://127.0.0.1';
  const faults = createFaults(opts.seed ?? 42, now);
  if (opts.faults) faults.set(opts.faults);
  let deliver: ReturnType<typeof createDelivery> | null = null;
  const store = createStore({
    site: () => site,
    now,
    searchLagMs: () => faults.get().searchLagMs,
    emit: (e) => deliver?.emit(e),
  });
  deliver = createDelivery({
    site: () => site,
    now,
    random: faults.random,
    faults: () => faults.get().webhooks,
    hooks: store.webhooks,
  });
  const me = opts.me ?? BOT_USER;
  const gateway = createGateway(
    { cloudId: opts.cloudId, oauth: opts.oauth, scopedTokens: opts.scopedTokens },
    { now, store },
  );
  const points = createPointsMeter(now, () => faults.get());
  const http = createJiraSimServer({
    store,
    faults,
    site: () => site,
    now,
    me,
    auth: opts.auth,
    people: opts.people,
    gateway,
    points,
    strictGateway: !!(opts.oauth || opts.scopedTokens?.length),
  });
  await new Promise<void>((resolve, reject) => {
    http.server.once('error', reject);
    http.server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = http.server.address() as AddressInfo;
  site = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  const d = deliver;
  let nextLinkId = 40_000;

  return {
    tracker: 'jira',
    url: site,
    store,
    me,
    admin: http.admin,
    seedPortfolio: (o) => seedPortfolio(store, site, { now: now(), ...o }),
    linkIssues: (source, destination, type = 'Blocks', change = {}) =>
      linkIssues(store, site, nextLinkId++, source, destination, type, change),
    seedFromDevlake: () => seedFromCaptured(store, loadDevlakeIssues()),
    registerWebhook: (t) => store.registerWebhook({ url: t.url, secret: t.secret ?? null, events: t.events ?? [] }).id,
    deliveries: d.deliveries,
    flushDeliveries: d.flush,
    setFaults: (patch, seed) => faults.set(patch, seed),
    resetFaults: () => faults.reset(),
    failNext: (f) => faults.failNext('status' in f ? { ...f, kind: f.status } : f),
    setDeliveryFaults: (f) =>
      faults.set({ webhooks: { dropRate: f.drop ? 1 : 0, duplicateRate: f.duplicate ? 1 : 0 } }),
    edit(key, e) {
      const patch: Record<string, unknown> = {};
      if (e.title !== undefined) patch.summary = e.title;
      if (e.assignee !== undefined) {
        patch.assignee = e.assignee && { accountId: e.assignee.id, displayName: e.assignee.name };
      }
      if (e.status !== undefined) patch.status = e.status;
      if (e.labels !== undefined) patch.labels = e.labels;
      store.updateIssue(key, patch);
    },
    gateway,
    pointsSpent: points.spent,
    pointsByEndpoint: points.spentByEndpoint,
    requestCounts: http.counts,
    totalRequests: () => Object.values(http.counts()).reduce((a, b) => a + b, 0),
    requestLog: http.requestLog,
    maxInFlight: http.maxInFlight,
    resetCounts() {
      http.reset();
      points.resetSpent();
    },
    async close() {
      http.stopHanging();
      await d.flush();
      http.server.closeAllConnections();
      await new Promise<void>((resolve) => http.server.close(() => resolve()));
    },
  };
}

/**
 * A simulator with the sample portfolio already in it, for the demo and for running by hand
 * (`startSeededJiraSimulator().then((s) => console.log(s.sim.url))`).
 */
export async function startSeededJiraSimulator(
  opts: JiraSimulatorOptions & { portfolio?: PortfolioOptions; devlake?: boolean } = {},
): Promise<{ sim: JiraSimulator; manifest: PortfolioManifest }> {
  const sim = await startJiraSimulator(opts);
  const manifest = sim.seedPortfolio(
    opts.portfolio ?? {
      projects: ['PAY', 'WEB'],
      epics: 8,
      storiesPerEpic: 6,
      bugsPerEpic: 2,
      subtasksPerStory: 1,
      violationRate: 0.15,
      seed: 1,
    },
  );
  if (opts.devlake) sim.seedFromDevlake();
  return { sim, manifest };
}
