// The forecasts on the workspace (issue 26.8) over the real app on PGlite: the burn-up with its
// cone on the epic and program pages (and its JSON twin), the P85 marker against the target on
// the timeline, and the slip table against a baseline chosen by URL parameter (and its JSON
// twin). Forecasts are stored by hand, so every date shown is known; tracker text stays text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { dbTargets } from '../helpers/db.ts';
import { daysFrom } from '../helpers/items.ts';
import { config, HOSTILE_TITLE, NOW } from './fixture.ts';
import { BASELINE, HOSTILE_REASON, PAY1, seedForecasts } from './forecast-fixture.ts';

const day = (days: number) => daysFrom(NOW, days).slice(0, 10);
const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

describe.each(dbTargets())('forecasts on the workspace on $name', (target) => {
  let database: Database;
  let app: ReturnType<typeof createApp>;
  let token: string;
  let cookie: string;

  beforeAll(async () => {
    database = await target.open();
    token = (await seedForecasts(database)).tokens.read;
    app = createApp({ database, config, log: silentLogger(), now: () => NOW });
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
    return { status: res.status, html: await res.text() };
  };
  const api = async (path: string, status = 200) => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(status);
    return res.json();
  };

  it('keeps the burn-up, slip page and their JSON twins behind the session and the token', async () => {
    for (const path of ['/slip', `/slip?baseline=${encodeURIComponent(BASELINE)}`]) {
      const res = await app.request(path);
      expect([path, res.status, (await res.text()).includes('jira-main:PAY-1')]).toEqual([path, 401, false]);
    }
    for (const path of [
      `/api/v1/workspace/slip?baseline=${encodeURIComponent(BASELINE)}`,
      '/api/v1/workspace/epics/jira-main%3APAY-1/burnup',
      '/api/v1/workspace/programs/payments/burnup',
    ])
      expect([path, (await app.request(path)).status]).toEqual([path, 401]);
  });

  it('epic page: a burn-up with the P50/P85/P95 cone, the target, words and a table saying the same', async () => {
    const { status, html } = await page('/epics/jira-main%3APAY-1');
    expect(status).toBe(200);
    const twin = await api('/api/v1/workspace/epics/jira-main%3APAY-1/burnup');
    // Points: PAY-2 (5, done 3 days ago) and PAY-3 (3) and the unpointed bug; PAY-5 is removed.
    expect([twin.unit, twin.doneNow, twin.scopeNow]).toEqual(['points', 5, 8]);
    expect(twin.weeks.at(-2)).toMatchObject({ done: 0, scope: 8 });
    expect(twin.forecast).toMatchObject({ ...PAY1, onTimeProbability: 0.6, confidence: 'medium' });
    const svg = html.match(/<svg class="burnup"[\s\S]*?<\/svg>/)?.[0] ?? '';
    expect(svg).toContain('role="img"');
    expect(svg).toMatch(/aria-label="Burn-up: 5 of 8 points done today; forecast to finish by/);
    for (const k of ['p50', 'p85', 'p95']) expect(svg).toContain(`data-testid="cone-${k}"`);
    // Colour is never alone: each cone line and the target carry their date in text.
    expect(svg).toContain(`P50 ${PAY1.p50}`);
    expect(svg).toContain(`P85 ${PAY1.p85}`);
    expect(svg).toContain(`P95 ${PAY1.p95}`);
    expect(svg).toContain(`target ${PAY1.target}`);
    expect(html).toContain(`data-testid="burnup-p85">${PAY1.p85}<`);
    expect(html).toContain('data-testid="burnup-ontime">60%<');
    expect(html).toContain(
      `5 of 8 points done today; forecast to finish by ${PAY1.p50} (50% likely), ${PAY1.p85} (85%), ${PAY1.p95} (95%); 60% likely by the target ${PAY1.target}; medium confidence.`,
    );
    const rows = [...(html.match(/data-testid="burnup-table"[\s\S]*?<\/table>/)?.[0] ?? '').matchAll(/<tr>/g)];
    expect(rows.length).toBe(twin.weeks.length + 1);
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
  });

  it('epic page: a forecast without dates says why, with no cone and the reason kept as text', async () => {
    const { html } = await page('/epics/ado-main%3A200');
    expect(html).toContain('data-testid="burnup-svg"');
    expect(html).not.toContain('data-testid="burnup-cone"');
    expect(html).toContain(`no finish date forecast (low confidence: ${esc(HOSTILE_REASON)})`);
    expect(html).not.toContain(HOSTILE_REASON);
  });

  it('epic page: an epic with no forecast stored says so, never a made-up date', async () => {
    const { html } = await page('/epics/ado-main%3A100');
    expect(html).toContain('no forecast stored yet.');
    expect(html).not.toContain('data-testid="burnup-cone"');
  });

  it("program page: the burn-up of the program's leaf work with its cone, equal to its JSON twin", async () => {
    const { html } = await page('/programs/payments');
    const twin = await api('/api/v1/workspace/programs/payments/burnup');
    // Leaf work of PAY and Payments: PAY-2, 3, 4, 11, 21, ado 101, 102, 201; PAY-2 and 102 done.
    expect([twin.unit, twin.doneNow, twin.scopeNow]).toEqual(['items', 2, 8]);
    expect(html).toContain('Burn-up and forecast of the program');
    expect(html).toContain(`P85 ${day(60)}`);
    expect(html).toContain(`2 of 8 items done today; forecast to finish by ${day(40)} (50% likely)`);
    await api('/api/v1/workspace/programs/nope/burnup', 404);
  });

  it('timeline: a P85 marker per forecast epic, with its distance from the target in words', async () => {
    const { html } = await page('/timeline');
    const view = await api('/api/v1/workspace/timeline');
    const bar = (ref: string) => view.bars.find((b: { ref: string }) => b.ref === ref);
    expect(bar('jira-main:PAY-1')).toMatchObject({ p85: PAY1.p85, p85VsTarget: 5, onTimeProbability: 0.6 });
    expect(bar('jira-main:PAY-20')).toMatchObject({ p85: day(55), p85VsTarget: 15 });
    expect(bar('ado-main:100').p85).toBeUndefined();
    const markers = [...html.matchAll(/data-testid="p85-marker" data-ref="([^"]+)"/g)].map((m) => m[1]);
    expect(markers.sort()).toEqual(['jira-main:PAY-1', 'jira-main:PAY-20']);
    expect(html).toContain('5 days after its target');
    expect(html).toContain('15 days after its target');
    expect(html).toContain(`data-p85-vs-target="5"`);
    // The hostile title on PAY-20 stays text in the marker's title too.
    expect(html).not.toContain(HOSTILE_TITLE);
  });

  it('slip: the baseline chosen by URL lists target and forecast slip in days and scope change', async () => {
    const q = `baseline=${encodeURIComponent(BASELINE)}`;
    const { status, html } = await page(`/slip?${q}`);
    expect(status).toBe(200);
    const twin = await api(`/api/v1/workspace/slip?${q}`);
    expect(twin.baseline).toMatchObject({ name: BASELINE, program: 'payments' });
    expect(
      twin.rows.map((r: Record<string, unknown>) => [r.ref, r.targetSlipDays, r.forecastSlipDays, r.added, r.removed]),
    ).toEqual([
      ['jira-main:PAY-1', 10, 5, ['jira-main:PAY-4'], ['jira-main:PAY-99']],
      ['ado-main:100', 0, null, [], []],
    ]);
    expect(twin.headline).toEqual({ epics: 2, targetSlipped: 1, forecastSlipped: 1, added: 1, removed: 1 });
    const rows = [
      ...html.matchAll(
        /data-testid="slip-row" data-ref="([^"]+)" data-target-slip="([^"]*)" data-forecast-slip="([^"]*)" data-added="(\d+)" data-removed="(\d+)"/g,
      ),
    ].map((m) => m.slice(1));
    expect(rows).toEqual([
      ['jira-main:PAY-1', '10', '5', '1', '1'],
      ['ado-main:100', '0', '', '0', '0'],
    ]);
    expect(html).toContain('+10 d later');
    expect(html).toContain('+5 d later');
    expect(html).toContain(`${day(20)} → ${day(30)}`);
    // The baseline's name is markup: escaped in the picker and the heading, encoded in links.
    expect(html).not.toContain('<b>plan</b>');
    expect(html).toContain('Q3 &lt;b&gt;plan&lt;/b&gt;');
    expect(html).toContain(`/api/v1/workspace/slip?baseline=${encodeURIComponent(BASELINE)}`);
  });

  it('slip: without a baseline the page offers the list; an unknown one is a 404 in page and API', async () => {
    const none = await page('/slip');
    expect(none.status).toBe(200);
    expect(none.html).toContain('data-testid="baseline-select"');
    expect(none.html).not.toContain('data-testid="slip"');
    const unknown = await page('/slip?baseline=%3Cscript%3Ex');
    expect(unknown.status).toBe(404);
    expect(unknown.html).toContain('No baseline named “&lt;script&gt;x”.');
    await api('/api/v1/workspace/slip?baseline=nope', 404);
  });
});
