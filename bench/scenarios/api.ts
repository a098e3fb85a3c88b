// Rollup API latency over the items the sync scenario stored: the real HTTP app, a read token,
// `n` sequential requests per route after one warm-up; p50/p99 per route.

import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { startServer } from '../../src/server/start.ts';
import type { BenchDatabase } from '../lib/db.ts';
import { percentile, round } from '../lib/stats.ts';
import type { World } from '../lib/world.ts';

export interface ApiFigures {
  db: string;
  items: number;
  routes: {
    route: string;
    /** The request took over 60 s and was abandoned. */
    timedOut: boolean;
    p50Ms: number | null;
    p99Ms: number | null;
    samples: number;
    bytes: number;
    status: number;
  }[];
}

export interface BenchRoute {
  name: string;
  path: string;
  /** A dashboard page, requested with a signed-in session's cookie rather than a bearer token. */
  page?: boolean;
}

export const API_ROUTES: BenchRoute[] = [
  { name: 'portfolio', path: '/api/v1/portfolio' },
  { name: 'program', path: '/api/v1/programs/payments' },
  { name: 'epic list', path: '/api/v1/items?kind=epic&limit=100' },
];

/**
 * The PMO workspace's API calls (issue 25): the portfolio under each kind of filter, a program's
 * epics, and the open findings a filter narrows to.
 */
export const WORKSPACE_ROUTES: BenchRoute[] = [
  { name: 'workspace portfolio', path: '/api/v1/portfolio' },
  { name: 'workspace by tracker', path: '/api/v1/portfolio?tracker=azure-devops' },
  { name: 'workspace by project', path: '/api/v1/portfolio?connection=jira-main&project=PAY' },
  { name: 'workspace by owner', path: '/api/v1/portfolio?owner=Mia%20Krystof' },
  { name: 'workspace by team', path: '/api/v1/portfolio?team=Payments' },
  { name: 'workspace program', path: '/api/v1/programs/payments' },
  { name: 'workspace findings by owner', path: '/api/v1/findings?status=open&owner=Mia%20Krystof&limit=100' },
  // The drill-down views' own calls (src/http/routes/workspace.ts).
  { name: 'program view', path: '/api/v1/workspace/programs/payments' },
  { name: 'explorer by owner', path: '/api/v1/workspace/findings?group=owner' },
  { name: 'explorer by rule', path: '/api/v1/workspace/findings' },
  { name: 'timeline', path: '/api/v1/workspace/timeline?program=payments' },
  { name: 'dependency map', path: '/api/v1/workspace/programs/payments/dependencies' },
  // `{epic}`, `{item}`, `{finding}`: the epic with the most items under it, a story of it, an open finding.
  { name: 'epic view', path: '/api/v1/workspace/epics/{epic}' },
  { name: 'item view', path: '/api/v1/workspace/items/{item}' },
  { name: 'finding view', path: '/api/v1/workspace/findings/{finding}' },
  // The pages themselves: the same loaders plus the filter form's options and the rendering.
  { name: 'page: portfolio', path: '/', page: true },
  { name: 'page: program', path: '/programs/payments', page: true },
  { name: 'page: explorer by owner', path: '/findings?group=owner', page: true },
  { name: 'page: explorer by rule', path: '/findings', page: true },
  { name: 'page: timeline', path: '/timeline?program=payments', page: true },
  { name: 'page: dependency map', path: '/programs/payments/dependencies', page: true },
  { name: 'page: epic', path: '/epics/{epic}', page: true },
  { name: 'page: item', path: '/items/{item}', page: true },
  { name: 'page: finding', path: '/findings/{finding}', page: true },
];

/** Values for the `{epic}`, `{item}` and `{finding}` placeholders of a route, from the database. */
export async function placeholders(database: Database): Promise<Record<string, string>> {
  const [epic] = await queryRows<{ ref: string }>(
    database.db,
    sql`select p.ref from work_items c join work_items p on p.ref = c.parent
      where p.kind = 'epic' group by p.ref order by count(*) desc, p.ref limit 1`,
  );
  const [item] = await queryRows<{ ref: string }>(
    database.db,
    sql`select ref from work_items where kind <> 'epic' and parent is not null order by ref limit 1`,
  );
  const [finding] = await queryRows<{ id: number }>(
    database.db,
    sql`select id from findings where status = 'open' order by id limit 1`,
  );
  return {
    epic: encodeURIComponent(epic?.ref ?? 'none'),
    item: encodeURIComponent(item?.ref ?? 'none'),
    finding: String(finding?.id ?? 1),
  };
}

/** Sends one request: over HTTP to a server, or in-process to the app (bench/workspace-probe.ts). */
export type Send = (path: string, init: RequestInit) => Promise<Response>;

export async function runApiScenario(
  database: BenchDatabase,
  world: World,
  n: number,
  routeList: readonly BenchRoute[] = API_ROUTES,
): Promise<ApiFigures> {
  const server = await startServer({
    config: world.config,
    database,
    log: world.log,
    cwd: process.cwd(),
    port: 0,
    schedule: false,
    connectors: world.connectors,
  });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const routes = await timeRoutes((path, init) => fetch(`${base}${path}`, init), database, routeList, n);
    return { db: database.kind, items: world.jiraKeys.length + world.adoIds.length, routes };
  } finally {
    await server.stop();
  }
}

/** `n` sequential timed requests per route after one warm-up, as a read token or a signed-in person. */
export async function timeRoutes(
  send: Send,
  database: Database,
  routeList: readonly BenchRoute[],
  n: number,
  opts: { maxMsPerRoute?: number } = {},
): Promise<ApiFigures['routes']> {
  const { token } = await createToken(database.db, { scope: 'read', name: 'bench' });
  const routes: ApiFigures['routes'] = [];
  const values = routeList.some((r) => r.path.includes('{')) ? await placeholders(database) : {};
  const cookie = routeList.some((r) => r.page) ? await signIn(send, token) : '';
  for (const r0 of routeList) {
    const r = { name: r0.name, path: r0.path.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? k) };
    const headers: Record<string, string> = r0.page ? { cookie } : { authorization: `Bearer ${token}` };
    const times: number[] = [];
    let bytes = 0;
    let status = 0;
    // At most `n` timed requests, no more than 20 s per route; a request over 60 s is abandoned
    // and reported as a timeout (the program route is quadratic before ANALYZE: see BENCHMARKS.md).
    const until = performance.now() + (opts.maxMsPerRoute ?? 20_000);
    let timedOut = false;
    for (let i = 0; i <= n && (i < 3 || performance.now() < until); i++) {
      const t0 = performance.now();
      try {
        const res = await send(r.path, { headers, signal: AbortSignal.timeout(60_000) });
        const body = await res.arrayBuffer();
        const ms = performance.now() - t0;
        if (i > 0 || ms > 10_000) times.push(ms);
        bytes = body.byteLength;
        status = res.status;
        if (ms > 10_000) break;
      } catch {
        timedOut = true;
        break;
      }
    }
    routes.push({
      route: `${r.name} (${r.path})`,
      timedOut,
      p50Ms: round(percentile(times, 50), 1),
      p99Ms: round(percentile(times, 99), 1),
      samples: times.length,
      bytes,
      status,
    });
  }
  return routes;
}

/** A dashboard session's cookie (`name=value`), signed in with an API token as a person would. */
export async function signIn(send: Send, token: string): Promise<string> {
  const res = await send('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });
  await res.arrayBuffer();
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  if (!cookie) throw new Error(`signing in to the dashboard answered ${res.status} without a session cookie`);
  return cookie;
}
