// The connector's HTTP behaviour against nock: the real azure-devops-node-api client underneath,
// no network. Every interceptor must be used (checked after each test).
import nock from 'nock';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  AuthError,
  ConflictError,
  ConnectorError,
  NotFoundError,
  RateLimitError,
  SchemaError,
} from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createAdoConnector } from './index.ts';
import { PROCESSES } from './simulator/processes.ts';
import { adoConfig, HOST, nockDiscovery, nockTaskMetadata, nockWhoami, ORG_URL } from './testing.ts';

const PAT = 'pat-SECRET-123456';
let sleeps: number[];
/** A virtual clock: sleeping advances it, so waits are asserted without waiting. */
let clock: number;
const virtual = {
  now: () => clock,
  sleep: async (ms: number) => {
    sleeps.push(ms);
    clock += ms;
  },
};

function connector() {
  return createAdoConnector(
    { config: adoConfig(), log: silentLogger(), resolveRef: () => null },
    { client: { retry: { maxRetries: 2, baseDelayMs: 10 }, ...virtual } },
  );
}

const item = (id: number, rev: number, tags?: string) => ({
  id,
  rev,
  fields: {
    'System.TeamProject': 'Fabrikam-Fiber-Git',
    'System.WorkItemType': 'Task',
    'System.State': 'To Do',
    'System.Title': `Task ${id}`,
    'System.CreatedDate': '2026-01-01T00:00:00Z',
    'System.ChangedDate': '2026-01-02T00:00:00Z',
    ...(tags === undefined ? {} : { 'System.Tags': tags }),
  },
  url: `${ORG_URL}/_apis/wit/workItems/${id}`,
});
const states = { count: 4, value: PROCESSES.Scrum.types.Task };
const errorBody = (message: string) => ({ $id: '1', message, typeKey: 'X', errorCode: 0, eventId: 3000 });

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

beforeAll(() => nock.disableNetConnect());
beforeEach(() => {
  sleeps = [];
  clock = Date.parse('2026-03-02T10:00:00Z');
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('errors map to typed errors without the PAT', () => {
  test.each([
    [401, AuthError],
    [403, AuthError],
    [404, NotFoundError],
  ])('HTTP %i', async (status, type) => {
    // Arrange
    nockDiscovery(nock(HOST))
      .post('/acme/_apis/wit/workitemsbatch')
      .reply(status, errorBody(`refused token ${PAT}`));
    // Act
    const err = await failure(connector().fetchItems(['299']));
    // Assert
    expect({
      type: err.constructor,
      status: (err as ConnectorError).httpStatus,
      leaks: err.message.includes(PAT),
    }).toEqual({
      type,
      status,
      leaks: false,
    });
  });

  test('a network failure is retried, then reported without the PAT', async () => {
    // Arrange: nothing listens on port 1 (a free ephemeral port could be taken by a parallel test).
    nock.enableNetConnect('127.0.0.1');
    const port = 1;
    const c = createAdoConnector(
      { config: adoConfig(), log: silentLogger(), resolveRef: () => null, baseUrl: `http://127.0.0.1:${port}/acme` },
      { client: { retry: { maxRetries: 2, baseDelayMs: 1 }, ...virtual } },
    );
    // Act
    const err = await failure(c.fetchItems(['299']));
    nock.disableNetConnect();
    // Assert
    expect({
      type: err.constructor,
      message: err.message,
      leaks: JSON.stringify(err).includes(PAT) || String(err.cause).includes(PAT),
      retries: c.stats().retries,
    }).toEqual({
      type: ConnectorError,
      message: `Azure DevOps (ado): read 1 work items failed: 127.0.0.1:${port} refused the connection (ECONNREFUSED); check the host and port in orgUrl and that the service is up`,
      leaks: false,
      retries: 2,
    });
  });
});

describe('rate limits', () => {
  test('a 429 with Retry-After waits that long, retries, and counts the throttle', async () => {
    // Arrange
    nockTaskMetadata(
      nockDiscovery(nock(HOST))
        .post('/acme/_apis/wit/workitemsbatch')
        .reply(429, errorBody('TF400733: blocked'), { 'Retry-After': '3' })
        .post('/acme/_apis/wit/workitemsbatch')
        .reply(200, { count: 1, value: [item(299, 7)] }),
      states,
    );
    const c = connector();
    // Act
    const items = await c.fetchItems(['299']);
    // Assert
    const { byEndpoint: _b, warnings: _w, ...counters } = c.stats();
    expect({
      keys: items.map((i) => i.key),
      waitedAboutRetryAfter: sleeps.length === 1 && sleeps[0]! > 2900 && sleeps[0]! <= 3000,
      counters,
    }).toEqual({
      keys: ['299'],
      waitedAboutRetryAfter: true,
      counters: { requests: 7, throttled: 1, retries: 1 },
    });
  });

  test('429s beyond the retry budget end in RateLimitError with retryAfterMs', async () => {
    // Arrange
    nockDiscovery(nock(HOST))
      .post('/acme/_apis/wit/workitemsbatch')
      .times(3)
      .reply(429, errorBody('blocked'), { 'Retry-After': '5' });
    // Act
    const err = await failure(connector().fetchItems(['299']));
    // Assert
    expect({ type: err.constructor, retryAfterMs: (err as RateLimitError).retryAfterMs }).toEqual({
      type: RateLimitError,
      retryAfterMs: 5000,
    });
  });

  /** The type states and iteration tree reads that follow a batch, recording when each left. */
  function nockMetadataAt(scope: nock.Scope, sentAt: number[]): nock.Scope {
    return scope
      .get('/acme/Fabrikam-Fiber-Git/_apis/wit/workitemtypes/Task/states')
      .reply(() => {
        sentAt.push(clock);
        return [200, states];
      })
      .get('/acme/Fabrikam-Fiber-Git/_apis/wit/classificationNodes/Iterations')
      .query(true)
      .reply(() => {
        sentAt.push(clock);
        return [200, { name: 'Fabrikam-Fiber-Git' }];
      });
  }

  test('a Retry-After on a 200 makes every next request wait, those sent together included', async () => {
    // Arrange
    let answeredAt = 0;
    const sentAt: number[] = [];
    nockMetadataAt(
      nockDiscovery(nock(HOST))
        .post('/acme/_apis/wit/workitemsbatch')
        .reply(() => {
          answeredAt = clock;
          return [
            200,
            { count: 1, value: [item(299, 7)] },
            { 'Retry-After': '2', 'X-RateLimit-Delay': '0.5', 'X-RateLimit-Resource': 'Core' },
          ];
        }),
      sentAt,
    );
    const c = connector();
    // Act
    await c.fetchItems(['299']);
    // Assert: the next requests (type states and iteration tree, sent together) left 2 s later or after.
    expect({
      sent: sentAt.length,
      waitedRetryAfter: sentAt.every((t) => t - answeredAt >= 2000),
      throttled: c.stats().throttled,
    }).toEqual({
      sent: 2,
      waitedRetryAfter: true,
      throttled: 1,
    });
  });

  test('an X-RateLimit-Delay (the service holding us back) makes every next request wait as long', async () => {
    // Arrange
    let answeredAt = 0;
    const sentAt: number[] = [];
    nockMetadataAt(
      nockDiscovery(nock(HOST))
        .post('/acme/_apis/wit/workitemsbatch')
        .reply(() => {
          answeredAt = clock;
          return [
            200,
            { count: 1, value: [item(299, 7)] },
            { 'X-RateLimit-Delay': '2.5', 'X-RateLimit-Resource': 'Core' },
          ];
        }),
      sentAt,
    );
    const c = connector();
    // Act
    await c.fetchItems(['299']);
    // Assert
    expect({
      sent: sentAt.length,
      waited: sentAt.every((t) => t - answeredAt >= 2500),
      throttled: c.stats().throttled,
    }).toEqual({
      sent: 2,
      waited: true,
      throttled: 1,
    });
  });

  test('a low X-RateLimit-Remaining spreads the next requests until the reset', async () => {
    // Arrange
    const reset = Math.ceil(clock / 1000) + 10;
    let answeredAt = 0;
    const sentAt: number[] = [];
    nockMetadataAt(
      nockDiscovery(nock(HOST))
        .post('/acme/_apis/wit/workitemsbatch')
        .reply(() => {
          answeredAt = clock;
          return [
            200,
            { count: 1, value: [item(299, 7)] },
            { 'X-RateLimit-Limit': '200', 'X-RateLimit-Remaining': '5', 'X-RateLimit-Reset': String(reset) },
          ];
        }),
      sentAt,
    );
    // Act
    await connector().fetchItems(['299']);
    // Assert: the budget drains 195 TSTUs in the 10 s to the reset, 51.3 ms each; 5 left of a
    // threshold of 20 (10% of 200) slows that 4-fold: 206 ms before the next request, and as long
    // between the two sent together: they leave one at a time. (The virtual clock moves as each wait begins.)
    expect({
      sent: sentAt.length,
      waits: sleeps,
      afterBoth: sentAt.every((t) => t - answeredAt >= 412),
    }).toEqual({
      sent: 2,
      waits: [206, 206],
      afterBoth: true,
    });
  });

  test('a 5xx is retried with backoff', async () => {
    // Arrange
    nockTaskMetadata(
      nockDiscovery(nock(HOST))
        .post('/acme/_apis/wit/workitemsbatch')
        .reply(503, 'Service Unavailable')
        .post('/acme/_apis/wit/workitemsbatch')
        .reply(200, { count: 1, value: [item(299, 7)] }),
      states,
    );
    const c = connector();
    // Act
    const items = await c.fetchItems(['299']);
    // Assert
    expect({ keys: items.map((i) => i.key), retries: c.stats().retries, backedOff: sleeps.length }).toEqual({
      keys: ['299'],
      retries: 1,
      backedOff: 1,
    });
  });
});

describe('revision conflicts', () => {
  test('a failed test on /rev re-reads and re-plans on top of the person’s edit', async () => {
    // Arrange: between our read (rev 7) and our patch, a person added "urgent".
    const patches: unknown[] = [];
    nockWhoami(nockDiscovery(nock(HOST)))
      .get('/acme/_apis/wit/workItems/299')
      .query(true)
      .reply(200, item(299, 7, 'Tag1'))
      .patch('/acme/_apis/wit/workItems/299', (b) => patches.push(b) > 0)
      .reply(412, errorBody('Test operation failed for /rev'))
      .get('/acme/_apis/wit/workItems/299')
      .query(true)
      .reply(200, item(299, 8, 'Tag1; urgent'))
      .patch('/acme/_apis/wit/workItems/299', (b) => patches.push(b) > 0)
      .reply(200, item(299, 9, 'Tag1; urgent; pmo-sync'));
    // Act
    const outcome = await connector().updateLabels({ key: '299', add: ['pmo-sync'], remove: [] });
    // Assert
    expect({ outcome, patches }).toEqual({
      outcome: 'updated',
      patches: [
        [
          { op: 'test', path: '/rev', value: 7 },
          { op: 'replace', path: '/fields/System.Tags', value: 'Tag1; pmo-sync' },
        ],
        [
          { op: 'test', path: '/rev', value: 8 },
          { op: 'replace', path: '/fields/System.Tags', value: 'Tag1; urgent; pmo-sync' },
        ],
      ],
    });
  });

  test('when the person already made our change, re-planning finds nothing to write', async () => {
    // Arrange
    nockWhoami(nockDiscovery(nock(HOST)))
      .get('/acme/_apis/wit/workItems/299')
      .query(true)
      .reply(200, item(299, 7, 'Tag1'))
      .patch('/acme/_apis/wit/workItems/299')
      .reply(412, errorBody('Test operation failed for /rev'))
      .get('/acme/_apis/wit/workItems/299')
      .query(true)
      .reply(200, item(299, 8, 'Tag1; PMO-SYNC'));
    // Act
    const outcome = await connector().updateLabels({ key: '299', add: ['pmo-sync'], remove: [] });
    // Assert
    expect(outcome).toEqual('unchanged');
  });

  test('conflicts on every attempt end in ConflictError, nothing overwritten', async () => {
    // Arrange
    let rev = 7;
    nockWhoami(nockDiscovery(nock(HOST)))
      .get('/acme/_apis/wit/workItems/299')
      .query(true)
      .times(3)
      .reply(200, () => item(299, rev++, 'Tag1'))
      .patch('/acme/_apis/wit/workItems/299')
      .times(3)
      .reply(412, errorBody('Test operation failed for /rev'));
    // Act
    const err = await failure(connector().updateFields({ key: '299', fields: { 'Custom.PMOHealth': 'red' } }));
    // Assert
    expect({ type: err.constructor, status: (err as ConflictError).httpStatus }).toEqual({
      type: ConflictError,
      status: 412,
    });
  });
});

describe('responses that break the contract', () => {
  test('a work item without an id is a SchemaError naming the path', async () => {
    // Arrange
    nockDiscovery(nock(HOST))
      .post('/acme/_apis/wit/workitemsbatch')
      .reply(200, { count: 1, value: [{ rev: 1, fields: {} }] });
    // Act
    const err = await failure(connector().fetchItems(['299']));
    // Assert
    expect({ type: err.constructor, issues: (err as SchemaError).issues }).toEqual({
      type: SchemaError,
      issues: [{ path: 'value.0.id', message: 'Invalid input: expected number, received undefined' }],
    });
  });

  test('checkMapping reports a state whose category pmo-sync does not know, and an unmapped type', async () => {
    // Arrange
    nockDiscovery(nock(HOST))
      .post('/acme/_apis/wit/workitemsbatch')
      .reply(200, {
        count: 1,
        value: [{ ...item(299, 7), fields: { ...item(299, 7).fields, 'System.WorkItemType': 'Spike' } }],
      })
      .get('/acme/Fabrikam-Fiber-Git/_apis/wit/classificationNodes/Iterations')
      .query(true)
      .reply(200, { name: 'Fabrikam-Fiber-Git' })
      .get('/acme/Fabrikam-Fiber-Git/_apis/wit/workitemtypes/Spike/states')
      .reply(200, {
        count: 2,
        value: [
          { name: 'To Do', category: 'Proposed' },
          { name: 'Parked', category: 'Frozen' },
        ],
      });
    const c = connector();
    await c.fetchItems(['299']);
    // Act
    const drift = await c.checkMapping!();
    // Assert
    expect(drift).toEqual([
      { what: 'type', name: 'Spike', message: 'type "Spike" in Fabrikam-Fiber-Git has no kind; add it to typeMap' },
      {
        what: 'status',
        name: 'Parked',
        message: 'state "Parked" of Spike in Fabrikam-Fiber-Git has unknown category "Frozen"',
      },
    ]);
  });
});

describe('creates are never sent twice', () => {
  test('a 503 on adding the bot comment is not retried (it may have been added)', async () => {
    // Arrange
    nockWhoami(nockDiscovery(nock(HOST)))
      .get('/acme/Fabrikam-Fiber-Git/_apis/wit/workItems/299/comments')
      .query(true)
      .reply(200, { totalCount: 0, count: 0, comments: [] })
      .post('/acme/Fabrikam-Fiber-Git/_apis/wit/workItems/299/comments')
      .reply(503, 'Service Unavailable');
    // The comments route needs the item's project, read from the item itself.
    nock(HOST).get('/acme/_apis/wit/workItems/299').query(true).reply(200, item(299, 7));
    const c = connector();
    // Act
    const err = await failure(c.ensureComment({ key: '299', commentId: null, doc: { marker: 'm', blocks: [] } }));
    // Assert
    expect({ type: err.constructor, status: (err as ConnectorError).httpStatus, retries: c.stats().retries }).toEqual({
      type: ConnectorError,
      status: 503,
      retries: 0,
    });
  });
});
