// The workspace's data over the API: each drill-down view (program, epic, item, finding), the
// findings explorer (JSON or CSV) and the timeline and dependency map, read by the same loaders
// as the dashboard pages, so a page and its API call always agree (issue 25.3, 25.4).
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { FILTER_KEYS, parseFilter } from '../../dashboard/workspace/filter.ts';
import {
  EXPLORER_COLUMNS,
  explorerPages,
  GROUPS,
  loadExplorer,
  SEVERITIES,
} from '../../dashboard/workspace/findings.ts';
import { loadEpicBurnUp, loadProgramBurnUp, loadSlip } from '../../dashboard/workspace/forecast.ts';
import { loadDependencyMap, loadTimeline } from '../../dashboard/workspace/graph.ts';
import { loadEpic, loadFinding, loadItem, loadProgram, ruleCatalog } from '../../dashboard/workspace/load.ts';
import { csvStream } from '../../util/csv.ts';
import type { AppDeps } from '../deps.ts';
import { bearer, csv, json, problems } from '../openapi.ts';
import { notFound } from '../problem.ts';

const filterShape = Object.fromEntries(FILTER_KEYS.map((k) => [k, z.string().min(1).max(300).optional()])) as Record<
  (typeof FILTER_KEYS)[number],
  z.ZodOptional<z.ZodString>
>;
const WorkspaceQuery = z.object(filterShape).openapi('WorkspaceQuery');
const ExplorerQuery = WorkspaceQuery.extend({
  group: z.enum(GROUPS).default('rule'),
  severity: z.enum(SEVERITIES).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
/** The views are documented in docs/api.md; their shape is the loaders' return types. */
const View = z.record(z.string(), z.unknown()).openapi('WorkspaceView');
const pathParam = (name: string) =>
  z
    .string()
    .min(1)
    .max(300)
    .openapi({ param: { name, in: 'path' } });

const route = (path: string, summary: string, request: Record<string, unknown>, extra404 = true) =>
  createRoute({
    method: 'get',
    path,
    tags: ['Workspace'],
    summary,
    security: bearer,
    request,
    responses: { 200: json(View, summary), ...(extra404 ? problems(400, 401, 404) : problems(400, 401)) },
  });

const programRoute = route(
  '/api/v1/workspace/programs/{id}',
  "A program's epics across both trackers, health reasons, dependencies in and out",
  {
    params: z.object({ id: pathParam('id') }),
    // The `page.next` cursor of the previous page: epics come 100 at a time, headline over all.
    query: WorkspaceQuery.extend({
      after: z.string().min(1).max(400).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      // The `dependencyPage.next` cursor: dependency rows come 100 at a time, headline over all.
      dependenciesAfter: z.string().min(1).max(2000).optional(),
    }),
  },
);
const dependencyRoute = route(
  '/api/v1/workspace/programs/{id}/dependencies',
  "A program's dependency graph between epics and features, across trackers",
  { params: z.object({ id: pathParam('id') }), query: WorkspaceQuery },
);
const epicRoute = route('/api/v1/workspace/epics/{ref}', 'An epic: children tree, dependencies, history', {
  params: z.object({ ref: pathParam('ref') }),
});
const itemRoute = route(
  '/api/v1/workspace/items/{ref}',
  'An item: fields, findings, the bot comment as posted, the write audit',
  { params: z.object({ ref: pathParam('ref') }) },
);
const findingRoute = route('/api/v1/workspace/findings/{id}', 'A finding with its rule, item and history', {
  params: z.object({
    id: z.coerce
      .number()
      .int()
      .positive()
      .openapi({ param: { name: 'id', in: 'path' } }),
  }),
});
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .optional();
const timelineRoute = route(
  '/api/v1/workspace/timeline',
  'Epics and features by start and target, dependencies, violations and cycles',
  {
    // The window: bars overlapping [from, to]; by default half a year back and a year ahead.
    query: WorkspaceQuery.extend({ from: day, to: day }),
  },
  false,
);
const slipRoute = route(
  '/api/v1/workspace/slip',
  "The slip table: each baselined epic's target and forecast slip in days and scope added and removed",
  { query: z.object({ baseline: z.string().min(1).max(100) }) },
);
const epicBurnUpRoute = route(
  '/api/v1/workspace/epics/{ref}/burnup',
  "An epic's burn-up (done and scope per week) with its forecast cone",
  { params: z.object({ ref: pathParam('ref') }) },
);
const programBurnUpRoute = route(
  '/api/v1/workspace/programs/{id}/burnup',
  "A program's burn-up (done and scope per week) with its forecast cone",
  { params: z.object({ id: pathParam('id') }) },
);
const explorerRoute = createRoute({
  method: 'get',
  path: '/api/v1/workspace/findings',
  tags: ['Workspace'],
  summary: 'Open findings grouped by rule, owner, team or project, severity first (or every row as CSV)',
  security: bearer,
  request: { query: ExplorerQuery },
  responses: {
    200: { ...json(View, 'The explorer'), content: { ...json(View, '').content, ...csv('').content } },
    ...problems(400, 401),
  },
});

export function registerWorkspaceRoutes(app: OpenAPIHono, deps: AppDeps, now: () => Date): void {
  const { db } = deps.database;
  const config = deps.config;
  const rules = async () => ruleCatalog(deps.rules ? await deps.rules() : []);

  app.openapi(programRoute, async (c) => {
    const view = await loadProgram(
      db,
      config,
      c.req.param('id') ?? '',
      parseFilter((k) => c.req.query(k)),
      // Validated by the route's schema: 1–500, 100 when absent.
      {
        after: c.req.query('after'),
        limit: Number(c.req.query('limit') ?? 100),
        dependenciesAfter: c.req.query('dependenciesAfter'),
      },
    );
    if (!view) throw notFound(`No program "${c.req.param('id') ?? ''}".`);
    return c.json(view as unknown as Record<string, unknown>, 200);
  });

  app.openapi(dependencyRoute, async (c) => {
    const id = c.req.param('id') ?? '';
    if (!config?.portfolio.programs.some((p) => p.id === id)) throw notFound(`No program "${id}".`);
    const view = await loadDependencyMap(db, config, { ...parseFilter((k) => c.req.query(k)), program: id });
    return c.json(view as unknown as Record<string, unknown>, 200);
  });

  app.openapi(epicRoute, async (c) => {
    const view = await loadEpic(db, c.req.param('ref') ?? '');
    if (!view) throw notFound(`No item "${c.req.param('ref') ?? ''}".`);
    return c.json(view as unknown as Record<string, unknown>, 200);
  });

  app.openapi(itemRoute, async (c) => {
    const view = await loadItem(db, c.req.param('ref') ?? '');
    if (!view) throw notFound(`No item "${c.req.param('ref') ?? ''}".`);
    return c.json(view as unknown as Record<string, unknown>, 200);
  });

  app.openapi(findingRoute, async (c) => {
    const view = await loadFinding(db, Number(c.req.param('id') ?? ''));
    if (!view) throw notFound(`No finding ${c.req.param('id') ?? ''}.`);
    return c.json({ ...view, rule: (await rules()).get(view.finding.rule) ?? null }, 200);
  });

  app.openapi(timelineRoute, async (c) => {
    const view = await loadTimeline(
      db,
      config,
      parseFilter((k) => c.req.query(k)),
      now(),
      { from: c.req.query('from'), to: c.req.query('to') },
    );
    return c.json(view as unknown as Record<string, unknown>, 200);
  });

  // The JSON twins of the slip page and the burn-up cards (issue 26.8), from the same loaders.
  app.openapi(slipRoute, async (c) => {
    const view = await loadSlip(db, c.req.query('baseline') ?? '');
    if (view.unknown !== null) throw notFound(`No baseline named "${view.unknown}".`);
    return c.json(view as unknown as Record<string, unknown>, 200);
  });

  app.openapi(epicBurnUpRoute, async (c) => {
    const ref = c.req.param('ref') ?? '';
    if (!(await loadEpic(db, ref))) throw notFound(`No item "${ref}".`);
    return c.json((await loadEpicBurnUp(db, ref, now())) as unknown as Record<string, unknown>, 200);
  });

  app.openapi(programBurnUpRoute, async (c) => {
    const id = c.req.param('id') ?? '';
    const view = await loadProgramBurnUp(db, config, id, now());
    if (!view) throw notFound(`No program "${id}".`);
    return c.json(view as unknown as Record<string, unknown>, 200);
  });

  app.openapi(explorerRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = parseFilter((k) => c.req.query(k));
    if (q.format === 'csv') {
      const body = await csvStream(
        EXPLORER_COLUMNS,
        explorerPages(db, config, filter, { severity: q.severity, rules: await rules() }),
        (err) => deps.log.error({ err }, 'CSV export failed part-way; the download is cut off'),
      );
      return new Response(body, {
        status: 200,
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': 'attachment; filename="findings.csv"',
        },
      });
    }
    const view = await loadExplorer(db, config, filter, {
      groupBy: q.group,
      severity: q.severity,
      rules: await rules(),
    });
    return c.json(view as unknown as Record<string, unknown>, 200);
  });
}
