// The PMO workspace in headless Chromium (Debian's `chromium`, driven by playwright-core): sign
// in, walk portfolio → program → epic → item → finding by clicking links, apply each filter,
// check every headline figure against the rows shown and against the API, run axe-core on each
// view (no serious or critical violations), and save each view at 1440 and 390 px to
// test-results/. Skips with a message only when Chromium is missing and REQUIRE_BROWSER is unset.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { builtInRules, config, NOW } from '../dashboard/fixture.ts';
import { BASELINE, PAY1, seedForecasts } from '../dashboard/forecast-fixture.ts';
import { openPglite } from '../helpers/pglite.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const OUT = resolve('test-results');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

if (!available) {
  const message = `browser test: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (process.env.REQUIRE_BROWSER) throw new Error(message);
  console.warn(`${message}; skipping`);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

describe.skipIf(!available)('workspace in headless Chromium', () => {
  let database: Database;
  let server: ReturnType<typeof serve>;
  let base: string;
  let context: BrowserContext;
  let profile: string;
  let token: string;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    database = await openPglite();
    token = (await seedForecasts(database)).tokens.read;
    const rules = builtInRules();
    const app = createApp({ database, config, log: silentLogger(), now: () => NOW, rules: async () => rules });
    server = await new Promise<ReturnType<typeof serve>>((ok) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => ok(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mkdirSync(OUT, { recursive: true });
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
      viewport: { width: 1440, height: 900 },
    });
    page = await context.newPage();
    // CSP violations, script errors and failed requests show up here: every page must run clean.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${base}/`);
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('compliance').waitFor();
  });

  afterAll(async () => {
    await context?.close();
    await new Promise((ok) => server?.close(ok));
    await database?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const api = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return res.json();
  };
  const text = async (id: string) => (await page.getByTestId(id).first().textContent())?.trim();
  const num = async (id: string) => Number(await text(id));
  const count = (selector: string) => page.locator(selector).count();
  const sumOf = (selector: string, attr: string) =>
    page.locator(selector).evaluateAll((els, a) => els.reduce((n, e) => n + Number(e.getAttribute(a)), 0), attr);

  /** axe-core in the page (evaluated over CDP, so the page's CSP needs no exception). */
  async function axeClean(name: string) {
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(o: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
      const r = await axe.run({ resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.map((n) => ({ target: n.target })),
      }));
    });
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect([name, bad]).toEqual([name, []]);
  }

  /** Screenshots at 1440 and 390 px, axe at both, and nothing wider than a phone's screen. */
  async function shoot(name: string) {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.screenshot({ path: join(OUT, `workspace-${name}-1440.png`), fullPage: true });
    await axeClean(`${name} at 1440`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(OUT, `workspace-${name}-390.png`), fullPage: true });
    await axeClean(`${name} at 390`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect([name, overflow <= 0]).toEqual([name, true]);
    await page.setViewportSize({ width: 1440, height: 900 });
  }

  async function programHeadlineMatches(apiPath: string) {
    const view = await api(apiPath);
    const shown = {
      total: await num('h-total'),
      red: await num('h-red'),
      amber: await num('h-amber'),
      green: await num('h-green'),
      none: await num('h-none'),
      findings: await num('h-findings'),
      in: await num('h-deps-in'),
      out: await num('h-deps-out'),
    };
    const rows = {
      total: await count('[data-testid="epic-row"]'),
      red: await count('[data-testid="epic-row"][data-health="red"]'),
      amber: await count('[data-testid="epic-row"][data-health="amber"]'),
      green: await count('[data-testid="epic-row"][data-health="green"]'),
      none: await count('[data-testid="epic-row"][data-health="none"]'),
      findings: await sumOf('[data-testid="epic-row"]', 'data-findings'),
      in: await count('tr[data-direction="in"]'),
      out: await count('tr[data-direction="out"]'),
    };
    const h = view.headline;
    expect(shown).toEqual(rows);
    expect(shown).toEqual({
      total: h.epics,
      ...h.health,
      findings: h.openFindings,
      in: h.dependenciesIn,
      out: h.dependenciesOut,
    });
    const refs = await page
      .locator('[data-testid="epic-row"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-ref')));
    expect(refs).toEqual(view.epics.map((e: { ref: string }) => e.ref));
  }

  it('walks portfolio → program → epic → item → finding by clicking links', async () => {
    await page.goto(`${base}/`);
    await shoot('portfolio');

    await page.getByRole('link', { name: 'Payments modernisation' }).first().click();
    await page.waitForURL(`${base}/programs/payments`);
    await programHeadlineMatches('/api/v1/workspace/programs/payments');
    // Reasons are visible on a phone, not hidden with the wide columns.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.locator('[data-ref="jira-main:PAY-1"] .reason').isVisible()).toBe(true);
    await shoot('program');

    await page.getByRole('link', { name: 'Card vault' }).first().click();
    await page.waitForURL(`${base}/epics/jira-main%3APAY-1?program=payments`);
    const epic = await api('/api/v1/workspace/epics/jira-main%3APAY-1');
    const live = '[data-testid="child-row"]:not([data-status="removed"])';
    expect({
      children: await num('h-children'),
      done: await num('h-done'),
      points: await num('h-points'),
      pointsDone: await num('h-points-done'),
      findings: await num('h-findings'),
    }).toEqual({
      children: await count('[data-testid="child-row"]'),
      done: await count('[data-testid="child-row"][data-status="done"]'),
      points: await sumOf(live, 'data-points'),
      pointsDone: await sumOf('[data-testid="child-row"][data-status="done"]', 'data-points'),
      findings:
        (await count('[data-testid="epic-finding"]')) + (await sumOf('[data-testid="child-row"]', 'data-findings')),
    });
    expect(epic.headline).toEqual({ children: 4, done: 1, points: 8, pointsDone: 5, openFindings: 2 });
    expect(await num('h-children')).toBe(epic.headline.children);
    expect(await num('h-findings')).toBe(epic.headline.openFindings);
    expect(await text('epic-target')).toBe(epic.epic.due.slice(0, 10));
    await shoot('epic');

    await page.getByRole('link', { name: 'Item PAY-3' }).click();
    await page.waitForURL(/\/items\/jira-main%3APAY-3/);
    expect(await page.getByTestId('posted-comment').textContent()).toContain('Assign an owner to PAY-3 <now>.');
    expect(await page.getByTestId('tracker-link').getAttribute('href')).toBe('https://example.test/PAY-3');
    expect(await count('[data-testid="audit"] tbody tr')).toBe(1);
    await shoot('item');

    await page.getByRole('link', { name: 'Open work has an owner' }).first().click();
    await page.waitForURL(/\/findings\/\d+$/);
    expect(await page.getByTestId('finding').textContent()).toContain('How to fix: Fix it');
    await shoot('finding');
    expect(problems).toEqual([]);
  });

  async function explorerMatches(query: string) {
    const view = await api(`/api/v1/workspace/findings${query}`);
    const shown = {
      total: await num('h-open'),
      error: await num('h-error'),
      warning: await num('h-warning'),
      info: await num('h-info'),
    };
    expect(shown).toEqual(view.headline);
    expect(shown.total).toBe(await sumOf('[data-testid="group-row"]', 'data-total'));
    expect(shown.total).toBe(await count('[data-testid="finding-row"]'));
    expect(shown.error).toBe(await count('[data-testid="finding-row"][data-severity="error"]'));
    expect(shown.warning).toBe(await count('[data-testid="finding-row"][data-severity="warning"]'));
    return view;
  }

  it('findings explorer: each filter, headline = rows = API, CSV', async () => {
    await page.getByRole('link', { name: 'Findings', exact: true }).first().click();
    await page.waitForURL(`${base}/findings`);
    await explorerMatches('');
    // On a phone each finding still names its rule, how to fix it and its item.
    await page.setViewportSize({ width: 390, height: 844 });
    const first = page.locator('[data-testid="finding-row"]').first();
    expect(await first.locator('.show-sm a').isVisible()).toBe(true);
    expect(await first.locator('td').nth(1).locator('.small').first().isVisible()).toBe(true);
    await shoot('findings');
    const steps: [string, string, RegExp, string][] = [
      ['program', 'payments', /program=payments/, '?program=payments'],
      ['tracker', 'jira', /tracker=jira/, '?program=payments&tracker=jira'],
      ['project', 'jira-main:PAY', /project=jira-main%3APAY/, '?program=payments&tracker=jira&project=jira-main:PAY'],
      [
        'team',
        'Vault squad',
        /team=Vault\+squad/,
        '?program=payments&tracker=jira&project=jira-main:PAY&team=Vault+squad',
      ],
      [
        'owner',
        'u-ann',
        /owner=u-ann/,
        '?program=payments&tracker=jira&project=jira-main:PAY&team=Vault+squad&owner=u-ann',
      ],
    ];
    for (const [name, value, url, query] of steps) {
      await page.locator(`select[name="${name}"]`).selectOption(value);
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(url);
      const view = await explorerMatches(`${query}&group=rule`);
      expect([name, view.rows.length > 0]).toEqual([name, true]);
    }
    // Filters live in the URL: reloading keeps them.
    await page.reload();
    expect(await page.locator('select[name="owner"]').inputValue()).toBe('u-ann');
    await page.goto(`${base}/findings`);
    for (const group of ['owner', 'team', 'project', 'rule']) {
      await page.locator('select[name="group"]').selectOption(group);
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(new RegExp(`group=${group}`));
      await explorerMatches(`?group=${group}`);
    }
    await page.locator('select[name="severity"]').selectOption('error');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/severity=error/);
    const errors = await explorerMatches('?group=rule&severity=error');
    expect(errors.headline).toEqual({ error: 3, warning: 0, info: 0, total: 3 });
    const href = await page.getByTestId('csv').getAttribute('href');
    const csv = await page.evaluate(async (h) => (await fetch(h!)).text(), href);
    expect(csv.trim().split('\r\n').length).toBe(1 + 3);
    expect(problems).toEqual([]);
  });

  it('timeline and dependency map: headline = rows = API, violations and cycles shown', async () => {
    await page.getByRole('link', { name: 'Timeline', exact: true }).first().click();
    await page.waitForURL(`${base}/timeline`);
    for (const query of ['', '?tracker=azure-devops', '?program=payments']) {
      if (query) {
        const [name, value] = query.slice(1).split('=') as [string, string];
        await page.goto(`${base}/timeline`);
        await page.locator(`select[name="${name}"]`).selectOption(value);
        await page.getByRole('button', { name: 'Apply' }).click();
        await page.waitForURL(new RegExp(`[?&]${name}=${value}`));
      }
      const t = await api(`/api/v1/workspace/timeline${query}`);
      const shown = {
        total: await num('h-total'),
        red: await num('h-red'),
        amber: await num('h-amber'),
        green: await num('h-green'),
        none: await num('h-none'),
        violations: await num('h-violations'),
        cycles: await num('h-cycles'),
      };
      expect(shown).toEqual({
        total: await count('[data-testid="bar-row"]'),
        red: await count('[data-testid="bar-row"][data-health="red"]'),
        amber: await count('[data-testid="bar-row"][data-health="amber"]'),
        green: await count('[data-testid="bar-row"][data-health="green"]'),
        none: await count('[data-testid="bar-row"][data-health="none"]'),
        violations: await count('[data-testid="violation"]'),
        cycles: await count('[data-testid="cycle"]'),
      });
      expect(shown).toEqual({
        total: t.headline.bars,
        ...t.headline.health,
        violations: t.headline.violations,
        cycles: t.headline.cycles,
      });
      expect(await count('svg.timeline rect.bar')).toBe(shown.total);
      expect(await count('svg.timeline path.dep')).toBe(t.edges.length);
      if (!query) await shoot('timeline');
    }
    expect(await count('[data-testid="today-line"]')).toBe(1);

    await page.goto(`${base}/programs/payments`);
    await page.getByRole('link', { name: 'Dependency map' }).click();
    await page.waitForURL(`${base}/programs/payments/dependencies`);
    const map = await api('/api/v1/workspace/programs/payments/dependencies');
    expect({
      nodes: await num('h-nodes'),
      edges: await num('h-edges'),
      cycles: await num('h-cycles'),
      external: await num('h-external'),
    }).toEqual({
      nodes: await count('svg.depmap rect.node'),
      edges: await count('[data-testid="edge"]'),
      cycles: await count('[data-testid="cycle"]'),
      external: await count('svg.depmap rect.node.external'),
    });
    expect(await num('h-edges')).toBe(map.headline.edges);
    expect(await num('h-cross')).toBe(map.headline.crossTracker);
    await shoot('dependencies');
    expect(problems).toEqual([]);
  });

  it('burn-up with its cone on the epic and program pages, and the slip table by baseline', async () => {
    await page.goto(`${base}/epics/jira-main%3APAY-1`);
    const burnUp = await api('/api/v1/workspace/epics/jira-main%3APAY-1/burnup');
    expect(await count('svg.burnup polyline.done-line')).toBe(1);
    expect(await count('svg.burnup line.cone-line')).toBe(3);
    expect(await text('burnup-p85')).toBe(PAY1.p85);
    expect(await page.locator('svg.burnup').getAttribute('aria-label')).toContain(
      `${burnUp.doneNow} of ${burnUp.scopeNow} points done today`,
    );
    // The table twin of the drawing opens from the keyboard and lists every week.
    await page.getByText('The burn-up as a table').click();
    expect(await count('[data-testid="burnup-table"] tbody tr')).toBe(burnUp.weeks.length);
    await shoot('burnup');

    await page.goto(`${base}/programs/payments`);
    expect(await count('svg.burnup line.cone-line')).toBe(3);
    await shoot('program-burnup');

    await page.goto(`${base}/slip`);
    await page.getByTestId('baseline-select').selectOption(BASELINE);
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/\/slip\?baseline=/);
    const slip = await api(`/api/v1/workspace/slip?baseline=${encodeURIComponent(BASELINE)}`);
    expect(await text('slip-baseline')).toBe(BASELINE);
    const rows = await page
      .locator('[data-testid="slip-row"]')
      .evaluateAll((els) =>
        els.map((e) => [
          e.getAttribute('data-ref'),
          e.getAttribute('data-target-slip'),
          e.getAttribute('data-forecast-slip'),
        ]),
      );
    expect(rows).toEqual(
      slip.rows.map((r: { ref: string; targetSlipDays: number | null; forecastSlipDays: number | null }) => [
        r.ref,
        String(r.targetSlipDays ?? ''),
        String(r.forecastSlipDays ?? ''),
      ]),
    );
    expect(await num('h-target-slipped')).toBe(slip.headline.targetSlipped);
    expect(await num('h-added')).toBe(slip.headline.added);
    await shoot('slip');

    await page.goto(`${base}/timeline`);
    expect(await count('svg.timeline path.p85-marker')).toBe(2);
    expect(problems).toEqual([]);
  });

  it('keeps every workspace page behind the session', async () => {
    const fresh = await fetch(`${base}/programs/payments`);
    expect(fresh.status).toBe(401);
    expect(await fresh.text()).toContain('name="token"');
    for (const name of [
      'portfolio',
      'program',
      'epic',
      'item',
      'finding',
      'findings',
      'timeline',
      'dependencies',
      'burnup',
      'program-burnup',
      'slip',
    ]) {
      for (const w of [1440, 390]) expect(existsSync(join(OUT, `workspace-${name}-${w}.png`))).toBe(true);
    }
  });
});
