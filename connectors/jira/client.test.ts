// The transport against nock: typed errors that never carry the token, Retry-After honoured on a
// virtual clock (no request before it expires), backoff on 5xx and dropped connections for
// idempotent calls only, a connection-wide pause on quota limits, per-issue write pacing, and
// schema mismatches reported by field.
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConnectorError, NotFoundError, RateLimitError, SchemaError } from '../../src/core/errors.ts';
import { createJiraTransport, type JiraTuning } from './client.ts';
import { createJiraConnector } from './index.ts';
import { jiraConfig, noRefs, silentLog, TEST_TOKEN } from './testing.ts';

const SITE = 'https://acme.atlassian.net';
const BASIC = Buffer.from(`bot@acme.test:${TEST_TOKEN}`).toString('base64');
const ME = { accountId: '5b10a2844c20165700ede21g', displayName: 'pmo-sync bot' };

/** A virtual clock: sleeping advances it, so waits are asserted without waiting. */
function virtualClock() {
  const c = { t: 1_000_000, sleeps: [] as number[] };
  const tuning: JiraTuning = {
    now: () => c.t,
    sleep: async (ms) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
    random: () => 0.5,
    baseDelayMs: 100,
  };
  return { c, tuning };
}

function connector(tuning: JiraTuning = {}, config = jiraConfig()) {
  return createJiraConnector({ config, log: silentLog, resolveRef: noRefs }, tuning);
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

function leaks(e: Error): boolean {
  const text = `${e.message} ${JSON.stringify(e)} ${String(e.stack)}`;
  return text.includes(TEST_TOKEN) || text.includes(BASIC);
}

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.enableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('errors', () => {
  it('401 is an AuthError that names the credential, not the token', async () => {
    // Arrange
    nock(SITE)
      .get('/rest/api/3/myself')
      .matchHeader('authorization', `Basic ${BASIC}`)
      .reply(401, { errorMessages: ['Unauthorized'] });

    // Act
    const e = await failure(connector().whoami());

    // Assert
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toBe(
      'Jira at acme.atlassian.net rejected the API token for bot@acme.test (401 on GET myself); check that it is valid and not expired (set auth.apiToken of connection "jira-main")',
    );
    expect((e as AuthError).httpStatus).toBe(401);
    expect(leaks(e)).toBe(false);
  });

  it('401 with a bearer token says so', async () => {
    // Arrange
    nock(SITE).get('/rest/api/3/myself').matchHeader('authorization', 'Bearer bearer-secret-xyz').reply(401, {});

    // Act
    const e = await failure(connector({}, jiraConfig({ auth: { bearerToken: 'bearer-secret-xyz' } })).whoami());

    // Assert
    expect(e.message).toBe(
      'Jira at acme.atlassian.net rejected the bearer token (401 on GET myself); check that it is valid and not expired (set auth.bearerToken of connection "jira-main")',
    );
    expect(e.message.includes('bearer-secret-xyz')).toBe(false);
  });

  it('403 is an AuthError about permission', async () => {
    // Arrange
    nock(SITE)
      .post('/rest/api/3/search/jql')
      .reply(403, { errorMessages: ['You do not have permission to browse PAY.'] });

    // Act
    const e = await failure(connector().listKeys());

    // Assert
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toBe(
      'Jira at acme.atlassian.net refused POST search/jql for the API token for bot@acme.test (403): the account lacks the "Browse projects" permission: You do not have permission to browse PAY.',
    );
  });

  it('404 is a NotFoundError', async () => {
    // Arrange
    nock(SITE)
      .get('/rest/api/3/issue/PAY-404')
      .query(true)
      .reply(404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });

    // Act
    const e = await failure(connector().updateLabels({ key: 'PAY-404', add: ['pmo'], remove: [] }));

    // Assert
    expect(e).toEqual(
      new NotFoundError(
        'GET issue/{key}: not found in Jira: Issue does not exist or you do not have permission to see it.',
        {
          tracker: 'jira',
          connection: 'jira-main',
          httpStatus: 404,
        },
      ),
    );
  });

  it('never repeats a secret Jira echoes back in an error body', async () => {
    // Arrange
    nock(SITE)
      .post('/rest/api/3/search/jql')
      .reply(400, { errorMessages: [`bad token ${TEST_TOKEN} in query`] });

    // Act
    const e = await failure(connector().listKeys());

    // Assert
    expect(e).toBeInstanceOf(ConnectorError);
    expect(e.message).toBe('POST search/jql failed with HTTP 400: bad token *** in query');
    expect(leaks(e)).toBe(false);
  });

  it('a response that breaks the schema is a SchemaError naming the field', async () => {
    // Arrange
    const config = jiraConfig({
      fields: {
        points: 'customfield_10016',
        start: 'customfield_10015',
        sprint: 'customfield_10020',
        epicLink: 'customfield_10014',
      },
    });
    nock(SITE)
      .post('/rest/api/3/search/jql')
      .reply(200, {
        issues: [
          {
            id: '1',
            key: 'PAY-1',
            fields: {
              summary: 42,
              issuetype: { name: 'Story' },
              status: { name: 'To Do', statusCategory: { key: 'new' } },
              project: { key: 'PAY' },
              created: '2026-01-01T00:00:00.000+0000',
            },
          },
        ],
      });

    // Act
    const e = await failure(connector({}, config).pull({ cursor: null, onPage: async () => {} }));

    // Assert
    expect(e).toBeInstanceOf(SchemaError);
    expect((e as SchemaError).issues).toEqual([
      { path: 'issues.0.fields.summary', message: 'Invalid input: expected string, received number' },
      { path: 'issues.0.fields.updated', message: 'Invalid input: expected string, received undefined' },
    ]);
    expect(e.message).toBe(
      'Jira (jira-main): POST search/jql: response does not match the expected schema: issues.0.fields.summary: Invalid input: expected string, received number; issues.0.fields.updated: Invalid input: expected string, received undefined',
    );
  });
});

describe('retries and rate limits', () => {
  it('429 with Retry-After: no request is sent before it expires', async () => {
    // Arrange
    const { c, tuning } = virtualClock();
    const sentAt: number[] = [];
    nock(SITE)
      .get('/rest/api/3/myself')
      .reply(() => {
        sentAt.push(c.t);
        return [
          429,
          { errorMessages: ['Rate limit exceeded.'] },
          { 'Retry-After': '7', 'RateLimit-Reason': 'jira-burst-based' },
        ];
      })
      .get('/rest/api/3/myself')
      .reply(() => {
        sentAt.push(c.t);
        return [200, ME];
      });
    const jira = connector(tuning);

    // Act
    const me = await jira.whoami();

    // Assert
    expect(me).toEqual({ id: ME.accountId, name: ME.displayName });
    expect(sentAt[1]! - sentAt[0]!).toBeGreaterThanOrEqual(7000);
    expect(jira.stats()).toEqual({
      requests: 2,
      throttled: 1,
      retries: 1,
      byEndpoint: { 'GET myself': 2 },
      warnings: {},
      quota: { pauses: 0, pausedUntil: null, reason: null, nearLimitSlowdowns: 0 },
    });
  });

  it('gives up with a RateLimitError carrying Retry-After after the last attempt', async () => {
    // Arrange
    const { tuning } = virtualClock();
    nock(SITE).get('/rest/api/3/myself').times(3).reply(429, {}, { 'Retry-After': '3' });

    // Act
    const e = await failure(connector({ ...tuning, maxAttempts: 3 }).whoami());

    // Assert
    expect(e).toBeInstanceOf(RateLimitError);
    expect((e as RateLimitError).retryAfterMs).toBe(3000);
  });

  it('a quota RateLimit-Reason pauses the whole connection, other endpoints included', async () => {
    // Arrange
    const { c, tuning } = virtualClock();
    const sentAt: Record<string, number[]> = { myself: [], field: [] };
    const jira = connector(tuning);
    let other: Promise<unknown> = Promise.resolve();
    nock(SITE)
      .get('/rest/api/3/myself')
      .reply(() => {
        sentAt.myself!.push(c.t);
        // A second caller arrives while the connection is out of quota.
        other = jira.checkMapping!();
        return [429, {}, { 'Retry-After': '60', 'RateLimit-Reason': 'jira-quota-tenant-based' }];
      })
      .get('/rest/api/3/myself')
      .reply(() => {
        sentAt.myself!.push(c.t);
        return [200, ME];
      })
      .get('/rest/api/3/field')
      .reply(() => {
        sentAt.field!.push(c.t);
        return [200, []];
      });

    // Act
    await jira.whoami();
    await other;

    // Assert
    expect(sentAt.myself![1]! - sentAt.myself![0]!).toBeGreaterThanOrEqual(60_000);
    expect(sentAt.field![0]! - sentAt.myself![0]!).toBeGreaterThanOrEqual(60_000);
  });

  // Dropped connections are exercised against the simulator (a real socket reset): nock's
  // replyWithError leaves native fetch hanging until its timeout.
  it('retries 5xx on idempotent calls, with backoff', async () => {
    // Arrange
    const { c, tuning } = virtualClock();
    nock(SITE)
      .get('/rest/api/3/myself')
      .reply(503, {})
      .get('/rest/api/3/myself')
      .reply(500, {})
      .get('/rest/api/3/myself')
      .reply(200, ME);
    const jira = connector(tuning);

    // Act
    await jira.whoami();

    // Assert
    expect(jira.stats()).toEqual({
      requests: 3,
      throttled: 0,
      retries: 2,
      byEndpoint: { 'GET myself': 3 },
      warnings: {},
      quota: { pauses: 0, pausedUntil: null, reason: null, nearLimitSlowdowns: 0 },
    });
    // Full jitter at random()=0.5 over 100 and 200 ms.
    expect(c.sleeps).toEqual([50, 100]);
  });

  it('does not resend a comment creation after a 5xx (it may have been stored)', async () => {
    // Arrange
    nock(SITE)
      .get('/rest/api/3/myself')
      .reply(200, ME)
      .get('/rest/api/3/issue/PAY-1/comment')
      .query(true)
      .reply(200, { comments: [], startAt: 0, maxResults: 100, total: 0 })
      .post('/rest/api/3/issue/PAY-1/comment')
      .reply(502, {});
    const jira = connector(virtualClock().tuning);

    // Act
    const e = await failure(
      jira.ensureComment({ key: 'PAY-1', commentId: null, doc: { marker: 'pmo:1', blocks: [] } }),
    );

    // Assert
    expect(e.message).toBe('POST issue/{key}/comment failed with HTTP 502');
    expect(jira.stats().byEndpoint).toEqual({
      'GET myself': 1,
      'GET issue/{key}/comment': 1,
      'POST issue/{key}/comment': 1,
    });
  });

  it('paces writes to one issue to the per-issue limit', async () => {
    // Arrange
    const { c, tuning } = virtualClock();
    const sentAt: number[] = [];
    nock(SITE)
      .put('/rest/api/3/issue/PAY-1')
      .times(5)
      .reply(() => {
        sentAt.push(c.t);
        return [204];
      });
    const transport = createJiraTransport({
      connection: 'jira-main',
      baseUrl: SITE,
      auth: { email: 'bot@acme.test', apiToken: TEST_TOKEN },
      limits: { concurrency: 1, requestsPerSecond: 1000 },
      log: silentLog,
      tuning: { ...tuning, issueWriteLimits: [{ max: 3, windowMs: 2000 }] },
    });

    // Act
    for (let i = 0; i < 5; i++)
      await transport.sendRequest({ url: '/rest/api/3/issue/PAY-1', method: 'PUT', body: {} });

    // Assert
    expect(sentAt[3]! - sentAt[0]!).toBeGreaterThanOrEqual(2000);
    expect(sentAt[4]! - sentAt[1]!).toBeGreaterThanOrEqual(2000);
    expect(transport.stats().throttled).toBe(1);
  });
});
