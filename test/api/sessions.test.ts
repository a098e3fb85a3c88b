// Dashboard sessions through the real app: the cookie holds a random session id (stored only
// hashed), never the API token; a session expires after its configured lifetime (12 h by
// default), ends on sign-out even if the browser keeps the cookie, and ends when its token is
// revoked. The clock is injected: no waiting.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardSessions } from '../../db/schema.ts';
import { createToken, revokeToken } from '../../src/auth/tokens.ts';
import { Config } from '../../src/config/schema.ts';
import { SESSION_COOKIE } from '../../src/dashboard/routes.tsx';
import { dbTargets } from '../helpers/db.ts';
import { config, NOW } from './fixture.ts';
import { type ApiHarness, openHarness } from './helpers.ts';

const HOUR = 3600_000;
const at = (ms: number) => () => new Date(NOW.getTime() + ms);

for (const target of dbTargets()) {
  describe(`dashboard sessions on ${target.name}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => {
      await h.database.close();
    });

    const signIn = async (token: string, app = h.app) => {
      const res = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token }) });
      expect(res.status).toBe(303);
      const setCookie = res.headers.get('set-cookie')!;
      return { setCookie, cookie: setCookie.split(';')[0]!, id: setCookie.split(';')[0]!.split('=')[1]! };
    };
    const signedIn = async (cookie: string, app = h.app) => {
      const html = await (await app.request('/', { headers: { cookie } })).text();
      if (html.includes('data-testid="sign-out"')) return true;
      expect(html).toContain('action="/login"');
      return false;
    };

    it('keeps a random session id in the cookie, stored only as its hash, useless as an API token', async () => {
      const { setCookie, id } = await signIn(h.tokens.read);
      expect(id).toMatch(/^pmos_[A-Za-z0-9_-]{43}$/);
      expect(setCookie).not.toContain(h.tokens.read);
      expect(setCookie).toContain('Max-Age=43200');
      const rows = await h.database.db.select().from(dashboardSessions);
      const mine = rows.filter((r) => r.sessionHash === createHash('sha256').update(id).digest('hex'));
      expect(mine).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(id);
      expect(Date.parse(mine[0]!.expiresAt)).toBe(NOW.getTime() + 12 * HOUR);
      expect((await h.get('/api/v1/portfolio', id)).status).toBe(401);
      // The old cookie format (the raw token) signs nobody in.
      expect(await signedIn(`${SESSION_COOKIE}=${h.tokens.read}`)).toBe(false);
      const twice = await signIn(h.tokens.read);
      expect(twice.id).not.toBe(id);
    });

    it('expires after 12 hours by default', async () => {
      const { cookie } = await signIn(h.tokens.read);
      expect(await signedIn(cookie, h.appWith({ now: at(12 * HOUR - 1000) }))).toBe(true);
      const later = await h.appWith({ now: at(12 * HOUR + 1000) }).request('/', { headers: { cookie } });
      expect(await later.text()).toContain('action="/login"');
      expect(later.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0`));
    });

    it('expires after the configured lifetime', async () => {
      const short = Config.parse({ ...config, server: { sessions: { ttlHours: 0.5 } } });
      const app = h.appWith({ config: short });
      const { setCookie, cookie } = await signIn(h.tokens.read, app);
      expect(setCookie).toContain('Max-Age=1800');
      expect(await signedIn(cookie, h.appWith({ config: short, now: at(29 * 60_000) }))).toBe(true);
      expect(await signedIn(cookie, h.appWith({ config: short, now: at(31 * 60_000) }))).toBe(false);
    });

    it('ends on sign-out, even for a browser that keeps the cookie', async () => {
      const { cookie } = await signIn(h.tokens.read);
      const other = await signIn(h.tokens.read);
      expect(await signedIn(cookie)).toBe(true);
      const out = await h.app.request('/logout', { method: 'POST', headers: { cookie } });
      expect(out.status).toBe(303);
      expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0`));
      expect(await signedIn(cookie)).toBe(false);
      // Only that session: another sign-in with the same token stays.
      expect(await signedIn(other.cookie)).toBe(true);
    });

    it('ends when the API token it was opened with is revoked', async () => {
      const { id: tokenId, token } = await createToken(h.database.db, { scope: 'read', name: 'short-lived' });
      const { cookie } = await signIn(token);
      expect(await signedIn(cookie)).toBe(true);
      await revokeToken(h.database.db, tokenId);
      expect(await signedIn(cookie)).toBe(false);
    });
  });
}
