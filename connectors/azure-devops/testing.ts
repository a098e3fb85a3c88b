// Shared by this folder's tests: a parsed connection config, fixture loading and the nock
// interceptors for the SDK's discovery requests. Not imported by production code.
import { readFileSync } from 'node:fs';
import type nock from 'nock';
import { silentLogger } from '../../src/core/log.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import type { Connector } from '../types.ts';
import { AdoConnection } from './config.ts';
import { createAdoConnector } from './index.ts';
import { areaLocations, resourceAreasBody } from './locations.ts';
import { type AdoSimulator, startAdoSimulator } from './simulator/index.ts';

export const HOST = 'https://dev.azure.com';
export const ORG_URL = `${HOST}/acme`;

export function adoConfig(over: Record<string, unknown> = {}): AdoConnection {
  return AdoConnection.parse({
    id: 'ado',
    kind: 'azure-devops',
    orgUrl: ORG_URL,
    auth: { pat: 'pat-SECRET-123456' },
    scope: { projects: ['Fabrikam-Fiber-Git'] },
    webhookAuth: { username: 'pmo-sync', password: 'hook-pass' },
    limits: { concurrency: 4, requestsPerSecond: 1000 },
    ...over,
  });
}

/** A fixture from `__fixtures__/`, BOM stripped. */
export function fixture<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8').replace(/^\uFEFF/, '');
}

/** OPTIONS Location, GET resourceAreas, OPTIONS wit: what the SDK asks before its first call. */
export function nockDiscovery(scope: nock.Scope): nock.Scope {
  return scope
    .options('/acme/_apis/Location')
    .reply(200, areaLocations('Location'))
    .get((uri) => uri.startsWith('/acme/_apis/resourceAreas'))
    .reply(200, resourceAreasBody(ORG_URL))
    .options('/acme/_apis/wit')
    .reply(200, areaLocations('wit'));
}

/** GET connectionData: who the PAT is (the connector asks once, before its first write). */
export function nockWhoami(scope: nock.Scope): nock.Scope {
  const user = {
    id: 'b0b0b0b0-0000-4000-8000-000000000001',
    providerDisplayName: 'pmo-sync',
    properties: { Account: { $type: 'System.String', $value: 'pmo-sync@example.com' } },
  };
  // The work item client resolves the Location area itself: its own OPTIONS, then the GET.
  return scope
    .options('/acme/_apis/Location')
    .reply(200, areaLocations('Location'))
    .get((uri) => uri.startsWith('/acme/_apis/connectionData'))
    .reply(200, { authenticatedUser: user, authorizedUser: user });
}

/** What normalizing a Task of Fabrikam-Fiber-Git reads once: the type's states and the iteration tree. */
export function nockTaskMetadata(scope: nock.Scope, states: unknown): nock.Scope {
  return scope
    .get('/acme/Fabrikam-Fiber-Git/_apis/wit/workitemtypes/Task/states')
    .reply(200, states)
    .get('/acme/Fabrikam-Fiber-Git/_apis/wit/classificationNodes/Iterations')
    .query(true)
    .reply(200, { name: 'Fabrikam-Fiber-Git' });
}

/** The connector against a fresh simulator over real HTTP; `onCleanup` receives what to close. */
export async function simulatedConnector(
  seed: (sim: AdoSimulator) => void,
  opts: { slowdownBelow?: number; concurrency?: number; now?: () => number },
  onCleanup: (...fns: (() => Promise<void>)[]) => void,
): Promise<{ sim: AdoSimulator; connector: Connector }> {
  const sim = await startAdoSimulator();
  seed(sim);
  const connector = createAdoConnector(
    {
      config: adoConfig({
        scope: { projects: ['Payments'] },
        limits: { concurrency: opts.concurrency ?? 4, requestsPerSecond: 1000 },
      }),
      log: silentLogger(),
      resolveRef: () => null,
      baseUrl: sim.url,
    },
    { client: { retry: { baseDelayMs: 5 }, slowdownBelow: opts.slowdownBelow, now: opts.now } },
  );
  onCleanup(
    () => sim.close(),
    () => connector.close(),
  );
  return { sim, connector };
}

/** A whole pull: every item, the page sizes and the new cursor. */
export async function pullAll(c: Connector, cursor: string | null) {
  const items: WorkItem[] = [];
  const pages: number[] = [];
  const r = await c.pull({
    cursor,
    onPage: async (page) => {
      pages.push(page.length);
      items.push(...page);
    },
  });
  return { items, pages, cursor: r.cursor };
}

/**
 * Virtual time for a connector and a simulator that share it: sleeps end in the order of their
 * end times, the clock jumping to each in turn, and only once the simulator is quiet (nothing in
 * flight, nothing new arrived for a few milliseconds), so the requests a wake-up sends reach the
 * simulator at the instant they were sent at. Requests take no virtual time. Used where a budget's
 * drain over minutes matters (the TSTU tests, the bench) without waiting for it.
 */
export function virtualTime(
  sim: Pick<AdoSimulator, 'totalRequests' | 'inFlight'>,
  start = Date.parse('2026-03-02T10:00:00Z'),
) {
  let t = start;
  const sleepers: { until: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let driving = false;
  const tick = () => new Promise((r) => setTimeout(r, 2));
  const quiet = async () => {
    for (let calm = 0; calm < 2; ) {
      const seen = sim.totalRequests();
      await tick();
      calm = sim.inFlight() === 0 && sim.totalRequests() === seen ? calm + 1 : 0;
    }
  };
  const drive = async () => {
    if (driving) return;
    driving = true;
    try {
      while (sleepers.length > 0) {
        await quiet();
        sleepers.sort((a, b) => a.until - b.until);
        const due = sleepers[0]!.until;
        t = Math.max(t, due);
        for (const s of sleepers.splice(0, sleepers.filter((x) => x.until <= due).length)) s.resolve();
      }
    } finally {
      driving = false;
    }
  };
  return {
    now: () => t,
    start,
    sleep: (ms: number, signal?: AbortSignal): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const s = { until: t + ms, resolve, reject };
        sleepers.push(s);
        signal?.addEventListener(
          'abort',
          () => {
            const i = sleepers.indexOf(s);
            if (i >= 0) sleepers.splice(i, 1);
            reject(signal.reason);
          },
          { once: true },
        );
        void drive();
      }),
  };
}
