// Politeness against the simulator: the connection's concurrency cap, pacing on
// X-RateLimit-Remaining before the service blocks, riding out 429s with Retry-After, one gate
// that every concurrent and queued call waits at (both transports), capped waits reported, and
// close() ending any wait at once.
import { afterEach, describe, expect, test } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { createAdoConnector } from './index.ts';
import { type AdoSimulator, startAdoSimulator } from './simulator/index.ts';
import { adoConfig, pullAll, simulatedConnector, virtualTime } from './testing.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const setup = (seed: (sim: AdoSimulator) => void, slowdownBelow?: number, concurrency = 4) =>
  simulatedConnector(seed, { slowdownBelow, concurrency }, (...fns) => cleanup.push(...fns));

describe('politeness', () => {
  test('no more requests in flight than the connection allows', async () => {
    // Arrange
    const { sim, connector } = await setup(
      (s) => s.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 10, seed: 5 }),
      undefined,
      2,
    );
    sim.configure({ latencyMs: 20 });
    const keys = await connector.listKeys();
    sim.resetCounts();
    // Act: many reads at once, as a burst of webhooks would cause.
    await Promise.all(keys.slice(0, 12).map((k) => connector.fetchItems([k])));
    // Assert
    expect({ max: sim.maxInFlight(), batches: sim.requestCounts()['POST wit/workitemsbatch'] }).toEqual({
      max: 2,
      batches: 12,
    });
  });
});

describe('throttling', () => {
  const seed = (s: AdoSimulator) => s.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 2, seed: 3 });
  const budget = { limit: 4, windowMs: 1000, mode: 'block' as const, retryAfterSeconds: 1 };

  test('X-RateLimit-Remaining running low slows the pull down before the service blocks it', async () => {
    // Arrange: one request at a time, so every request sees the headers of the one before.
    const { sim, connector } = await setup(seed, undefined, 1);
    sim.configure({ budget });
    // Act
    const { items } = await pullAll(connector, null);
    // Assert: paced, never blocked.
    const s = connector.stats();
    expect({
      items: items.length,
      paced: s.throttled > 0,
      retries: s.retries,
      blocked: sim.totalRequests() - s.requests,
    }).toEqual({
      items: 32,
      paced: true,
      retries: 0,
      blocked: 0,
    });
  });

  test('without pacing, 429s with Retry-After are ridden out and counted', async () => {
    // Arrange
    const { sim, connector } = await setup(seed, 0);
    sim.configure({ budget });
    // Act
    const { items } = await pullAll(connector, null);
    // Assert
    const s = connector.stats();
    expect({ items: items.length, throttled: s.throttled > 0, retries: s.retries > 0 }).toEqual({
      items: 32,
      throttled: true,
      retries: true,
    });
  });
});

const START = Date.parse('2026-03-02T10:00:00Z');

/** A clock that moves only when the test says: sleeps stay pending until `advance` passes their end. */
function manualClock() {
  let t = START;
  const sleepers: { until: number; resolve: () => void }[] = [];
  return {
    now: () => t,
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        sleepers.push({ until: t + ms, resolve });
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
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

describe.each(['sdk', 'fetch'] as const)('one gate for every call (%s transport)', (transport) => {
  async function setup(
    clock: { now: () => number; sleep: (ms: number, s?: AbortSignal) => Promise<void> },
    limits = {},
  ) {
    const sim = await startAdoSimulator({ now: clock.now });
    cleanup.push(() => sim.close());
    const seeded = sim.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 2, seed: 3 });
    const connector = createAdoConnector(
      {
        config: adoConfig({
          scope: { projects: ['Payments'] },
          limits: { concurrency: 2, requestsPerSecond: 1000, ...limits },
        }),
        log: silentLogger(),
        resolveRef: () => null,
        baseUrl: sim.url,
      },
      { client: { transport, retry: { baseDelayMs: 5 }, now: clock.now, sleep: clock.sleep } },
    );
    cleanup.push(() => connector.close());
    return { sim, connector, keys: seeded.keys };
  }

  test('a 429 with Retry-After holds every call after it, queued ones included', async () => {
    // Arrange: discovery and metadata read once, so what follows is batch reads only.
    const clock = manualClock();
    const { sim, connector, keys } = await setup(clock);
    await connector.fetchItems(keys);
    sim.resetCounts();
    sim.injectFault({ endpoint: 'POST wit/workitemsbatch', status: 429, retryAfterSeconds: 30 });

    // Act: six reads at once, two in flight at a time.
    const reads = Promise.all(keys.slice(0, 6).map((k) => connector.fetchItems([k])));
    await until(() => clock.sleeping() === 2);
    const whileHeld = sim.requestLog();
    clock.advance(30_000);
    const items = await reads;

    // Assert: only the read already on the wire beside the refused one arrived before the wait ended.
    const log = sim.requestLog();
    expect(items.map((i) => i.map((x) => x.key))).toEqual(keys.slice(0, 6).map((k) => [k]));
    expect(whileHeld.map((r) => ({ at: r.at - START, status: r.status })).sort((a, b) => a.status - b.status)).toEqual(
      whileHeld.length === 2
        ? [
            { at: 0, status: 200 },
            { at: 0, status: 429 },
          ]
        : [{ at: 0, status: 429 }],
    );
    expect(log.slice(whileHeld.length).map((r) => ({ waited: r.at - START >= 30_000, status: r.status }))).toEqual(
      Array.from({ length: 7 - whileHeld.length }, () => ({ waited: true, status: 200 })),
    );
  });

  test('a Retry-After over limits.maxRetryAfterSeconds waits the cap and is a warning', async () => {
    // Arrange
    const clock = manualClock();
    const { sim, connector, keys } = await setup(clock, { maxRetryAfterSeconds: 90 });
    await connector.fetchItems([keys[0]!]);
    sim.resetCounts();
    sim.injectFault({ endpoint: 'POST wit/workitemsbatch', status: 429, retryAfterSeconds: 1_900_000 });

    // Act
    const read = connector.fetchItems([keys[0]!]);
    await until(() => clock.sleeping() === 1);
    clock.advance(90_000);
    await read;

    // Assert
    expect({
      arrivals: sim.requestLog().map((r) => r.at - START),
      warnings: connector.stats().warnings,
    }).toEqual({
      arrivals: [0, 90_000],
      warnings: { 'Azure DevOps asked to wait longer than limits.maxRetryAfterSeconds (90 s); waited 90 s': 1 },
    });
  });

  test("a pull's signal ends its waits: the pull rejects with the signal's reason", async () => {
    // Arrange
    const clock = manualClock();
    const { sim, connector } = await setup(clock);
    sim.injectFault({ endpoint: 'POST wit/wiql', status: 429, retryAfterSeconds: 300 });
    const stop = new AbortController();
    const pull = connector.pull({ cursor: null, signal: stop.signal, onPage: async () => {} }).catch((e: unknown) => e);
    await until(() => clock.sleeping() === 1);

    // Act
    stop.abort(new Error('sync stopped'));
    const outcome = await pull;

    // Assert: the pull ended without the clock moving; nothing was sent after the 429.
    expect({
      outcome,
      now: clock.now(),
      wiql: sim
        .requestLog()
        .filter((r) => r.label === 'POST wit/wiql')
        .map((r) => r.status),
    }).toEqual({ outcome: new Error('sync stopped'), now: START, wiql: [429] });
  });

  test('close() during a 1,900,000 s wait returns at once; waiting and queued calls fail as closed', async () => {
    // Arrange: the real sleep (a timer): close() must cut it short.
    const { sim, connector, keys } = await setup(
      { now: Date.now, sleep: (ms, s) => realTimer(ms, s) },
      { maxRetryAfterSeconds: 86_400 },
    );
    await connector.fetchItems([keys[0]!]);
    sim.resetCounts();
    sim.injectFault({ endpoint: 'POST wit/workitemsbatch', status: 429, retryAfterSeconds: 1_900_000 });
    const failed = (e: unknown) => (e as Error).message;
    const calls = keys.slice(0, 4).map((k) => connector.fetchItems([k]).then(() => 'answered', failed));
    await until(() => sim.requestLog().some((r) => r.status === 429));

    // Act
    const started = performance.now();
    await connector.close();
    const outcomes = await Promise.all(calls);
    const tookMs = performance.now() - started;

    // Assert: nothing more was sent; every call ended.
    expect({ outcomes: new Set(outcomes), refused: sim.requestLog().filter((r) => r.status === 429).length }).toEqual({
      outcomes: new Set([
        'Azure DevOps (ado): the connection is closed',
        ...(outcomes.includes('answered') ? ['answered'] : []),
      ]),
      refused: 1,
    });
    // A bound on how long close() took, not a wait: the wait it cut short was a day long.
    expect(tookMs).toBeLessThan(5_000);
  });
});

function realTimer(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

describe('the TSTU budget (simulator on the same clock)', () => {
  async function setup(opts: { concurrency: number; slowdownBelow?: number; items: number }) {
    let now = () => START;
    const sim = await startAdoSimulator({ now: () => now() });
    const clock = virtualTime(sim, START);
    now = clock.now;
    cleanup.push(() => sim.close());
    sim.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 400, seed: 11, limit: opts.items });
    const connector = createAdoConnector(
      {
        config: adoConfig({
          scope: { projects: ['Payments'] },
          limits: { concurrency: opts.concurrency, requestsPerSecond: 1000 },
        }),
        log: silentLogger(),
        resolveRef: () => null,
        baseUrl: sim.url,
      },
      { client: { now: clock.now, sleep: clock.sleep, slowdownBelow: opts.slowdownBelow, retry: { baseDelayMs: 5 } } },
    );
    cleanup.push(() => connector.close());
    // Discovery and metadata first: what follows is the calls under test.
    const keys = await connector.listKeys();
    await connector.fetchItems(keys.slice(0, 1));
    sim.resetCounts();
    return { sim, connector, keys };
  }

  test('X-RateLimit-Delay holds the next request for as long as the service held this one', async () => {
    // Arrange: a budget of 1 TSTU a minute that delays by 1.5 s (no Retry-After), pacing by
    // X-RateLimit-Remaining off, so the delay alone decides.
    const { sim, connector, keys } = await setup({ concurrency: 1, slowdownBelow: 0, items: 20 });
    sim.configure({
      budget: { limit: 1, windowMs: 60_000, mode: 'delay', delaySeconds: 1.5, retryAfterOnDelay: false },
    });

    // Act: four reads (of an item whose type's states are known: one request each), one after the other.
    for (let i = 0; i < 4; i++) await connector.fetchItems([keys[0]!]);

    // Assert: the first is within budget, the second is delayed; each after it waits 1.5 s.
    expect(sim.requestLog().map((r) => ({ at: r.at - START, status: r.status }))).toEqual([
      { at: 0, status: 200 },
      { at: 0, status: 200 },
      { at: 1500, status: 200 },
      { at: 3000, status: 200 },
    ]);
    expect(connector.stats().throttled).toBe(3);
  });

  test('a full pull at concurrency 4 paces itself under a blocking budget: no 429 at all', async () => {
    // Arrange: 2,000 items (a WIQL query, 10 batches and the states of each type, 1 TSTU each)
    // against 5 TSTUs per 10 s that answer 429 past them.
    const { sim, connector } = await setup({ concurrency: 4, items: 2_000 });
    sim.configure({ budget: { limit: 5, windowMs: 10_000, mode: 'block', retryAfterSeconds: 1 } });

    // Act
    const { items } = await pullAll(connector, null);

    // Assert
    const log = sim.requestLog();
    expect({
      items: items.length,
      requests: log.length >= 11,
      blocked: log.filter((r) => r.status === 429).length,
      paced: connector.stats().throttled > 0,
      tookSeconds: (log.at(-1)!.at - START) / 1000 > 5,
    }).toEqual({ items: 2_000, requests: true, blocked: 0, paced: true, tookSeconds: true });
  });
});
