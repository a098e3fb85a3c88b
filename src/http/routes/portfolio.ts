// Rollup routes: the portfolio, one program, one tracker project, and daily snapshots.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { EPIC_PAGE_SIZE } from '../../workspace/epics.ts';
import { loadHeadlineGroups, sumHeadline } from '../../workspace/headline.ts';
import { knownConnections, loadFreshnessFor, loadProgramRows, loadTrend } from '../../workspace/queries.ts';
import type { AppDeps } from '../deps.ts';
import { bearer, json, problems } from '../openapi.ts';
import { notFound } from '../problem.ts';
import {
  type EpicRowsPage,
  type Headline,
  loadEpicsPage,
  loadHeadline,
  loadHistory,
  rollupFor,
  rollupsByPrefix,
} from '../queries.ts';
import { EpicsQuery, History, HistoryQuery, Portfolio, ProgramDetail, ProjectDetail } from '../schemas.ts';
import { findProgram } from '../scope.ts';

const PageQuery = EpicsQuery.pick({ limit: true, after: true });

const portfolioRoute = createRoute({
  method: 'get',
  path: '/api/v1/portfolio',
  tags: ['Rollups'],
  summary: 'Portfolio rollup, headline, programs, epics, trend, projects and data freshness',
  description:
    'Scope filters narrow every part but `rollup` and `projects`, the stored rollups; the headline counts the `epics` rows. Definitions: docs/metrics.md.',
  security: bearer,
  request: { query: EpicsQuery },
  responses: { 200: json(Portfolio, 'The portfolio'), ...problems(400, 401) },
});

const programRoute = createRoute({
  method: 'get',
  path: '/api/v1/programs/{id}',
  tags: ['Rollups'],
  summary: 'One program: its rollup, projects and epics',
  security: bearer,
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: 'id', in: 'path' } }),
    }),
    query: PageQuery,
  },
  responses: { 200: json(ProgramDetail, 'The program'), ...problems(400, 401, 404) },
});

const projectRoute = createRoute({
  method: 'get',
  path: '/api/v1/projects/{connection}/{project}',
  tags: ['Rollups'],
  summary: 'One tracker project: its rollup and epics',
  security: bearer,
  request: {
    params: z.object({
      connection: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: 'connection', in: 'path' } }),
      project: z
        .string()
        .min(1)
        .max(200)
        .openapi({ param: { name: 'project', in: 'path' } }),
    }),
    query: PageQuery,
  },
  responses: { 200: json(ProjectDetail, 'The project'), ...problems(400, 401, 404) },
});

const historyRoute = createRoute({
  method: 'get',
  path: '/api/v1/history',
  tags: ['Rollups'],
  summary: 'Daily rollup snapshots of one scope, oldest first',
  security: bearer,
  request: { query: HistoryQuery },
  responses: { 200: json(History, 'Snapshots'), ...problems(400, 401, 404) },
});

export function registerPortfolioRoutes(app: OpenAPIHono, deps: AppDeps, now: () => Date): void {
  const { db } = deps.database;
  const config = deps.config;

  app.openapi(portfolioRoute, async (c) => {
    const { after, limit, ...filter } = c.req.valid('query');
    const at = now();
    // Every part obeys the whole filter (issue 25): programs, epics, trend and freshness too.
    const from = new Date(at.getTime() - 90 * 86_400_000).toISOString().slice(0, 10);
    // One pass over the items for the headline and every program row (loadHeadlineGroups).
    const [known, groups] = await Promise.all([
      knownConnections(db, config),
      loadHeadlineGroups(db, config, filter, at),
    ]);
    const headline = sumHeadline(groups);
    const [rollup, programs, projects, freshness, epics, trend] = await Promise.all([
      rollupFor(db, 'portfolio'),
      loadProgramRows(db, config, filter, at, known, groups),
      rollupsByPrefix(db, 'project:'),
      loadFreshnessFor(db, config, filter, at, known),
      loadEpicsPage(db, config, filter, { after, limit }, at),
      loadTrend(db, config, filter, from),
    ]);
    return c.json(
      { rollup, headline, programs, projects, freshness, epics: epics.epics, epicsPage: epics.page, trend },
      200,
    );
  });

  app.openapi(programRoute, async (c) => {
    const { id } = c.req.valid('param');
    const rollup = await rollupFor(db, `program:${id}`);
    const program = findProgram(config, id) ?? (rollup && config === null ? { id, name: id, include: [] } : undefined);
    if (!program) throw notFound(`No program "${id}".`);
    const projects = (
      await Promise.all(program.include.map((inc) => rollupFor(db, `project:${inc.connection}:${inc.project}`)))
    ).filter((r) => r !== null);
    const filter = { program: id };
    const page = c.req.valid('query');
    const [headline, epics] =
      program.include.length === 0
        ? [EMPTY_HEADLINE, EMPTY_PAGE(page.limit ?? EPIC_PAGE_SIZE)]
        : await Promise.all([loadHeadline(db, config, filter, now()), loadEpicsPage(db, config, filter, page, now())]);
    return c.json({ ...program, rollup, headline, projects, epics: epics.epics, epicsPage: epics.page }, 200);
  });

  app.openapi(projectRoute, async (c) => {
    const { connection, project } = c.req.valid('param');
    const rollup = await rollupFor(db, `project:${connection}:${project}`);
    const filter = { connection, project };
    const headline = await loadHeadline(db, config, filter, now());
    if (!rollup && headline.items === 0) throw notFound(`No project "${project}" on connection "${connection}".`);
    const epics = await loadEpicsPage(db, config, filter, c.req.valid('query'), now());
    return c.json({ connection, project, rollup, headline, epics: epics.epics, epicsPage: epics.page }, 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { scope, from, to } = c.req.valid('query');
    const days = await loadHistory(db, scope, { from, to });
    if (days.length === 0 && !(await rollupFor(db, scope))) throw notFound(`No rollup or snapshots for "${scope}".`);
    return c.json({ scope, days }, 200);
  });
}

const EMPTY_PAGE = (size: number): EpicRowsPage => ({
  epics: [],
  page: { first: 0, last: 0, total: 0, size, next: null },
});

const EMPTY_HEADLINE: Headline = {
  epics: { total: 0, green: 0, amber: 0, red: 0 },
  compliance: null,
  overdueEpics: 0,
  openFindings: 0,
  items: 0,
};
