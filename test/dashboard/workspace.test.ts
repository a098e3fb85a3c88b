// The workspace pages and their API twins over the real app on PGlite: behind the session,
// page and API agree, hostile tracker text stays text, CSV neutralizes formulas, and the
// timeline finds the seeded date-order violation and cycle.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adfToText, renderAdf } from '../../connectors/jira/comment.ts';
import type { Database } from '../../db/client.ts';
import { findings } from '../../db/schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { dbTargets } from '../helpers/db.ts';
import { builtInRules, COMMENT, config, FORMULA_TITLE, HOSTILE_TITLE, NOW, seedWorkspace } from './fixture.ts';

// On PGlite always and on Postgres when TEST_DATABASE_URL is set: the views' SQL (lifted
// joins, recursive trees, literal GROUP BY keys) must mean the same on both.
describe.each(dbTargets())('workspace pages and API on $name', (target) => {
  let database: Database;
  let app: ReturnType<typeof createApp>;
  let token: string;
  let cookie: string;

  beforeAll(async () => {
    database = await target.open();
    token = (await seedWorkspace(database)).tokens.read;
    const rules = builtInRules();
    app = createApp({ database, config, log: silentLogger(), now: () => NOW, rules: async () => rules });
    const login = await app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  });
  afterAll(async () => database?.close());

  const page = async (path: string) => {
    const res = await app.request(path, { headers: { cookie } });
    return { status: res.status, html: await res.text(), type: res.headers.get('content-type') };
  };
  const api = async (path: string) => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return res.json();
  };

  it('shows the sign-in form, never data, without a session or token', async () => {
    for (const path of [
      '/programs/payments',
      '/epics/jira-main%3APAY-1',
      '/items/jira-main%3APAY-3',
      '/findings',
      '/findings.csv',
      '/findings/1',
      '/timeline',
      '/programs/payments/dependencies',
    ]) {
      const res = await app.request(path);
      const html = await res.text();
      expect([path, res.status, html.includes('name="token"'), html.includes('Card vault')]).toEqual([
        path,
        401,
        true,
        false,
      ]);
    }
    expect((await app.request('/api/v1/workspace/programs/payments')).status).toBe(401);
  });

  it('program: the headline counts the rows shown and equals the API', async () => {
    const view = await api('/api/v1/workspace/programs/payments');
    const { html } = await page('/programs/payments');
    const rows = [
      ...html.matchAll(/data-testid="epic-row" data-ref="([^"]+)" data-health="(\w+)" data-findings="(\d+)"/g),
    ];
    expect(rows.map((r) => r[1])).toEqual(view.epics.map((e: { ref: string }) => e.ref));
    expect(rows.length).toBe(view.headline.epics);
    expect(rows.reduce((n, r) => n + Number(r[3]), 0)).toBe(view.headline.openFindings);
    expect(rows.filter((r) => r[2] === 'red').length).toBe(view.headline.health.red);
    expect(view.headline.dependenciesOut).toBe(1);
    expect(html).toContain(`data-testid="h-deps-out">1<`);
  });

  it('program: pages of epics in a stable order, `next` links, the headline over every page', async () => {
    const all = await api('/api/v1/workspace/programs/payments');
    expect(all.page).toMatchObject({ first: 1, last: all.epics.length, total: all.headline.epics, next: null });
    const seen: string[] = [];
    let next: string | null = null;
    for (let i = 0; i < 50; i++) {
      const path: string = `/api/v1/workspace/programs/payments?limit=2${next ? `&after=${encodeURIComponent(next)}` : ''}`;
      const view = await api(path);
      expect(view.headline).toEqual(all.headline);
      expect(view.page.first).toBe(seen.length + (view.epics.length ? 1 : 0));
      seen.push(...view.epics.map((e: { ref: string }) => e.ref));
      expect(view.page.last).toBe(seen.length);
      next = view.page.next;
      if (!next) break;
      const { html } = await page(`/programs/payments${path.slice(path.indexOf('?')).replace('limit=2&', '')}`);
      expect(html).toContain('data-testid="page-first"');
    }
    expect(seen).toEqual(all.epics.map((e: { ref: string }) => e.ref));
    expect(seen.length).toBeGreaterThan(2);
    // A cursor that is no row's (hostile or stale) starts after where that row would sort.
    const odd = await api(`/api/v1/workspace/programs/payments?after=${encodeURIComponent('red.zzz<x>')}`);
    expect(odd.headline).toEqual(all.headline);
    expect(odd.epics.every((e: { health: string }) => e.health !== 'red')).toBe(true);
    expect((await page(`/programs/payments?after=${encodeURIComponent('nonsense')}`)).status).toBe(200);
    expect(
      (
        await app.request('/api/v1/workspace/programs/payments?limit=0', {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(400);
  });

  it('escapes tracker text everywhere it is shown', async () => {
    for (const path of ['/programs/payments', '/epics/jira-main%3APAY-20', '/timeline', '/findings?group=owner']) {
      const { html } = await page(path);
      expect([path, html.includes('<script>window.pwned'), html.includes('<img src=x')]).toEqual([path, false, false]);
    }
    const { html } = await page('/epics/jira-main%3APAY-20');
    expect(html).toContain('&lt;script&gt;window.pwned=1&lt;/script&gt;');
    expect(HOSTILE_TITLE).toContain('<script>');
  });

  it('item: findings with rule text, waiver, the comment as posted, the audit and a tracker link', async () => {
    const { html } = await page('/items/jira-main%3APAY-3');
    expect(html).toContain('Open work has an owner');
    expect(html).toContain('Why: Work without an accountable person');
    const posted = adfToText(renderAdf(COMMENT)).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    expect(html).toContain(posted);
    expect(html).toMatch(/<td>created<\/td><td class="n">201<\/td>/);
    expect(html).toContain('href="https://example.test/PAY-3"');
    const waived = await page('/items/jira-main%3APAY-20');
    expect(waived.html).toContain('Waived until 2026-09-30: Agreed with &lt;the&gt; PMO');
  });

  it('findings explorer: severity first, rule titles, and CSV with formulas neutralized', async () => {
    const view = await api('/api/v1/workspace/findings?group=rule');
    expect(view.headline).toEqual({ error: 3, warning: 3, info: 0, total: 6 });
    expect(view.groups.map((g: { label: string; error: number }) => [g.label, g.error])).toEqual([
      ['Open work has an owner', 2],
      ['epic-overdue', 1],
      ['epic-gate', 0],
      ['Work is estimated before it starts', 0],
    ]);
    expect(
      view.mustAct.map((o: { label: string; error: number; warning: number }) => [o.label, o.error, o.warning]),
    ).toEqual([
      ['No owner', 2, 2],
      ['Ann Lee', 1, 1],
    ]);
    const res = await app.request('/findings.csv', { headers: { cookie } });
    const text = await res.text();
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(text.split('\r\n')[0]).toBe(
      'severity,rule,ruleTitle,ref,title,owner,team,project,tracker,message,firstSeen,waivedUntil',
    );
    expect(text).toContain(`"'${FORMULA_TITLE.replace(/"/g, '""')}"`);
    expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(text.trim().split('\r\n').length).toBe(1 + view.headline.total);
  });

  it('timeline: the cross-tracker violation and the cycle stand out, in the API and on the page', async () => {
    const t = await api('/api/v1/workspace/timeline');
    // Each predecessor ends after its successor starts, or, for PAY-10 with no start of its
    // own, after its target; WEB-1 ends before PAY-10's target, so waiting on it is no
    // violation even though PAY-10's bar is drawn from its creation date.
    expect(
      t.violations.map((e: { from: string; to: string; crossTracker: boolean; against: string }) => [
        e.from,
        e.to,
        e.crossTracker,
        e.against,
      ]),
    ).toEqual([
      ['ado-main:100', 'jira-main:PAY-1', true, 'start'],
      ['jira-main:PAY-10', 'jira-main:PAY-20', false, 'start'],
      ['jira-main:PAY-20', 'jira-main:PAY-10', false, 'target'],
    ]);
    expect(t.cycles).toEqual([['jira-main:PAY-10', 'jira-main:PAY-20']]);
    const { html } = await page('/timeline');
    expect(html).toContain('data-testid="h-violations">3<');
    expect(html).toContain('data-testid="h-cycles">1<');
    expect(html).toContain('data-testid="today-line"');
    const map = await api('/api/v1/workspace/programs/payments/dependencies');
    expect(map.headline).toEqual({ nodes: 5, edges: 4, crossTracker: 1, external: 1, cycles: 1 });
  });

  it('timeline: a window shows the bars overlapping it, and every figure counts those alone', async () => {
    const all = await api('/api/v1/workspace/timeline?from=2000-01-01&to=2100-12-31');
    const ends = all.bars.map((b: { end: string }) => b.end.slice(0, 10)).sort();
    const from = ends[Math.floor(ends.length / 2)];
    const to = new Date(Date.parse(from) + 10 * 86_400_000).toISOString().slice(0, 10);
    const t = await api(`/api/v1/workspace/timeline?from=${from}&to=${to}`);
    const overlaps = (b: { start: string; end: string }) => b.start.slice(0, 10) <= to && b.end.slice(0, 10) >= from;
    expect(t.window).toEqual({ from, to });
    expect(t.bars.map((b: { ref: string }) => b.ref).sort()).toEqual(
      all.bars
        .filter(overlaps)
        .map((b: { ref: string }) => b.ref)
        .sort(),
    );
    expect(t.bars.length).toBeLessThan(all.bars.length);
    expect(t.headline.bars).toBe(t.bars.length);
    const shown = new Set(t.bars.map((b: { ref: string }) => b.ref));
    expect(t.edges.every((e: { from: string; to: string }) => shown.has(e.from) && shown.has(e.to))).toBe(true);
    // Without one, half a year back and a year ahead of today.
    expect((await api('/api/v1/workspace/timeline')).window).toEqual({ from: '2025-12-15', to: '2027-06-15' });
    const { html } = await page(`/timeline?from=${from}&to=${to}`);
    expect([...html.matchAll(/data-testid="bar-row"/g)].length).toBe(t.bars.length);
    expect(html).toContain(`between <b>${from}</b> and <b>${to}</b>`);
    expect(
      (await app.request('/api/v1/workspace/timeline?from=June', { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(400);
  });

  it('counts the open findings of live items alone, also when one is left on an item that is gone', async () => {
    const before = await api('/api/v1/workspace/findings?group=rule');
    const portfolio = await page('/');
    // A finding no commit would leave open: its item is not stored.
    await database.db.insert(findings).values({
      ref: 'jira-main:GONE-1',
      rule: 'owner-required',
      severity: 'error',
      status: 'open',
      message: 'm',
      firstSeen: NOW.toISOString(),
      lastSeen: NOW.toISOString(),
      ruleHash: 'r',
      itemHash: 'i',
    });
    try {
      const after = await api('/api/v1/workspace/findings?group=rule');
      expect([after.headline, after.groups]).toEqual([before.headline, before.groups]);
      expect((await page('/')).html).toBe(portfolio.html);
    } finally {
      await database.db.delete(findings).where(eq(findings.ref, 'jira-main:GONE-1'));
    }
  });

  it('filters narrow every workspace view and ride in the URL', async () => {
    const ado = await api('/api/v1/workspace/findings?tracker=azure-devops');
    expect(ado.rows.every((r: { tracker: string }) => r.tracker === 'azure-devops')).toBe(true);
    expect(ado.headline.total).toBe(ado.rows.length);
    const owner = await api('/api/v1/workspace/findings?owner=u-ann');
    expect(owner.rows.map((r: { ref: string }) => r.ref)).toEqual(['jira-main:PAY-3', 'ado-main:100']);
    // Team is the shared definition: a team field, else the area path, with the paths under it.
    const teams = await api('/api/v1/workspace/findings?group=team');
    expect(teams.groups.map((g: { label: string; total: number }) => [g.label, g.total])).toEqual([
      ['Vault squad', 2],
      ['No team or area path', 2],
      ['Payments\\Ledger', 2],
    ]);
    const area = await api('/api/v1/workspace/findings?team=Payments');
    expect(area.rows.map((r: { ref: string }) => r.ref)).toEqual(['ado-main:100', 'ado-main:201']);
    const { html } = await page('/findings?owner=u-ann&group=team');
    expect(html).toContain('<option value="u-ann" selected="">Ann Lee</option>');
    expect(html).toContain('href="/findings.csv?owner=u-ann&amp;group=team"');
  });
});
