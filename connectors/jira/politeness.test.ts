// Retry-After under concurrency, through the real connector against the simulator with one
// injected clock for both (the simulator logs each request's arrival on it): a burst 429 holds
// its endpoint and method for every request — side-by-side project searches and requests already
// queued — but not other endpoints; a quota 429 holds the whole connection; waits are capped by
// `limits.maxRetryAfterSeconds` and reported; close() and a pull's signal end any wait at once.
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkItem } from '../../src/core/work-item.ts';
import type { JiraTuning } from './client.ts';
import { createJiraConnector } from './index.ts';
import { type JiraSimulator, type RequestRecord, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

const START = Date.parse('2026-03-02T10:00:00Z');
const PROJECTS = ['PAY', 'WEB', 'OPS'];
const FIELDS = {
  points: 'customfield_10016',
  start: 'customfield_10015',
  sprint: 'customfield_10020',
  epicLink: 'customfield_10014',
};

/**
 * A clock that moves only when the test says: sleeps stay pending until `advance` passes their
 * end, so a test can act while a request is held back, and see what leaves meanwhile.
 */
function manualClock() {
  let t = START;
  const sleepers: { until: number; resolve: () => void }[] = [];
  const tuning: JiraTuning = {
    now: () => t,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        sleepers.push({ until: t + ms, resolve });
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    random: () => 0,
    baseDelayMs: 100,
  };
  return {
    tuning,
    now: () => t,
    sleeping: () => sleepers.length,
    advance(ms: number) {
      t += ms;
      for (const s of sleepers.filter((x) => x.until <= t)) {
        sleepers.splice(sleepers.indexOf(s), 1);
        s.resolve();
      }
    },
  };
}

/** Waits (in real time, for I/O to settle) until `cond` holds. Not a wait for any backoff: the clock is virtual. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

const projectOf = (r: RequestRecord) => PROJECTS.find((p) => r.jql?.includes(`"${p}"`)) ?? null;

describe('Retry-After under concurrency', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup(now: () => number) {
    const sim = await startJiraSimulator({ now, seed: 5 });
    cleanup.push(() => sim.close());
    return sim;
  }

  function connect(sim: JiraSimulator, tuning: JiraTuning, limits: Record<string, number>) {
    const jira = createJiraConnector(
      {
        config: jiraConfig({
          scope: { projects: PROJECTS },
          limits: { requestsPerSecond: 1000, ...limits },
          // Named, so the pull starts with its searches (no field discovery first).
          fields: FIELDS,
        }),
        log: silentLog,
        resolveRef: noRefs,
        baseUrl: sim.url,
      },
      tuning,
    );
    cleanup.push(() => jira.close());
    return jira;
  }

  it('a 429 with Retry-After on one of three side-by-side searches delays all three', async () => {
    // Arrange: three projects of two pages each, searched side by side (8 requests may be in flight).
    const clock = manualClock();
    const sim = await setup(clock.now);
    const keys = PROJECTS.flatMap(
      (p, i) => sim.seedPortfolio({ projects: [p], epics: 3, storiesPerEpic: 49, seed: i + 1 }).keys,
    );
    sim.failNext({ endpoint: 'POST search/jql', kind: 429, retryAfterSec: 30, reason: 'jira-burst-based' });
    const jira = connect(sim, clock.tuning, { concurrency: 8 });
    const items: WorkItem[] = [];

    // Act: the pull runs until all three searches are held (the refused one, and the others' next
    // page), then the clock passes the Retry-After.
    const pull = jira.pull({ cursor: null, onPage: async (p) => void items.push(...p) });
    await until(() => clock.sleeping() === 3);
    const whileHeld = sim.requestLog().filter((r) => r.label === 'POST search/jql');
    clock.advance(30_000);
    await pull;

    // Assert: only the first pages, already on the wire together, arrived before the wait ended.
    const searches = sim.requestLog().filter((r) => r.label === 'POST search/jql');
    const [refused] = searches.filter((r) => r.status === 429);
    expect(items.map((i) => i.key).sort()).toEqual([...keys].sort());
    expect(whileHeld.every((r) => r.at === START)).toBe(true);
    expect(whileHeld.length).toBeLessThanOrEqual(3);
    expect(searches.filter((r) => r.at !== START).every((r) => r.at - refused!.at >= 30_000)).toBe(true);
    expect(new Set(searches.filter((r) => r.at >= START + 30_000).map(projectOf))).toEqual(new Set(PROJECTS));
    expect(jira.stats().throttled).toBe(1);
  });

  it('requests already queued for the same endpoint wait for a 429 that arrives while they queue', async () => {
    // Arrange: one request at a time, so two of the three first searches are queued behind the refused one.
    const clock = manualClock();
    const sim = await setup(clock.now);
    PROJECTS.forEach((p, i) => void sim.seedPortfolio({ projects: [p], epics: 1, storiesPerEpic: 9, seed: i + 1 }));
    sim.failNext({ endpoint: 'POST search/jql', kind: 429, retryAfterSec: 45, reason: 'jira-burst-based' });
    const jira = connect(sim, clock.tuning, { concurrency: 1 });

    // Act
    const pull = jira.pull({ cursor: null, onPage: async () => {} });
    await until(() => clock.sleeping() === 3);
    const whileHeld = sim.requestLog().map((r) => r.status);
    clock.advance(45_000);
    await pull;

    // Assert
    const [refused, ...rest] = sim.requestLog().filter((r) => r.label === 'POST search/jql');
    expect(whileHeld).toEqual([429]);
    expect(rest.map((r) => ({ after: r.at - refused!.at, status: r.status }))).toEqual([
      { after: 45_000, status: 200 },
      { after: 45_000, status: 200 },
      { after: 45_000, status: 200 },
    ]);
    expect(new Set(rest.map(projectOf))).toEqual(new Set(PROJECTS));
  });

  it('a burst 429 holds only its endpoint and method: another endpoint goes at once', async () => {
    // Arrange
    const clock = manualClock();
    const sim = await setup(clock.now);
    sim.failNext({ endpoint: 'GET myself', kind: 429, retryAfterSec: 60, reason: 'jira-burst-based' });
    const jira = connect(sim, clock.tuning, { concurrency: 4 });

    // Act: GET myself is refused and held; GET field is asked for while it waits.
    const me = jira.whoami();
    await until(() => clock.sleeping() === 1);
    await jira.checkMapping!();
    const fieldAt = clock.now();
    clock.advance(60_000);
    await me;

    // Assert
    const log = sim.requestLog().map((r) => ({ label: r.label, after: r.at - START, status: r.status }));
    expect(log).toEqual([
      { label: 'GET myself', after: 0, status: 429 },
      { label: 'GET field', after: 0, status: 200 },
      { label: 'GET myself', after: 60_000, status: 200 },
    ]);
    expect(fieldAt).toBe(START);
  });

  it('a quota 429 holds the whole connection: another endpoint waits too', async () => {
    // Arrange
    const clock = manualClock();
    const sim = await setup(clock.now);
    sim.failNext({ endpoint: 'GET myself', kind: 429, retryAfterSec: 60, reason: 'jira-quota-tenant-based' });
    const jira = connect(sim, clock.tuning, { concurrency: 4 });

    // Act
    const me = jira.whoami();
    await until(() => clock.sleeping() === 1);
    const mapping = jira.checkMapping!();
    await until(() => clock.sleeping() === 2);
    const heldBack = sim.requestLog().length;
    clock.advance(60_000);
    await Promise.all([me, mapping]);

    // Assert
    expect(heldBack).toBe(1);
    expect(
      sim
        .requestLog()
        .map((r) => ({ label: r.label, after: r.at - START }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    ).toEqual([
      { label: 'GET field', after: 60_000 },
      { label: 'GET myself', after: 0 },
      { label: 'GET myself', after: 60_000 },
    ]);
  });

  it('a quota answer holds until X-RateLimit-Reset when that is later than Retry-After', async () => {
    // Arrange: Jira's reset instant (ISO 8601, to the minute) 2 minutes out, Retry-After 5 s.
    const clock = manualClock();
    const sim = await setup(clock.now);
    const reset = `${new Date(START + 120_000).toISOString().slice(0, 16)}Z`;
    sim.failNext({
      endpoint: 'GET myself',
      kind: 429,
      retryAfterSec: 5,
      reason: 'jira-quota-global-based',
      headers: { 'X-RateLimit-Reset': reset },
    });
    const jira = connect(sim, clock.tuning, { concurrency: 4 });

    // Act
    const me = jira.whoami();
    await until(() => clock.sleeping() === 1);
    clock.advance(5_000);
    await new Promise((r) => setImmediate(r));
    const afterRetryAfter = sim.requestLog().length;
    clock.advance(115_000);
    await me;

    // Assert
    expect(afterRetryAfter).toBe(1);
    expect(sim.requestLog().map((r) => r.at - START)).toEqual([0, 120_000]);
  });
});

describe('capped and abortable waits', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('a Retry-After over limits.maxRetryAfterSeconds waits the cap and says so', async () => {
    // Arrange: a broken or hostile answer of 1,900,000 s (22 days).
    const c = { t: START, sleeps: [] as number[] };
    const sim = await startJiraSimulator({ now: () => c.t });
    cleanup.push(() => sim.close());
    sim.failNext({ endpoint: 'GET myself', kind: 429, retryAfterSec: 1_900_000 });
    const jira = createJiraConnector(
      {
        config: jiraConfig({ limits: { concurrency: 4, requestsPerSecond: 1000, maxRetryAfterSeconds: 120 } }),
        log: silentLog,
        resolveRef: noRefs,
        baseUrl: sim.url,
      },
      {
        now: () => c.t,
        sleep: async (ms) => {
          c.sleeps.push(ms);
          c.t += ms;
        },
        random: () => 0,
      },
    );
    cleanup.push(() => jira.close());

    // Act
    await jira.whoami();

    // Assert
    expect(c.sleeps).toEqual([120_000]);
    expect(jira.stats().warnings).toEqual({
      'GET myself: Jira asked to wait longer than limits.maxRetryAfterSeconds (120 s); waited 120 s': 1,
    });
  });

  it('the cap defaults to 10 minutes', async () => {
    // Arrange
    const c = { t: START, sleeps: [] as number[] };
    const sim = await startJiraSimulator({ now: () => c.t });
    cleanup.push(() => sim.close());
    sim.failNext({ endpoint: 'GET myself', kind: 429, retryAfterSec: 1_900_000 });
    const jira = createJiraConnector(
      { config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: sim.url },
      {
        now: () => c.t,
        sleep: async (ms) => {
          c.sleeps.push(ms);
          c.t += ms;
        },
        random: () => 0,
      },
    );
    cleanup.push(() => jira.close());

    // Act
    await jira.whoami();

    // Assert
    expect(c.sleeps).toEqual([600_000]);
  });

  it('close() during a 1,900,000 s wait returns at once, and the waiting call fails as closed', async () => {
    // Arrange: the real sleep (a timer), not a virtual one: close() must cut it short.
    const sim = await startJiraSimulator();
    cleanup.push(() => sim.close());
    sim.failNext({ endpoint: 'GET myself', kind: 429, retryAfterSec: 1_900_000 });
    const jira = createJiraConnector(
      {
        config: jiraConfig({ limits: { concurrency: 4, requestsPerSecond: 1000, maxRetryAfterSeconds: 86_400 } }),
        log: silentLog,
        resolveRef: noRefs,
        baseUrl: sim.url,
      },
      {},
    );
    const failed = (e: unknown) => e as Error;
    const me = jira.whoami().then(() => new Error('answered'), failed);
    await until(() => sim.requestLog().length === 1);
    // A second request queued behind the held endpoint.
    const again = jira.whoami().then(() => new Error('answered'), failed);

    // Act
    const started = performance.now();
    await jira.close();
    const [first, second] = await Promise.all([me, again]);
    const tookMs = performance.now() - started;

    // Assert
    expect({ first: first.message, second: second.message, requests: sim.requestLog().length }).toEqual({
      first: 'the Jira connection is closed',
      second: 'the Jira connection is closed',
      requests: 1,
    });
    // A bound on how long close() took, not a wait: it had 22 days (capped at 1 day) to wait out.
    expect(tookMs).toBeLessThan(5_000);
  });

  it("a pull's signal ends its waits: the pull rejects with the signal's reason", async () => {
    // Arrange
    const clock = manualClock();
    const sim = await startJiraSimulator({ now: clock.now });
    cleanup.push(() => sim.close());
    sim.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 3 });
    sim.failNext({ endpoint: 'POST search/jql', kind: 429, retryAfterSec: 300 });
    const jira = createJiraConnector(
      { config: jiraConfig({ fields: FIELDS }), log: silentLog, resolveRef: noRefs, baseUrl: sim.url },
      clock.tuning,
    );
    cleanup.push(() => jira.close());
    const stop = new AbortController();
    const pull = jira.pull({ cursor: null, signal: stop.signal, onPage: async () => {} }).catch((e: unknown) => e);
    await until(() => clock.sleeping() === 1);

    // Act
    stop.abort(new Error('sync stopped'));
    const outcome = await pull;

    // Assert: the pull ended without the clock moving, and the connection still works.
    expect(outcome).toEqual(new Error('sync stopped'));
    expect(clock.now()).toBe(START);
    expect(sim.requestLog().map((r) => r.status)).toEqual([429]);
  });
});
