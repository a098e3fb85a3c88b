import { describe, expect, test } from 'vitest';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/core/errors.ts';
import { fixtureText } from './testing.ts';
import { parseServiceHook, verifyServiceHook } from './webhook.ts';

const auth = { username: 'pmo-sync', password: 'hook-pass' };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const req = (authorization: string | null, rawBody = '{}') => ({
  headers: new Headers(authorization ? { authorization } : {}),
  rawBody,
});
const caught = (fn: () => void): unknown => {
  try {
    fn();
    return null;
  } catch (e) {
    return e;
  }
};

describe('service hook basic auth', () => {
  test('the configured credentials verify', () => {
    expect(caught(() => verifyServiceHook(auth, req(basic('pmo-sync', 'hook-pass'))))).toEqual(null);
  });

  test.each([
    ['a wrong password', basic('pmo-sync', 'hook-pas')],
    ['a wrong user', basic('pmo-synd', 'hook-pass')],
    ['a longer password', basic('pmo-sync', 'hook-pass-and-more')],
    ['no password at all', `Basic ${Buffer.from('pmo-sync').toString('base64')}`],
  ])('%s is refused', (_what, header) => {
    expect(caught(() => verifyServiceHook(auth, req(header)))).toEqual(
      new WebhookVerificationError('invalid credentials'),
    );
  });

  test('missing credentials are refused', () => {
    expect(caught(() => verifyServiceHook(auth, req(null)))).toEqual(
      new WebhookVerificationError('missing basic credentials'),
    );
  });

  test('a bearer token is not basic credentials', () => {
    expect(caught(() => verifyServiceHook(auth, req('Bearer hook-pass')))).toEqual(
      new WebhookVerificationError('missing basic credentials'),
    );
  });

  test('without webhookAuth configured nothing verifies', () => {
    expect(caught(() => verifyServiceHook(undefined, req(basic('pmo-sync', 'hook-pass'))))).toEqual(
      new WebhookVerificationError('no webhookAuth is configured for this connection'),
    );
  });

  test('comparison is constant-time: credentials of any length compare without throwing', () => {
    // timingSafeEqual throws on buffers of different lengths; hashing both sides first is what
    // makes every length comparable in the same time, so lengths must never reach it raw.
    const lengths = [0, 1, 9, 10, 64, 1000].map((n) =>
      caught(() => verifyServiceHook(auth, req(basic('x'.repeat(n), 'y'.repeat(n))))),
    );
    expect(lengths).toEqual(Array(6).fill(new WebhookVerificationError('invalid credentials')));
  });
});

describe('service hook payloads (Microsoft receiver test messages)', () => {
  const none = new Set<string>();

  test('workitem.created', () => {
    expect(parseServiceHook(req(null, fixtureText('hook-workitem.created.json')), none)).toEqual({
      deliveryId: '00000000-0000-0000-0000-000000000000:5',
      kind: 'created',
      keys: ['5'],
      occurredAt: '2014-07-15T17:42:44.663Z',
      revision: '0000000001',
      actor: { id: 'Jamal Hartnett', name: 'Jamal Hartnett' },
      echo: false,
      changedFields: [],
    });
  });

  test('workitem.updated names the item from revision.id and lists the changed fields', () => {
    expect(parseServiceHook(req(null, fixtureText('hook-workitem.updated.json')), none)).toEqual({
      deliveryId: '00000000-0000-0000-0000-000000000000:8',
      kind: 'updated',
      keys: ['5'],
      occurredAt: '2014-07-15T17:42:44.663Z',
      revision: '0000000002',
      actor: { id: 'Jamal Hartnett', name: 'Jamal Hartnett' },
      echo: false,
      changedFields: [
        'System.Rev',
        'System.AuthorizedDate',
        'System.RevisedDate',
        'System.State',
        'System.Reason',
        'System.AssignedTo',
        'System.ChangedDate',
        'System.Watermark',
        'Microsoft.VSTS.Common.Severity',
      ],
    });
  });

  test.each([
    ['deleted', 'hook-workitem.deleted.json'],
    ['restored', 'hook-workitem.restored.json'],
    ['commented', 'hook-workitem.commented.json'],
  ])('workitem.%s', (kind, file) => {
    const ev = parseServiceHook(req(null, fixtureText(file)), none);
    expect({ kind: ev.kind, keys: ev.keys, echo: ev.echo }).toEqual({ kind, keys: ['5'], echo: false });
  });

  test('a change made by our own identity is an echo', () => {
    const ev = parseServiceHook(req(null, fixtureText('hook-workitem.updated.json')), new Set(['jamal hartnett']));
    expect(ev.echo).toEqual(true);
  });

  test('a body that is not JSON, or not an event, is a payload error', () => {
    expect([
      caught(() => parseServiceHook(req(null, 'nope'), none)),
      caught(() => parseServiceHook(req(null, '{"eventType":"x"}'), none)),
    ]).toEqual([
      new WebhookPayloadError('service hook body is not JSON'),
      new WebhookPayloadError('not an Azure DevOps service hook event: notificationId, id, resource'),
    ]);
  });
});
