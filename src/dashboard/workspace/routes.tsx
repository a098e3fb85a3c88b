/** @jsxRuntime automatic @jsxImportSource hono/jsx */
// The workspace pages, each behind the dashboard session (no session: the sign-in form, 401).
// Stable URLs: /programs/:id, /programs/:id/dependencies, /epics/:ref, /items/:ref,
// /findings/:id, /findings (explorer), /findings.csv, /timeline and /slip?baseline=NAME; filters
// ride in the query.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { verifySession } from '../../auth/sessions.ts';
import type { AppDeps } from '../../http/app.ts';
import { csvStream } from '../../util/csv.ts';
import { Layout, SignIn } from '../page.tsx';
import { parseFilter } from './filter.ts';
import { EXPLORER_COLUMNS, explorerPages, GROUPS, type GroupBy, loadExplorer, SEVERITIES } from './findings.ts';
import { loadEpicBurnUp, loadProgramBurnUp, loadSlip } from './forecast.ts';
import { SlipPage } from './forecast-views.tsx';
import { loadDependencyMap, loadTimeline } from './graph.ts';
import { loadEpic, loadFinding, loadItem, loadProgram, ruleCatalog } from './load.ts';
import { knownFilter, loadFilterOptions } from './options.ts';
import { DependencyMapPage, ExplorerPage, TimelinePage } from './plan-views.tsx';
import { EpicPage, FindingPage, ItemPage, ProgramPage } from './views.tsx';

export function registerWorkspacePages(
  app: OpenAPIHono,
  deps: AppDeps,
  now: () => Date,
  opts: { cookie: string; headers: Record<string, string> },
): void {
  const { db } = deps.database;
  const config = deps.config;
  const rules = async () => ruleCatalog(deps.rules ? await deps.rules() : []);
  const signedIn = async (c: Context) => Boolean(await verifySession(db, getCookie(c, opts.cookie), now()));
  const signIn = (c: Context) => c.html(<SignIn />, 401, opts.headers);
  const missing = (c: Context, what: string) =>
    c.html(
      <Layout title="Not found · pmo-sync" signedIn>
        <section class="card">
          <h2>Not found</h2>
          <p>{what}</p>
          <p>
            <a href="/">Back to the portfolio</a>
          </p>
        </section>
      </Layout>,
      404,
      opts.headers,
    );
  const filterOf = async (c: Context) => {
    const options = await loadFilterOptions(db, config);
    return {
      options,
      filter: knownFilter(
        parseFilter((k) => c.req.query(k)),
        options,
        config,
      ),
    };
  };

  app.get('/programs/:id', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const id = c.req.param('id');
    const { options, filter } = await filterOf(c);
    const after = c.req.query('after');
    const dependenciesAfter = c.req.query('dependenciesAfter');
    // The view and the burn-up side by side: neither reads what the other does.
    const [view, burnUp] = await Promise.all([
      loadProgram(
        db,
        config,
        id,
        { ...filter, program: undefined },
        {
          after: after && after.length <= 400 ? after : undefined,
          dependenciesAfter: dependenciesAfter && dependenciesAfter.length <= 2000 ? dependenciesAfter : undefined,
        },
      ),
      loadProgramBurnUp(db, config, id, now()),
    ]);
    if (!view) return missing(c, `No program "${id}".`);
    return c.html(
      <ProgramPage view={view} filter={{ ...filter, program: id }} options={options} burnUp={burnUp} />,
      200,
      opts.headers,
    );
  });

  app.get('/programs/:id/dependencies', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const id = c.req.param('id');
    const program = config?.portfolio.programs.find((p) => p.id === id);
    if (!program) return missing(c, `No program "${id}".`);
    const { options, filter } = await filterOf(c);
    const view = await loadDependencyMap(db, config, { ...filter, program: id });
    return c.html(
      <DependencyMapPage view={view} program={program} filter={{ ...filter, program: undefined }} options={options} />,
      200,
      opts.headers,
    );
  });

  app.get('/epics/:ref', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const ref = c.req.param('ref');
    const [{ options, filter }, view, burnUp] = await Promise.all([
      filterOf(c),
      loadEpic(db, ref),
      loadEpicBurnUp(db, ref, now()),
    ]);
    if (!view) return missing(c, `No item "${ref}".`);
    return c.html(
      <EpicPage view={view} filter={filter} programs={options.programs} rules={await rules()} burnUp={burnUp} />,
      200,
      opts.headers,
    );
  });

  app.get('/items/:ref', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const ref = c.req.param('ref');
    const view = await loadItem(db, ref);
    if (!view) return missing(c, `No item "${ref}".`);
    const { filter } = await filterOf(c);
    return c.html(<ItemPage view={view} filter={filter} rules={await rules()} now={now()} />, 200, opts.headers);
  });

  app.get('/findings.csv', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const { filter } = await filterOf(c);
    const severity = (SEVERITIES as readonly string[]).includes(c.req.query('severity') ?? '')
      ? c.req.query('severity')
      : undefined;
    const body = await csvStream(
      EXPLORER_COLUMNS,
      explorerPages(db, config, filter, { severity, rules: await rules() }),
      (err) => deps.log.error({ err }, 'CSV export failed part-way; the download is cut off'),
    );
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="findings.csv"',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      },
    });
  });

  app.get('/findings/:id', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const raw = c.req.param('id');
    const id = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : null;
    const view = id === null ? null : await loadFinding(db, id);
    if (!view) return missing(c, `No finding ${raw}.`);
    return c.html(<FindingPage view={view} rules={await rules()} now={now()} />, 200, opts.headers);
  });

  app.get('/findings', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const { options, filter } = await filterOf(c);
    const group = (GROUPS as readonly string[]).includes(c.req.query('group') ?? '')
      ? (c.req.query('group') as GroupBy)
      : 'rule';
    const severity = (SEVERITIES as readonly string[]).includes(c.req.query('severity') ?? '')
      ? c.req.query('severity')
      : undefined;
    const view = await loadExplorer(db, config, filter, { groupBy: group, severity, rules: await rules() });
    return c.html(<ExplorerPage view={view} filter={filter} options={options} />, 200, opts.headers);
  });

  // The slip table: the baseline is chosen by ?baseline=NAME; its JSON twin is
  // GET /api/v1/workspace/slip?baseline=NAME.
  app.get('/slip', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const view = await loadSlip(db, c.req.query('baseline') || undefined);
    return c.html(<SlipPage view={view} />, view.unknown === null ? 200 : 404, opts.headers);
  });

  app.get('/timeline', async (c) => {
    if (!(await signedIn(c))) return signIn(c);
    const { options, filter } = await filterOf(c);
    const view = await loadTimeline(db, config, filter, now(), { from: c.req.query('from'), to: c.req.query('to') });
    return c.html(<TimelinePage view={view} filter={filter} options={options} />, 200, opts.headers);
  });
}
