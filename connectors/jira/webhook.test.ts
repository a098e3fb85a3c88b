// Webhook signatures (the published WebSub test vector, tampering, rotation) and parsing of real
// Jira Cloud webhook captures (klienti.atlassian.net, see __fixtures__/PROVENANCE.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/core/errors.ts';
import { type MapContext, toWorkItem } from './map.ts';
import { JiraIssue } from './schema.ts';
import { parseJiraWebhook, signBody, verifyJiraSignature } from './webhook.ts';

const capture = (name: string) => readFileSync(new URL(`./__fixtures__/webhooks/${name}`, import.meta.url), 'utf8');
const req = (rawBody: string, headers: Record<string, string> = {}) => ({ headers: new Headers(headers), rawBody });
const rejection = (f: () => void): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
};

describe('X-Hub-Signature', () => {
  const SECRET = "It's a Secret to Everybody";
  const VECTOR = 'sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9';

  it('computes the published test vector', () => {
    // Act
    const header = signBody(SECRET, 'Hello World!');

    // Assert
    expect(header).toBe(VECTOR);
  });

  it('accepts the test vector, with the secret current or previous (rotation)', () => {
    // Arrange
    const request = req('Hello World!', { 'X-Hub-Signature': VECTOR });

    // Act
    const outcomes = [
      rejection(() => verifyJiraSignature(request, [SECRET])),
      rejection(() => verifyJiraSignature(request, ['the-new-secret', SECRET])),
      rejection(() => verifyJiraSignature(request, [SECRET, undefined])),
    ];

    // Assert
    expect(outcomes).toEqual([null, null, null]);
  });

  it.each([
    [
      'a tampered body',
      req('Hello World?', { 'X-Hub-Signature': VECTOR }),
      [SECRET],
      'X-Hub-Signature does not match the body',
    ],
    [
      'a trailing newline',
      req('Hello World!\n', { 'X-Hub-Signature': VECTOR }),
      [SECRET],
      'X-Hub-Signature does not match the body',
    ],
    [
      'a wrong secret',
      req('Hello World!', { 'X-Hub-Signature': VECTOR }),
      ['not the secret'],
      'X-Hub-Signature does not match the body',
    ],
    ['a missing header', req('Hello World!'), [SECRET], 'missing X-Hub-Signature header'],
    [
      'a sha1 header',
      req('Hello World!', { 'X-Hub-Signature': 'sha1=01234567' }),
      [SECRET],
      'malformed X-Hub-Signature header',
    ],
    [
      'no configured secret',
      req('Hello World!', { 'X-Hub-Signature': VECTOR }),
      [undefined],
      'no webhook secret is configured for this connection',
    ],
  ] as const)('rejects %s', (_name, request, secrets, message) => {
    // Act
    const error = rejection(() => verifyJiraSignature(request, secrets));

    // Assert
    expect(error).toEqual(new WebhookVerificationError(message));
  });

  it('verifies a real capture signed with the real algorithm, and rejects it once a byte changes', () => {
    // Arrange
    const raw = capture('1628833397385_jira_issue_updated_issue_generic.json');
    const header = signBody('s3cret', raw);

    // Act
    const good = rejection(() => verifyJiraSignature(req(raw, { 'x-hub-signature': header }), ['s3cret']));
    const bad = rejection(() =>
      verifyJiraSignature(
        req(raw.replace('Selected for Development', 'Selected for Developmenu'), { 'x-hub-signature': header }),
        ['s3cret'],
      ),
    );

    // Assert
    expect([good, bad]).toEqual([null, new WebhookVerificationError('X-Hub-Signature does not match the body')]);
  });
});

describe('parseJiraWebhook on real captures', () => {
  const VENIAMIN = { id: '557058:bf39af2f-2a15-473b-ba9b-fecfcab48e41', name: 'Veniamin Smorodinsky' };
  const headers = { 'X-Atlassian-Webhook-Identifier': 'delivery-1' };

  it.each([
    [
      '1628833397385_jira_issue_updated_issue_generic.json',
      {
        deliveryId: 'delivery-1',
        kind: 'updated',
        keys: ['TALK-86'],
        occurredAt: '2021-08-13T05:43:17.385Z',
        revision: '2021-08-13T05:43:17.361Z',
        actor: VENIAMIN,
        echo: false,
        changedFields: ['status'],
      },
    ],
    [
      '1628853167992_jira_issue_updated_issue_assigned.json',
      {
        deliveryId: 'delivery-1',
        kind: 'updated',
        keys: ['CRM-13'],
        occurredAt: '2021-08-13T11:12:47.992Z',
        revision: '2021-08-13T11:12:47.987Z',
        actor: { id: '60b8a7caa5be0a0069f3301f', name: 'Сергей' },
        echo: false,
        changedFields: ['assignee'],
      },
    ],
    [
      '1628677146887_comment_created.json',
      {
        deliveryId: 'delivery-1',
        kind: 'commented',
        keys: ['TALK-132'],
        occurredAt: '2021-08-11T10:19:06.887Z',
        revision: null,
        actor: VENIAMIN,
        echo: false,
        changedFields: [],
      },
    ],
    [
      '1628701839609_worklog_created.json',
      {
        deliveryId: 'delivery-1',
        kind: 'other',
        keys: ['10531'],
        occurredAt: '2021-08-11T17:10:39.609Z',
        revision: null,
        actor: null,
        echo: false,
        changedFields: [],
      },
    ],
    [
      // Jira Server payload (ids, no zone in the timestamp): the link names both issues by id.
      'server-issuelink__created.json',
      {
        deliveryId: 'delivery-1',
        kind: 'linked',
        keys: ['11442', '11961'],
        occurredAt: null,
        revision: null,
        actor: null,
        echo: false,
        changedFields: [],
      },
    ],
  ])('parses %s', (name, expected) => {
    // Act
    const event = parseJiraWebhook(req(capture(name), headers), 'someone-else');

    // Assert
    expect(event).toEqual(expected);
  });

  it('marks changes made by our own account as echoes', () => {
    // Act
    const event = parseJiraWebhook(req(capture('1628677146887_comment_created.json'), headers), VENIAMIN.id);

    // Assert
    expect(event.echo).toBe(true);
  });

  it('dedupes on a body hash when the delivery header is missing', () => {
    // Arrange
    const raw = capture('1628677146887_comment_created.json');

    // Act
    const [a, b] = [parseJiraWebhook(req(raw), null), parseJiraWebhook(req(raw), null)];

    // Assert
    expect(a.deliveryId).toBe(b.deliveryId);
    expect(a.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it.each([
    ['not JSON', '{"webhookEvent":', 'webhook body is not JSON'],
    [
      'no event name',
      '{"issue":{"id":"1","key":"PAY-1"}}',
      'webhook body is not a Jira event: webhookEvent: Invalid input: expected string, received undefined',
    ],
    [
      'an issue event without an issue',
      '{"webhookEvent":"jira:issue_updated"}',
      'jira:issue_updated event without an issue',
    ],
  ])('rejects %s', (_name, raw, message) => {
    // Act
    const error = rejection(() => parseJiraWebhook(req(raw), null));

    // Assert
    expect(error).toEqual(new WebhookPayloadError(message));
  });
});

describe('the issue inside a real delivery normalizes like a pulled one', () => {
  const ctx: MapContext = {
    connection: 'jira-cloud',
    siteUrl: 'https://klienti.atlassian.net',
    fieldIds: {
      points: null,
      start: null,
      sprint: 'customfield_10020',
      epicLink: null,
      owner: null,
      crossTracker: null,
      dependsOn: null,
    },
    extras: {},
    typeMap: {},
    resolveRef: () => null,
  };
  const base = {
    connection: 'jira-cloud',
    tracker: 'jira',
    kind: 'task',
    type: 'Task',
    status: 'Selected for Development',
    statusCategory: 'todo',
    priority: 'Обычный',
    labels: [],
    started: null,
    resolved: null,
    start: null,
    due: null,
    points: null,
    parent: null,
    links: [],
    iteration: null,
    fields: {},
  };

  it.each([
    [
      '1628833397385_jira_issue_updated_issue_generic.json',
      {
        ...base,
        ref: 'jira-cloud:TALK-86',
        key: 'TALK-86',
        project: 'TALK',
        title: 'Исключение дублирующих пингов API Whatsapp',
        assignee: { id: '60e55212f90dee00694cff7e', name: 'Даниил' },
        owner: { id: '60e55212f90dee00694cff7e', name: 'Даниил' },
        created: '2021-07-29T15:27:58.605Z',
        updated: '2021-08-13T05:43:17.361Z',
        estimateHours: null,
        remainingHours: 0,
        url: 'https://klienti.atlassian.net/browse/TALK-86',
        revision: '2021-08-13T05:43:17.361Z',
      },
    ],
    [
      '1628853167992_jira_issue_updated_issue_assigned.json',
      {
        ...base,
        ref: 'jira-cloud:CRM-13',
        key: 'CRM-13',
        project: 'CRM',
        title: 'Jira Report',
        assignee: { id: '557058:bf39af2f-2a15-473b-ba9b-fecfcab48e41', name: 'Veniamin Smorodinsky' },
        owner: { id: '557058:bf39af2f-2a15-473b-ba9b-fecfcab48e41', name: 'Veniamin Smorodinsky' },
        created: '2021-07-16T15:50:37.763Z',
        updated: '2021-08-13T11:12:47.987Z',
        estimateHours: 10,
        remainingHours: 0,
        url: 'https://klienti.atlassian.net/browse/CRM-13',
        revision: '2021-08-13T11:12:47.987Z',
      },
    ],
  ])('%s', (name, expected) => {
    // Arrange
    const issue = JiraIssue.parse((JSON.parse(capture(name)) as { issue: unknown }).issue);

    // Act
    const item = toWorkItem(issue, ctx, null);

    // Assert
    expect(item).toEqual({ ...expected, raw: issue });
  });
});
