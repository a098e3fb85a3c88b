// The dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core): sign in,
// compare the headline with the API, apply a filter, and save desktop and phone screenshots to
// test-results/. Skips with a message only when Chromium is missing and REQUIRE_BROWSER is unset.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { config, NOW, seed } from '../api/fixture.ts';
import { openPglite } from '../helpers/pglite.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const OUT = resolve('test-results');

if (!available) {
  const message = `browser test: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.REQUIRE_BROWSER) throw new Error(message);
  console.warn(`${message}; skipping`);
}

describe.skipIf(!available)('dashboard in headless Chromium', () => {
  let database: Database;
  let server: ReturnType<typeof serve>;
  let base: string;
  let context: BrowserContext;
  let profile: string;
  let readToken: string;
  const problems: string[] = [];

  beforeAll(async () => {
    database = await openPglite();
    readToken = (await seed(database)).tokens.read;
    const app = createApp({ database, config, log: silentLogger(), now: () => NOW });
    server = await new Promise<ReturnType<typeof serve>>((ok) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => ok(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mkdirSync(OUT, { recursive: true });
    // A persistent context is how playwright takes a fresh --user-data-dir of our choosing.
    profile = mkdtempSync(join(tmpdir(), 'pmo-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1366, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    await new Promise((ok) => server?.close(ok));
    await database?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const watch = (page: Page) => {
    // CSP violations and script errors show up here: the page must run clean.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    return page;
  };

  const api = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${readToken}` } });
    expect(res.status).toBe(200);
    return res.json();
  };

  const headline = async (page: Page) => {
    const text = async (id: string) => (await page.getByTestId(id).textContent())?.trim();
    return {
      green: await text('epics-green'),
      amber: await text('epics-amber'),
      red: await text('epics-red'),
      total: await text('epics-total'),
      compliance: await text('compliance'),
      overdue: await text('overdue-epics'),
      findings: await text('open-findings'),
    };
  };

  const expected = (h: {
    epics: { green: number; amber: number; red: number; total: number };
    compliance: number | null;
    overdueEpics: number;
    openFindings: number;
  }) => ({
    green: String(h.epics.green),
    amber: String(h.epics.amber),
    red: String(h.epics.red),
    total: String(h.epics.total),
    compliance: h.compliance === null ? '–' : `${Math.round(h.compliance * 100)}%`,
    overdue: String(h.overdueEpics),
    findings: String(h.openFindings),
  });

  it('signs in, matches the API, filters, and renders on desktop and phone', async () => {
    const page = watch(await context.newPage());
    await page.goto(`${base}/`);
    await page.getByLabel('Token').fill(readToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
    await page.getByTestId('compliance').waitFor();

    const cookies = await context.cookies(base);
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['pmo_session', true, 'Strict']]);
    expect(await page.evaluate(() => document.cookie)).toBe('');

    const portfolio = await api('/api/v1/portfolio');
    expect(await headline(page)).toEqual(expected(portfolio.headline));

    // The trend chart drew: Chart.js loaded from our own origin and attached to the canvas.
    await page.waitForFunction(() => {
      const w = window as unknown as { Chart?: { getChart(id: string): unknown } };
      return Boolean(w.Chart?.getChart('trend'));
    });
    // The title opens pmo-sync's own epic page; the tracker is one link further along.
    const epicLink = page.locator('tr[data-ref="jira-main:PAY-10"] a').first();
    expect(await epicLink.getAttribute('href')).toBe('/epics/jira-main%3APAY-10');
    const trackerLink = page.locator('tr[data-ref="jira-main:PAY-10"] a.tracker-link');
    expect(await trackerLink.getAttribute('href')).toBe('https://example.test/PAY-10');
    await page.screenshot({ path: join(OUT, 'dashboard-desktop.png'), fullPage: true });

    await page.locator('select[name="program"]').selectOption('web');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/program=web/);
    const web = await api('/api/v1/portfolio?program=web');
    expect(await headline(page)).toEqual(expected(web.headline));
    expect(await page.locator('table[data-testid="epics"] tbody tr').count()).toBe(1);
    await page.screenshot({ path: join(OUT, 'dashboard-desktop-filtered.png'), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/`);
    await page.getByTestId('compliance').waitFor();
    // Readable on a phone: nothing wider than the screen but the tables' own scroll boxes.
    await page.screenshot({ path: join(OUT, 'dashboard-phone.png'), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);

    await page.getByTestId('sign-out').click();
    await page.getByLabel('Token').waitFor();
    expect(await context.cookies(base)).toEqual([]);

    expect(problems).toEqual([]);
    expect(existsSync(join(OUT, 'dashboard-desktop.png'))).toBe(true);
    expect(existsSync(join(OUT, 'dashboard-phone.png'))).toBe(true);
  });
});
