// The connector stays polite and correct while the simulator misbehaves: burst 429s, random
// 5xx and reset connections, hung requests, per-issue write limits, and its own caps on
// concurrency and request rate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import type { JiraTuning } from './client.ts';
import { createJiraConnector } from './index.ts';
import { type JiraSimulator, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

const FAST: JiraTuning = { baseDelayMs: 5, maxDelayMs: 50 };

describe('under faults', () => {
  let sim: JiraSimulator;

  beforeEach(async () => {
    sim = await startJiraSimulator({ seed: 9 });
  });
  afterEach(async () => {
    await sim.close();
  });

  const connect = (tuning: JiraTuning = FAST, limits = { concurrency: 4, requestsPerSecond: 1000 }) =>
    createJiraConnector(
      { config: jiraConfig({ limits }), log: silentLog, resolveRef: noRefs, baseUrl: sim.url },
      tuning,
    );

  async function pullKeys(jira: ReturnType<typeof connect>): Promise<string[]> {
    const items: WorkItem[] = [];
    await jira.pull({ cursor: null, onPage: async (p) => void items.push(...p) });
    return items.map((i) => i.key);
  }

  it('reads everything exactly once through random 5xx and reset connections, retrying each', async () => {
    // Arrange
    const manifest = sim.seedPortfolio({ epics: 10, storiesPerEpic: 99, seed: 2 });
    sim.setFaults({ serverErrorRate: 0.15, resetRate: 0.1 }, 1234);
    const jira = connect({ ...FAST, maxAttempts: 10 });

    // Act
    const keys = await pullKeys(jira);

    // Assert
    const log = sim.requestLog();
    const faulted = log.filter((r) => r.status !== 200).length;
    expect(keys.length).toBe(1000);
    expect(new Set(keys)).toEqual(new Set(manifest.keys));
    expect(faulted).toBeGreaterThan(0);
    expect(jira.stats()).toEqual({
      requests: log.length,
      throttled: 0,
      retries: faulted,
      byEndpoint: sim.requestCounts(),
      warnings: {},
      quota: { pauses: 0, pausedUntil: null, reason: null, nearLimitSlowdowns: 0 },
    });
    await jira.close();
  });

  it('honours burst 429s (Retry-After) and counts them as throttled', async () => {
    // Arrange
    sim.seedPortfolio({ epics: 6, storiesPerEpic: 99, seed: 3 });
    sim.setFaults({ burst: { limit: 4, windowMs: 1000, retryAfterSec: 1 } });
    const jira = connect();

    // Act
    const keys = await pullKeys(jira);

    // Assert
    const log = sim.requestLog();
    const refused = log.filter((r) => r.status === 429);
    expect(keys.length).toBe(600);
    expect(refused.length).toBeGreaterThan(0);
    expect(jira.stats().throttled).toBe(refused.length);
    // No request to the same endpoint was sent within Retry-After of its refusal.
    for (const r of refused) {
      const next = log.find((x) => x.at > r.at && x.label === r.label && x !== r);
      if (next) expect(next.at - r.at).toBeGreaterThanOrEqual(1000);
    }
    await jira.close();
  });

  it('abandons a hung request at the timeout and retries it', async () => {
    // Arrange
    sim.failNext({ endpoint: 'GET myself', kind: 'timeout' });
    const jira = connect({ ...FAST, timeoutMs: 300 });

    // Act
    const me = await jira.whoami();

    // Assert
    expect(me).toEqual({ id: sim.me.accountId, name: sim.me.displayName });
    expect(jira.stats()).toEqual({
      requests: 2,
      throttled: 0,
      retries: 1,
      byEndpoint: { 'GET myself': 2 },
      warnings: {},
      quota: { pauses: 0, pausedUntil: null, reason: null, nearLimitSlowdowns: 0 },
    });
    await jira.close();
  });

  it('keeps writes to one issue under Jira’s per-issue limit, so Jira never has to refuse one', async () => {
    // Arrange
    sim.seedPortfolio({ epics: 1, storiesPerEpic: 1, seed: 4 });
    const jira = connect();

    // Act
    for (let i = 0; i < 24; i++)
      await jira.updateLabels({ key: 'PAY-2', add: i % 2 ? [] : ['flip'], remove: i % 2 ? ['flip'] : [] });

    // Assert
    expect(sim.requestCounts()['PUT issue/{key}']).toBe(24);
    expect(sim.requestLog().filter((r) => r.status === 429)).toEqual([]);
    expect(jira.stats().throttled).toBeGreaterThan(0);
    await jira.close();
  });

  it('caps concurrent requests per connection', async () => {
    // Arrange
    sim.setFaults({ latencyMs: 150 });
    const jira = connect(FAST, { concurrency: 2, requestsPerSecond: 1000 });

    // Act
    await Promise.all(Array.from({ length: 8 }, () => jira.whoami()));

    // Assert
    expect(sim.maxInFlight()).toBe(2);
    await jira.close();
  });

  it('caps the request rate per connection', async () => {
    // Arrange
    const jira = connect(FAST, { concurrency: 8, requestsPerSecond: 20 });

    // Act
    await Promise.all(Array.from({ length: 8 }, () => jira.whoami()));

    // Assert
    const at = sim.requestLog().map((r) => r.at);
    // 20 per second is one every 50 ms, so eight requests span 7 intervals (350 ms) at the client;
    // arrival times at the server jitter under load, hence the margin. Uncapped they take ~10 ms.
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(0.6 * 7 * 50);
    await jira.close();
  });

  it('a simulator that checks credentials answers a wrong token with 401, an AuthError without the token', async () => {
    // Arrange
    const strict = await startJiraSimulator({ auth: { email: 'bot@acme.test', apiToken: 'the-right-token' } });
    const jira = createJiraConnector(
      { config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: strict.url },
      FAST,
    );

    // Act
    const error = await jira.whoami().catch((e: unknown) => e as Error);
    await jira.close();
    await strict.close();

    // Assert
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe(
      `Jira at ${new URL(strict.url).host} rejected the API token for bot@acme.test (401 on GET myself); check that it is valid and not expired (set auth.apiToken of connection "jira-main")`,
    );
  });
});
