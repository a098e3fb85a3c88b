// Jira Cloud's 2026 credentials through the real connector against the simulator: scoped API
// tokens only ever go to the gateway (`apiUrl`/ex/jira/{cloudId}, the cloud id read from the
// site) while links keep the site URL; OAuth 2.0 (3LO) access tokens are refreshed when they
// expire, the rotated refresh token is kept in the database so a restart keeps working, and
// dynamic webhooks are refreshed before their 30-day expiry.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createKvTokenStore } from '../../src/auth/jira-tokens.ts';
import { AuthError, WebhookVerificationError } from '../../src/core/errors.ts';
import { dbTargets } from '../../test/helpers/db.ts';
import { createMemoryTokenStore, fingerprint, type JiraTokenStore } from './auth.ts';
import { createJiraConnector } from './index.ts';
import { DYNAMIC_WEBHOOK_TTL_MS, type JiraSimulator, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';
import { createVirtualClock } from './virtual-clock.ts';
import { signDeliveryJwt } from './webhook-jwt.ts';

const START = Date.parse('2026-03-02T10:00:00Z');
const DAY = 24 * 3_600_000;
const OAUTH = { clientId: 'pmo-sync-app', clientSecret: 'client-secret-9f8e7d', refreshToken: 'rt-from-consent' };
const SCOPED = { email: 'bot@acme.test', apiToken: 'ATATT-scoped-token-123' };

describe('Jira Cloud credentials, 2026', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function sim(now: () => number, opts: Parameters<typeof startJiraSimulator>[0] = {}) {
    const s = await startJiraSimulator({ now, ...opts });
    cleanup.push(() => s.close());
    return s;
  }
  /** The site on 127.0.0.1 and the gateway on localhost: one simulator, two origins. */
  const gatewayOf = (s: JiraSimulator) => s.url.replace('127.0.0.1', 'localhost');
  function oauthConnector(s: JiraSimulator, now: () => number, tokenStore?: JiraTokenStore) {
    const jira = createJiraConnector(
      {
        config: jiraConfig({
          baseUrl: s.url,
          apiUrl: gatewayOf(s),
          authUrl: s.url,
          auth: { oauth: OAUTH },
        }),
        log: silentLog,
        resolveRef: noRefs,
        tokenStore,
      },
      { now, random: () => 0 },
    );
    cleanup.push(() => jira.close());
    return jira;
  }

  it('a scoped API token goes to apiUrl/ex/jira/{cloudId} only, and links still use the site', async () => {
    // Arrange: the site itself accepts another token, never the scoped one.
    const clock = createVirtualClock(START);
    const s = await sim(clock.now, {
      cloudId: 'c0ffee00-1111-4222-8333-444455556666',
      scopedTokens: [SCOPED],
      auth: { email: 'admin@acme.test', apiToken: 'classic' },
    });
    s.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 1, bugsPerEpic: 0, subtasksPerStory: 0, seed: 1 });
    const jira = createJiraConnector(
      {
        config: jiraConfig({ baseUrl: s.url, apiUrl: gatewayOf(s), auth: { ...SCOPED, scoped: true } }),
        log: silentLog,
        resolveRef: noRefs,
      },
      clock.tuning,
    );
    cleanup.push(() => jira.close());

    // Act
    const me = await jira.whoami();
    const [item] = await jira.fetchItems(['PAY-1']);

    // Assert
    expect({
      me: me.id,
      via: [...new Set(s.requestLog().map((r) => r.via))],
      link: item?.url,
    }).toEqual({ me: s.me.accountId, via: ['gateway'], link: `${s.url}/browse/PAY-1` });
  });

  it('expired OAuth token refreshed: a 401 for an expired access token refreshes it once and the call goes through', async () => {
    // Arrange
    const clock = createVirtualClock(START);
    const s = await sim(clock.now, { oauth: OAUTH });
    const store = createMemoryTokenStore();
    const jira = oauthConnector(s, clock.now, store);
    await jira.whoami();
    s.gateway.expireAccessTokens();

    // Act
    const me = await jira.whoami();

    // Assert
    const statuses = s.requestLog().map((r) => `${r.label} ${r.status} ${r.via}`);
    expect({ me: me.id, refreshes: s.gateway.refreshCount(), statuses, saved: store.saved() }).toEqual({
      me: s.me.accountId,
      refreshes: 2,
      statuses: ['GET myself 200 gateway', 'GET myself 401 gateway', 'GET myself 200 gateway'],
      saved: 2,
    });
  });

  it('an access token about to expire is refreshed before it is sent', async () => {
    // Arrange
    const clock = createVirtualClock(START);
    const s = await sim(clock.now, { oauth: { ...OAUTH, accessTokenTtlS: 3600 } });
    const jira = oauthConnector(s, clock.now, createMemoryTokenStore());
    await jira.whoami();
    clock.advance(3600_000 - 30_000);

    // Act
    await jira.whoami();

    // Assert: no 401 on the way.
    expect({ refreshes: s.gateway.refreshCount(), statuses: s.requestLog().map((r) => r.status) }).toEqual({
      refreshes: 2,
      statuses: [200, 200],
    });
  });

  describe('rotated refresh token surviving a restart', () => {
    const dbs: { close(): Promise<void> }[] = [];
    afterAll(async () => {
      for (const d of dbs) await d.close();
    });

    it.each(dbTargets().map((t) => [t.name, t] as const))(
      'a restart starts from the rotated refresh token kept in the database (%s)',
      async (_name, target) => {
        // Arrange: one process refreshes (rotating the consent token away) and stops.
        const database = await target.open();
        dbs.push(database);
        const clock = createVirtualClock(START);
        const s = await sim(clock.now, { oauth: OAUTH });
        const first = oauthConnector(s, clock.now, createKvTokenStore(database.db));
        await first.whoami();
        await first.close();

        // Act: a new process with the same config (its refresh token no longer valid) and database.
        const second = oauthConnector(s, clock.now, createKvTokenStore(database.db));
        const me = await second.whoami();
        const stored = await createKvTokenStore(database.db).load('jira-main');

        // Assert
        expect({ me: me.id, stored: stored?.refreshToken, refreshes: s.gateway.refreshCount() }).toEqual({
          me: s.me.accountId,
          stored: s.gateway.currentRefreshToken(),
          refreshes: 2,
        });
      },
    );

    it('a refresh token an admin puts in the config after consenting again wins over the stored one', async () => {
      // Arrange: the store holds a token grown from an older consent, long since revoked.
      const clock = createVirtualClock(START);
      const s = await sim(clock.now, { oauth: OAUTH });
      const store = createMemoryTokenStore();
      await store.save('jira-main', { refreshToken: 'rt-revoked', configured: fingerprint('rt-older-consent') });

      // Act
      const me = await oauthConnector(s, clock.now, store).whoami();

      // Assert
      expect({ me: me.id, stored: (await store.load('jira-main'))?.refreshToken }).toEqual({
        me: s.me.accountId,
        stored: s.gateway.currentRefreshToken(),
      });
    });

    it('without the database a restart fails with the setting to change, and no secret in the message', async () => {
      // Arrange
      const clock = createVirtualClock(START);
      const s = await sim(clock.now, { oauth: OAUTH });
      await oauthConnector(s, clock.now).whoami();

      // Act
      const e = (await oauthConnector(s, clock.now)
        .whoami()
        .catch((err: unknown) => err)) as Error;

      // Assert
      expect(e).toBeInstanceOf(AuthError);
      expect(e.message).toBe(
        'Atlassian refused the OAuth refresh token of connection "jira-main" (invalid_grant: Unknown or invalid refresh token.): it has expired or was revoked; consent again and set auth.oauth.refreshToken',
      );
    });
  });

  it('dynamic webhook refreshed: an OAuth connection registers dynamic webhooks and the sync refreshes them before they lapse', async () => {
    // Arrange
    const clock = createVirtualClock(START);
    const s = await sim(clock.now, { oauth: OAUTH });
    const jira = oauthConnector(s, clock.now, createMemoryTokenStore());
    const [created] = await jira.installWebhooks!({ url: 'https://pmo.acme.test/webhooks/jira/jira-main' });

    // Act: syncs on days 5 and 11 (the first finds nothing due), then 25 more days pass.
    clock.advance(5 * DAY);
    await jira.pull({ cursor: null, onPage: async () => {} });
    const afterDay5 = s.gateway.dynamicWebhooks()[0]!.expiresAt;
    clock.advance(6 * DAY);
    await jira.pull({ cursor: null, onPage: async () => {} });
    const afterDay11 = s.gateway.dynamicWebhooks()[0]!.expiresAt;
    clock.advance(25 * DAY);

    // Assert: still registered on day 36, six days past the first expiry.
    expect({
      created: { action: created?.action, expiresAt: created?.expiresAt },
      afterDay5: afterDay5 - START,
      afterDay11: afterDay11 - START,
      alive: s.gateway.dynamicWebhooks().map((h) => h.id),
    }).toEqual({
      created: { action: 'created', expiresAt: new Date(START + DYNAMIC_WEBHOOK_TTL_MS).toISOString() },
      afterDay5: DYNAMIC_WEBHOOK_TTL_MS,
      afterDay11: 11 * DAY + DYNAMIC_WEBHOOK_TTL_MS,
      alive: [Number(created?.id)],
    });
  });

  it('an OAuth connection verifies its dynamic webhook deliveries by their JWT, and refuses forged or expired ones', async () => {
    // Arrange: a receiver that keeps what arrives.
    const received: Headers[] = [];
    const bodies: string[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') h.set(k, v);
        received.push(h);
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => receiver.close(() => r())));
    const clock = createVirtualClock(START);
    const s = await sim(clock.now, { oauth: OAUTH });
    s.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 1, bugsPerEpic: 0, subtasksPerStory: 0, seed: 1 });
    const jira = oauthConnector(s, clock.now, createMemoryTokenStore());
    await jira.installWebhooks!({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });

    // Act
    s.store.updateIssue('PAY-1', { summary: 'Edited' });
    await s.flushDeliveries();
    const req = { headers: received[0]!, rawBody: bodies[0]! };
    const forged = new Headers({
      authorization: `Bearer ${signDeliveryJwt('not-the-secret', { exp: START / 1000 + 60 })}`,
    });
    const outcome = (f: () => void) => {
      try {
        f();
        return 'verified';
      } catch (e) {
        return e instanceof WebhookVerificationError ? e.message : String(e);
      }
    };

    // Assert
    expect({
      genuine: outcome(() => jira.verifyWebhook(req)),
      forged: outcome(() => jira.verifyWebhook({ ...req, headers: forged })),
      unsigned: outcome(() => jira.verifyWebhook({ ...req, headers: new Headers() })),
      expired: (() => {
        clock.advance(3_600_000);
        return outcome(() => jira.verifyWebhook(req));
      })(),
    }).toEqual({
      genuine: 'verified',
      forged: 'bearer token signature does not match',
      unsigned: 'missing or malformed bearer token',
      expired: 'bearer token has expired',
    });
  });
});
