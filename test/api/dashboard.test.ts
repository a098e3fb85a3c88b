// The dashboard over app.request(): sign-in and cookie, the numbers it shows, filters, escaping,
// sign-out and its assets. The browser test (test/browser) drives the same pages in Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/tokens.ts';
import { silentLogger } from '../../src/core/log.ts';
import { SESSION_COOKIE } from '../../src/dashboard/routes.tsx';
import { createApp } from '../../src/http/app.ts';
import { dbTargets } from '../helpers/db.ts';
import { type ApiHarness, openHarness } from './helpers.ts';

const testId = (html: string, id: string) => new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1];

for (const target of dbTargets()) {
  describe(`dashboard on ${target.name}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => {
      await h.database.close();
    });

    const signIn = async (token: string) => {
      const res = await h.app.request('/login', { method: 'POST', body: new URLSearchParams({ token }) });
      return { res, cookie: res.headers.get('set-cookie')?.split(';')[0] ?? '' };
    };
    const page = async (path: string, cookie: string) => {
      const res = await h.app.request(path, { headers: { cookie } });
      expect(res.status).toBe(200);
      return res.text();
    };

    it('shows the sign-in form without a session, under a strict CSP', async () => {
      const res = await h.app.request('/');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await res.text();
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).toContain('<form method="post" action="/login">');
      expect(html).not.toContain('data-testid="compliance"');
    });

    it('refuses an unknown or revoked token', async () => {
      for (const token of ['pmo_nope', h.tokens.revoked, '']) {
        const { res } = await signIn(token);
        expect(res.status).toBe(401);
        expect(res.headers.get('set-cookie')).toBeNull();
        expect(await res.text()).toContain('That token is unknown or revoked.');
      }
    });

    it('signs in with a read token into an http-only, SameSite=Strict cookie', async () => {
      const { res } = await signIn(h.tokens.read);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/');
      const cookie = res.headers.get('set-cookie')!;
      // A session id, never the token itself (test/api/sessions.test.ts).
      expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=pmos_`));
      expect(cookie).not.toContain(h.tokens.read);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');
      expect(cookie).not.toContain('Secure');
      const secure = await h.app.request('https://pmo.example.test/login', {
        method: 'POST',
        body: new URLSearchParams({ token: h.tokens.read }),
      });
      expect(secure.headers.get('set-cookie')).toContain('Secure');
    });

    it('refuses sign-in and sign-out posted from another site', async () => {
      for (const path of ['/login', '/logout']) {
        const res = await h.app.request(path, {
          method: 'POST',
          headers: { 'sec-fetch-site': 'cross-site' },
          body: new URLSearchParams({ token: h.tokens.read }),
        });
        expect(res.status, path).toBe(403);
        expect(res.headers.get('set-cookie')).toBeNull();
      }
    });

    it('shows the same headline as the API, programs across both trackers, epics and rules', async () => {
      const { cookie } = await signIn(h.tokens.read);
      const html = await page('/', cookie);
      const api = (await (await h.get('/api/v1/portfolio')).json()).headline;
      expect({
        green: testId(html, 'epics-green'),
        amber: testId(html, 'epics-amber'),
        red: testId(html, 'epics-red'),
        total: testId(html, 'epics-total'),
        compliance: testId(html, 'compliance'),
        overdue: testId(html, 'overdue-epics'),
        findings: testId(html, 'open-findings'),
      }).toEqual({
        green: String(api.epics.green),
        amber: String(api.epics.amber),
        red: String(api.epics.red),
        total: String(api.epics.total),
        compliance: `${Math.round(api.compliance * 100)}%`,
        overdue: String(api.overdueEpics),
        findings: String(api.openFindings),
      });
      expect(html).toContain('<span>jira-main</span> <span>10 min ago</span>');
      expect(html).toContain('<span>ado-main</span> <span>24 h ago</span>');
      expect(html).toMatch(
        /Payments modernisation<\/a><\/td><td class="hide-sm"><span class="tracker azure-devops">Azure DevOps<\/span><span class="tracker jira">Jira<\/span>/,
      );
      // The title opens the workspace's epic page; the tracker link sits beside it.
      expect(html).toContain('<a href="/epics/jira-main%3APAY-10">Refund flow</a>');
      expect(html).toContain('href="https://example.test/PAY-10" rel="noopener noreferrer" class="tracker-link"');
      expect(html).toContain('<code>owner-required</code> <b>2</b>');
      expect(html).toContain('"days":["2026-06-12","2026-06-13","2026-06-14","2026-06-15"]');
      expect(html).toContain('<script src="/assets/chart.umd.min.js" defer="">');
    });

    it('escapes tracker text in HTML and in the chart data', async () => {
      const { cookie } = await signIn(h.tokens.read);
      const html = await page('/', cookie);
      expect(html).toContain('Fraud scoring &lt;b&gt;&amp;beta&lt;/b&gt;');
      expect(html).not.toContain('<b>&beta</b>');
    });

    it('filters by program, tracker and project', async () => {
      const { cookie } = await signIn(h.tokens.read);
      const web = await page('/?program=web', cookie);
      expect(testId(web, 'epics-total')).toBe('1');
      expect(web).toContain('<option value="web" selected="">Web refresh</option>');
      expect(web).not.toContain('Refund flow');
      const ado = await page('/?tracker=azure-devops', cookie);
      expect(testId(ado, 'epics-total')).toBe('2');
      expect(testId(ado, 'items-total')).toBe('5');
      const pay = await page(`/?project=${encodeURIComponent('jira-main:PAY')}`, cookie);
      expect(testId(pay, 'items-total')).toBe('7');
      expect(pay).toContain('"scope":"project:jira-main:PAY"');
    });

    it('ignores unknown filter values and says so', async () => {
      const { cookie } = await signIn(h.tokens.read);
      const html = await page('/?program=nope&tracker=github&project=x:y', cookie);
      expect(html).toContain(
        'Ignored unknown filter: program &quot;nope&quot;, tracker &quot;github&quot;, project &quot;x:y&quot;.',
      );
      expect(testId(html, 'epics-total')).toBe('5');
    });

    it('signs out by clearing the cookie, and drops a revoked session', async () => {
      const res = await h.app.request('/logout', { method: 'POST' });
      expect(res.status).toBe(303);
      expect(res.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0`));
      const revoked = await h.app.request('/', { headers: { cookie: `${SESSION_COOKIE}=${h.tokens.revoked}` } });
      expect(await revoked.text()).toContain('action="/login"');
      expect(revoked.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    });

    it('serves its assets, Chart.js included, from the app itself', async () => {
      for (const [path, type] of [
        ['/assets/dashboard.css', 'text/css; charset=utf-8'],
        ['/assets/dashboard.js', 'text/javascript; charset=utf-8'],
        ['/assets/chart.umd.min.js', 'text/javascript; charset=utf-8'],
      ] as const) {
        const res = await h.app.request(path);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type')).toBe(type);
      }
      const missing = await h.app.request('/assets/../../package.json');
      expect(missing.status).toBe(404);
      expect((await h.app.request('/assets/nope.js')).status).toBe(404);
    });

    it('serves assets handed in by the caller (runtimes without a file system)', async () => {
      const app = h.appWith({ assets: { 'dashboard.css': 'body { color: red; }' } });
      const res = await app.request('/assets/dashboard.css');
      expect(await res.text()).toBe('body { color: red; }');
    });

    it('renders an empty database (before the first sync) and its API without errors', async () => {
      const empty = await target.open();
      try {
        const { token } = await createToken(empty.db, { scope: 'read' });
        const app = createApp({ database: empty, config: null, log: silentLogger() });
        const login = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token }) });
        const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
        const html = await (await app.request('/', { headers: { cookie } })).text();
        expect(testId(html, 'epics-total')).toBe('0');
        expect(testId(html, 'compliance')).toBe('–');
        expect(html).toContain('No programs configured.');
        expect(html).toContain('No daily snapshots yet.');
        const portfolio = await app.request('/api/v1/portfolio', { headers: { authorization: `Bearer ${token}` } });
        expect(portfolio.status).toBe(200);
        expect(await portfolio.json()).toEqual({
          rollup: null,
          headline: {
            epics: { total: 0, green: 0, amber: 0, red: 0 },
            compliance: null,
            overdueEpics: 0,
            openFindings: 0,
            items: 0,
          },
          programs: [],
          projects: [],
          freshness: [],
          epics: [],
          epicsPage: { first: 0, last: 0, total: 0, size: 100, next: null },
          trend: { scope: 'portfolio', days: [] },
        });
      } finally {
        await empty.close();
      }
    });
  });
}
