// Jira Cloud's limits as enforced since March 2026, through the real connector against the
// simulator on one virtual clock: the hourly points quota (slowed down before it is spent; a
// quota 429 pauses the whole connection until the reset, reported with the instant) and the
// burst limit per endpoint and method (kept to, so the simulator never has to refuse).
import { afterEach, describe, expect, it } from 'vitest';
import { BURST_PER_SECOND, createJiraTransport, type JiraTuning } from './client.ts';
import { createJiraConnector } from './index.ts';
import { JIRA_BURST_DEFAULTS, type JiraSimulator, pointsFor, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';
import { createVirtualClock } from './virtual-clock.ts';

const START = Date.parse('2026-03-02T10:00:00Z');
const RESET = Date.parse('2026-03-02T11:00:00Z');

describe('Jira 2026 limits against the simulator', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup(now: () => number, faults: Parameters<JiraSimulator['setFaults']>[0]) {
    const sim = await startJiraSimulator({ now, seed: 3, faults });
    cleanup.push(() => sim.close());
    return sim;
  }
  function connect(sim: JiraSimulator, tuning: JiraTuning, limits: Record<string, unknown> = {}) {
    const jira = createJiraConnector(
      {
        config: jiraConfig({ limits: { requestsPerSecond: 1000, concurrency: 8, ...limits } }),
        log: silentLog,
        resolveRef: noRefs,
        baseUrl: sim.url,
      },
      tuning,
    );
    cleanup.push(() => jira.close());
    return jira;
  }
  const refusals = (sim: JiraSimulator) => sim.requestLog().filter((r) => r.status === 429);

  it('the simulator charges points by Jira’s rule', () => {
    expect({
      myself: pointsFor('GET myself', { accountId: 'x' }),
      search: pointsFor('POST search/jql', { issues: [{}, {}, {}] }),
      comments: pointsFor('GET issue/{key}/comment', { comments: [{}, {}] }),
      edit: pointsFor('PUT issue/{key}', undefined),
      comment: pointsFor('POST issue/{key}/comment', { id: '1' }),
    }).toEqual({ myself: 3, search: 4, comments: 3, edit: 1, comment: 1 });
  });

  it('near-limit slowdown: slows down once Jira says the quota is nearly spent, and never meets a 429', async () => {
    // Arrange: 60 points an hour; 25 calls at 3 points each need 75, so they must cross the reset.
    const clock = createVirtualClock(START);
    const sim = await setup(clock.now, { points: { perHour: 60, nearLimitShare: 0.5 } });
    const jira = connect(sim, clock.tuning);

    // Act
    for (let i = 0; i < 25; i++) await jira.whoami();

    // Assert
    const log = sim.requestLog();
    expect({
      refused: refusals(sim).length,
      crossedReset: log.at(-1)!.at >= RESET,
      // Most of the hour's 20 calls' worth went before the reset: slowed down, not stopped.
      mostBeforeReset: log.filter((r) => r.at < RESET).length >= 18,
      slowed: (jira.stats().quota?.nearLimitSlowdowns ?? 0) > 0,
      pauses: jira.stats().quota?.pauses,
    }).toEqual({ refused: 0, crossedReset: true, mostBeforeReset: true, slowed: true, pauses: 0 });
  });

  it.each([
    ['final headers, tenant quota', {}, 'jira-quota-tenant-based'],
    ['Beta- / X-Beta- headers, global quota', { beta: true, scope: 'global' as const }, 'jira-quota-global-based'],
  ])(
    'quota pause until reset (%s): a quota 429 holds every endpoint of the connection until the reset, reported with its instant',
    async (_name, form, reason) => {
      // Arrange: another app of the same tenant spends the quota first, heedless of the headers.
      const clock = createVirtualClock(START);
      const sim = await setup(clock.now, { points: { perHour: 30, nearLimitShare: 0, ...form } });
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${sim.url}/rest/api/3/myself`, { headers: { Authorization: 'Bearer another-app' } });
        await res.body?.cancel();
      }
      // One at a time, so the second request is one the pause holds, not one already on its way.
      const jira = connect(sim, clock.tuning, { concurrency: 1 });

      // Act: two endpoints at once; the first answer is the quota's 429.
      await Promise.all([jira.whoami(), jira.checkMapping?.()]);

      // Assert
      const after = sim.requestLog().slice(10);
      expect({
        refused: refusals(sim).map((r) => r.label),
        servedAfterReset: after.filter((r) => r.status === 200).every((r) => r.at >= RESET),
        quota: jira.stats().quota,
      }).toEqual({
        refused: [expect.stringMatching(/^GET (myself|field)$/)],
        servedAfterReset: true,
        quota: {
          pauses: 1,
          pausedUntil: '2026-03-02T11:00:00.000Z',
          reason,
          // The refusal itself says r=0: the connection also paces what follows the reset.
          nearLimitSlowdowns: expect.any(Number),
        },
      });
    },
  );

  it('burst per endpoint: keeps each endpoint and method under its burst limit, other endpoints unaffected', async () => {
    // Arrange: 5 GETs a second per endpoint, on both sides.
    const clock = createVirtualClock(START);
    const sim = await setup(clock.now, { burstPerMethod: { GET: 5 } });
    const jira = connect(sim, clock.tuning, { burstPerSecond: { GET: 5 } });

    // Act: GET field, and 20 GET myself at once beside it.
    await Promise.all([jira.checkMapping?.(), ...Array.from({ length: 20 }, () => jira.whoami())]);

    // Assert: a second's worth at once, then one every 200 ms; GET field did not queue behind them.
    const log = sim.requestLog();
    const myself = log.filter((r) => r.label === 'GET myself').map((r) => r.at - START);
    expect({
      refused: refusals(sim).length,
      lastMyselfMs: Math.max(...myself),
      fieldAtMs: log.find((r) => r.label === 'GET field')!.at - START,
    }).toEqual({ refused: 0, lastMyselfMs: 3000, fieldAtMs: 0 });
  });

  it('the default burst limits are Jira’s, on both sides', async () => {
    // Arrange
    const clock = createVirtualClock(START);
    const sim = await setup(clock.now, { burstPerMethod: JIRA_BURST_DEFAULTS });
    const jira = connect(sim, clock.tuning);

    // Act: 150 GETs to one endpoint as fast as the connection allows.
    await Promise.all(Array.from({ length: 150 }, () => jira.whoami()));

    // Assert
    expect({ defaults: BURST_PER_SECOND, refused: refusals(sim).length }).toEqual({
      defaults: { GET: 100, POST: 100, PUT: 50, DELETE: 50 },
      refused: 0,
    });
  });

  it('a per-issue write 429 holds writes to that issue only', async () => {
    // Arrange: a clock that moves only when the test says, so a held write stays held.
    let t = START;
    const sleepers: { until: number; resolve: () => void }[] = [];
    const tuning: JiraTuning = {
      now: () => t,
      random: () => 0,
      sleep: (ms) => new Promise<void>((resolve) => sleepers.push({ until: t + ms, resolve })),
    };
    const sim = await setup(() => t, {});
    sim.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 2, bugsPerEpic: 0, subtasksPerStory: 0, seed: 1 });
    sim.failNext({ endpoint: 'PUT issue/{key}', kind: 429, reason: 'jira-per-issue-on-write', retryAfterSec: 2 });
    const transport = createJiraTransport({
      connection: 'jira-main',
      baseUrl: sim.url,
      auth: { email: 'bot@acme.test', apiToken: 'token' },
      limits: { concurrency: 1, requestsPerSecond: 1000 },
      log: silentLog,
      tuning,
    });
    cleanup.push(() => transport.close());
    const put = (key: string) =>
      transport.sendRequest({
        url: `/rest/api/3/issue/${key}`,
        method: 'PUT',
        body: { update: { labels: [{ add: 'x' }] } },
      });

    // Act: PAY-1 meets the 429 and waits; PAY-2 goes meanwhile, with no time passing.
    const first = put('PAY-1');
    for (let i = 0; i < 200 && sleepers.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await put('PAY-2');
    t += 2000;
    for (const s of sleepers.splice(0)) s.resolve();
    await first;

    // Assert
    expect(sim.requestLog().map((r) => [r.status, r.at - START])).toEqual([
      [429, 0],
      [204, 0],
      [204, 2000],
    ]);
  });
});
