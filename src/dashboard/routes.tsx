/** @jsxRuntime automatic @jsxImportSource hono/jsx */
// The pragma repeats tsconfig's JSX settings: tsx finds tsconfig.json from the working directory,
// so `pmo-sync` started anywhere else would otherwise compile this file for React.
// Dashboard routes: sign-in with an API token, which opens a server-side session whose random id
// (never the token) is kept in an http-only, SameSite=Strict cookie; sign-out ends the session.
// Also the server-rendered page and static assets (our CSS/JS and Chart.js from node_modules,
// no CDN).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createSession, revokeSession, verifySession } from '../auth/sessions.ts';
import { ServerSessions } from '../config/schema.ts';
import { authenticate } from '../http/auth.ts';
import { limitBody } from '../http/body.ts';
import type { AppDeps } from '../http/deps.ts';
import { parseFilter } from '../workspace/filters.ts';
import { ASSET_NAMES, type AssetName } from './asset-names.ts';
import { loadDashboard } from './data.ts';
import { DashboardPage, SignIn } from './page.tsx';
import { registerWorkspacePages } from './workspace/routes.tsx';

export const SESSION_COOKIE = 'pmo_session';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "form-action 'self'",
  "base-uri 'none'",
].join('; ');

const HTML_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

const ASSET_TYPES: Record<AssetName, string> = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'chart.umd.min.js': 'text/javascript; charset=utf-8',
};

/** Reads an asset from disk. Paths are worked out on use, never at import: a Worker bundle has no files. */
async function readAsset(name: AssetName): Promise<string> {
  if (name === 'chart.umd.min.js') {
    // chart.js exports only its module entry points; the UMD build sits beside them in dist/.
    return readFile(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  }
  return readFile(join(dirname(fileURLToPath(import.meta.url)), 'assets', name), 'utf8');
}

const isAsset = (name: string): name is AssetName => (ASSET_NAMES as readonly string[]).includes(name);

export function registerDashboard(app: OpenAPIHono, deps: AppDeps, now: () => Date): void {
  const { db } = deps.database;
  // Per app, not per module: assets are read once on first request and kept with this app.
  const cache = new Map<AssetName, string>(Object.entries(deps.assets ?? {}) as [AssetName, string][]);

  const secure = (c: Context) => deps.secureCookies ?? new URL(c.req.url).protocol === 'https:';
  const ttlMs = (deps.config?.server.sessions ?? ServerSessions.parse({})).ttlHours * 3600_000;

  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    if (!isAsset(name)) return c.notFound();
    let body = cache.get(name);
    if (body === undefined) {
      body = await readAsset(name);
      cache.set(name, body);
    }
    return c.body(body, 200, {
      'content-type': ASSET_TYPES[name],
      'cache-control': 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
    });
  });

  app.get('/', async (c) => {
    const caller = await verifySession(db, getCookie(c, SESSION_COOKIE), now());
    if (!caller) {
      if (getCookie(c, SESSION_COOKIE)) deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.html(<SignIn />, 200, HTML_HEADERS);
    }
    // One reading of the URL's filter for every page (src/workspace/filters.ts).
    const { filter } = parseFilter(c.req.query());
    const at = now();
    const data = await loadDashboard(db, deps.config, filter, at);
    return c.html(<DashboardPage data={data} now={at} filter={data.filter} />, 200, HTML_HEADERS);
  });

  registerWorkspacePages(app, deps, now, { cookie: SESSION_COOKIE, headers: HTML_HEADERS });

  // Login CSRF: SameSite=Strict guards the session, but a cross-site form could still sign a
  // victim in with the attacker's token. Browsers label such posts with Sec-Fetch-Site; the
  // Origin header is not compared because a TLS-terminating proxy changes what we see of it.
  const sameSiteForms: MiddlewareHandler = async (c, next) => {
    const site = c.req.header('sec-fetch-site');
    if (site === 'cross-site' || site === 'same-site') {
      return c.html(<SignIn error="Sign-in must come from this site's own form." />, 403, HTML_HEADERS);
    }
    await next();
  };
  app.use('/login', sameSiteForms);
  app.use('/logout', sameSiteForms);

  // The sign-in form is read under its own small limit before anything else happens.
  const loginBody = limitBody((c) => ({
    maxBytes: c.var.limits.loginBodyBytes,
    timeoutMs: c.var.limits.bodyTimeoutSeconds * 1000,
  }));

  app.post('/login', loginBody, async (c) => {
    const form = await new Request('http://form.invalid/', {
      method: 'POST',
      headers: { 'content-type': c.req.header('content-type') ?? '' },
      body: c.var.body,
    })
      .formData()
      .catch(() => null);
    const field = form?.get('token');
    const token = typeof field === 'string' ? field.trim() : '';
    const caller = await authenticate(db, token);
    if (!caller) return c.html(<SignIn error="That token is unknown or revoked." />, 401, HTML_HEADERS);
    const session = await createSession(db, { tokenId: caller.tokenId, now: now(), ttlMs });
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: secure(c),
      path: '/',
      maxAge: Math.floor(ttlMs / 1000),
    });
    return c.redirect('/', 303);
  });

  app.post('/logout', async (c) => {
    await revokeSession(db, getCookie(c, SESSION_COOKIE), now());
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: secure(c) });
    return c.redirect('/', 303);
  });
}
