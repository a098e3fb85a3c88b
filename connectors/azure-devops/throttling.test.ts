// Politeness against the simulator: the connection's concurrency cap, pacing on
// X-RateLimit-Remaining before the service blocks, and riding out 429s with Retry-After.
import { afterEach, describe, expect, test } from 'vitest';
import type { AdoSimulator } from './simulator/index.ts';
import { pullAll, simulatedConnector } from './test-support.ts';

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
