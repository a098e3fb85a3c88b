// Jira Cloud's 2026 rate-limit headers, read exactly (final, Beta- and X-Beta- forms), and what
// the transport does with them against nock: a quota answer told only by the beta headers still
// pauses the whole connection until its reset, a near-limit flag slows the next request, and an
// expired token's 401 says it expired and names the setting.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.ts';
import type { JiraTuning } from './client.ts';
import { createJiraConnector } from './index.ts';
import { isNearLimit, readJiraRateLimit } from './rate-limit.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

const SITE = 'https://acme.atlassian.net';
const NOW = Date.parse('2026-03-26T16:25:28Z');
const ME = { accountId: '5b10a2844c20165700ede21g', displayName: 'pmo-sync bot' };

describe('reading the headers', () => {
  it('reads the final forms', () => {
    const h = new Headers({
      'RateLimit-Reason': 'jira-quota-global-based',
      'RateLimit-Policy': '"global-app-quota";q=65000;w=3600',
      RateLimit: '"global-app-quota";r=0;t=2072',
      'X-RateLimit-Reset': '2026-03-26T17:00Z',
      'X-RateLimit-Limit': '65000',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-NearLimit': 'true',
      'Retry-After': '2000',
    });
    expect(readJiraRateLimit(h, NOW)).toEqual({
      reason: 'jira-quota-global-based',
      scope: 'quota',
      nearLimit: true,
      limit: 65000,
      remaining: 0,
      // RateLimit t (2072 s) ends latest: later than Retry-After (2000 s) and the reset (2072 s).
      waitMs: 2_072_000,
      quota: { points: 65000, windowS: 3600, left: 0, resetS: 2072 },
    });
  });

  it('reads the Beta- and X-Beta- forms Jira first sent', () => {
    // The header set a partner logged on 2026-03-26, near the end of a tenant's quota.
    const h = new Headers({
      'Beta-Ratelimit-Policy': '"tenant-app-quota";q=100100;w=3600',
      'Beta-Ratelimit': '"tenant-app-quota";r=17842;t=2107',
      'X-Beta-Ratelimit-Reason': 'jira-quota-tenant-based',
      'X-Beta-Ratelimit-Nearlimit': 'true',
      'X-Ratelimit-Limit': '350',
      'X-Ratelimit-Remaining': '349',
    });
    const rl = readJiraRateLimit(h, NOW);
    expect({ rl, near: isNearLimit(rl) }).toEqual({
      rl: {
        reason: 'jira-quota-tenant-based',
        scope: 'quota',
        nearLimit: true,
        limit: 350,
        remaining: 349,
        waitMs: 2_107_000,
        quota: { points: 100100, windowS: 3600, left: 17842, resetS: 2107 },
      },
      near: true,
    });
  });

  it.each([
    ['jira-burst-based', 'burst'],
    ['jira-per-issue-on-write', 'issue-write'],
    ['jira-quota-tenant-based', 'quota'],
    ['jira-quota-global-based', 'quota'],
    ['something-new', null],
  ])('RateLimit-Reason %s is a %s limit', (reason, scope) => {
    expect(readJiraRateLimit(new Headers({ 'RateLimit-Reason': reason }), NOW).scope).toBe(scope);
  });

  it('near the limit by the numbers alone, without the flag', () => {
    const near = readJiraRateLimit(
      new Headers({
        'RateLimit-Policy': '"tenant-app-quota";q=1000;w=3600',
        RateLimit: '"tenant-app-quota";r=150;t=60',
      }),
      NOW,
    );
    const far = readJiraRateLimit(
      new Headers({
        'RateLimit-Policy': '"tenant-app-quota";q=1000;w=3600',
        RateLimit: '"tenant-app-quota";r=900;t=60',
      }),
      NOW,
    );
    expect([isNearLimit(near), isNearLimit(far)]).toEqual([true, false]);
  });

  it('hostile values are ignored, never guessed at', () => {
    const h = new Headers({
      'RateLimit-Policy': `"${'x'.repeat(5000)}";q=1e99;w=-5, junk`,
      RateLimit: 'r=abc;t=',
      'X-RateLimit-Limit': '-1',
      'X-RateLimit-Remaining': '9'.repeat(40),
      'X-RateLimit-NearLimit': 'maybe',
      'X-RateLimit-Reset': '1774540800',
    });
    expect(readJiraRateLimit(h, NOW)).toEqual({
      reason: null,
      scope: null,
      nearLimit: false,
      limit: null,
      remaining: null,
      waitMs: null,
      quota: null,
    });
  });
});

describe('what the transport does with them', () => {
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });

  function clock() {
    const c = { t: NOW, sleeps: [] as number[] };
    const tuning: JiraTuning = {
      now: () => c.t,
      sleep: async (ms) => {
        c.sleeps.push(ms);
        c.t += ms;
      },
      random: () => 0,
    };
    return { c, tuning };
  }
  const connect = (tuning: JiraTuning, config = jiraConfig()) =>
    createJiraConnector({ config, log: silentLog, resolveRef: noRefs }, tuning);

  it('a quota 429 told only in beta headers pauses the connection until its reset, and says until when', async () => {
    // Arrange
    const { c, tuning } = clock();
    const sentAt: number[] = [];
    nock(SITE)
      .get('/rest/api/3/myself')
      .reply(
        429,
        { errorMessages: ['Rate limit exceeded.'] },
        {
          'X-Beta-RateLimit-Reason': 'jira-quota-tenant-based',
          'Beta-RateLimit': '"tenant-app-quota";r=0;t=120',
          'X-Beta-RateLimit-Reset': '2026-03-26T16:27:28Z',
        },
      )
      .get('/rest/api/3/field')
      .reply(() => {
        sentAt.push(c.t);
        return [200, []];
      })
      .get('/rest/api/3/myself')
      .reply(() => {
        sentAt.push(c.t);
        return [200, ME];
      });
    const jira = connect(tuning);

    // Act
    await jira.whoami();
    await jira.checkMapping?.();

    // Assert
    expect({ sentAt: sentAt.map((t) => (t - NOW) / 1000), quota: jira.stats().quota }).toEqual({
      sentAt: [120, 120],
      quota: {
        pauses: 1,
        pausedUntil: '2026-03-26T16:27:28.000Z',
        reason: 'jira-quota-tenant-based',
        nearLimitSlowdowns: 0,
      },
    });
  });

  it('a near-limit answer spreads what is left of the quota over the time to its reset', async () => {
    // Arrange: 20 points left for 600 s, each request costing 2 of them.
    const { c, tuning } = clock();
    const sentAt: number[] = [];
    const answer = (left: number) => () => {
      sentAt.push(c.t);
      return [
        200,
        ME,
        {
          'RateLimit-Policy': '"tenant-app-quota";q=1000;w=3600',
          RateLimit: `"tenant-app-quota";r=${left};t=600`,
          'X-RateLimit-NearLimit': 'true',
        },
      ] as [number, unknown, Record<string, string>];
    };
    nock(SITE)
      .get('/rest/api/3/myself')
      .reply(answer(22))
      .get('/rest/api/3/myself')
      .reply(answer(20))
      .get('/rest/api/3/myself')
      .reply(answer(18));
    const jira = connect(tuning);

    // Act
    for (let i = 0; i < 3; i++) await jira.whoami();

    // Assert: after the second answer, 20 points at 2 a request over 600 s is one request every 60 s.
    expect({ sentAt: sentAt.map((t) => (t - NOW) / 1000), slowdowns: jira.stats().quota?.nearLimitSlowdowns }).toEqual({
      sentAt: [0, 27.273, 87.273].map((s) => Math.round(s * 1000) / 1000),
      slowdowns: 3,
    });
  });

  it('a 401 for an expired API token says it expired and names the setting', async () => {
    // Arrange
    nock(SITE).get('/rest/api/3/myself').reply(401, 'Unauthorized', {
      'WWW-Authenticate': 'Basic realm="Jira", error="invalid_token", error_description="The API token has expired"',
    });
    const jira = connect(clock().tuning);

    // Act
    const e = (await jira.whoami().catch((err: unknown) => err)) as Error;

    // Assert
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toBe(
      'Jira at acme.atlassian.net rejected the API token for bot@acme.test (401 on GET myself): it has expired; create a new one and set auth.apiToken of connection "jira-main"',
    );
  });
});
