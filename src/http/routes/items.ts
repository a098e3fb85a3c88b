// Item and finding routes: filtered, cursor-paged lists with CSV export, one item in full, and
// the active rules.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { ReportFinding, ReportItem } from '../../report/load.ts';
import { csvStream } from '../../util/csv.ts';
import type { AppDeps } from '../deps.ts';
import { bearer, csv, json, problems } from '../openapi.ts';
import { notFound } from '../problem.ts';
import { allFindings, allItems, getItem, listFindings, listItems } from '../queries.ts';
import { FindingsPage, FindingsQuery, ItemDetail, ItemsPage, ItemsQuery } from '../schemas.ts';

const itemsRoute = createRoute({
  method: 'get',
  path: '/api/v1/items',
  tags: ['Items'],
  summary: 'Normalized work items, filtered and cursor-paged (or every match as CSV)',
  security: bearer,
  request: { query: ItemsQuery },
  responses: {
    200: { ...json(ItemsPage, 'A page of items'), content: { ...json(ItemsPage, '').content, ...csv('').content } },
    ...problems(400, 401),
  },
});

const itemRoute = createRoute({
  method: 'get',
  path: '/api/v1/items/{ref}',
  tags: ['Items'],
  summary: 'One item with its findings, and its rollup when it is a container',
  security: bearer,
  request: {
    params: z.object({
      ref: z
        .string()
        .min(3)
        .max(300)
        .openapi({ param: { name: 'ref', in: 'path' }, example: 'jira-main:PAY-12' }),
    }),
  },
  responses: { 200: json(ItemDetail, 'The item'), ...problems(400, 401, 404) },
});

const findingsRoute = createRoute({
  method: 'get',
  path: '/api/v1/findings',
  tags: ['Findings'],
  summary: 'Rule findings, filtered and cursor-paged (or every match as CSV)',
  security: bearer,
  request: { query: FindingsQuery },
  responses: {
    200: {
      ...json(FindingsPage, 'A page of findings'),
      content: { ...json(FindingsPage, '').content, ...csv('').content },
    },
    ...problems(400, 401),
  },
});

const rulesRoute = createRoute({
  method: 'get',
  path: '/api/v1/rules',
  tags: ['Findings'],
  summary: 'The active rules',
  security: bearer,
  responses: {
    200: json(z.object({ rules: z.array(z.record(z.string(), z.unknown())) }).openapi('Rules'), 'Active rules'),
    ...problems(401),
  },
});

const ITEM_COLUMNS = [
  'ref',
  'tracker',
  'connection',
  'project',
  'kind',
  'type',
  'title',
  'status',
  'statusCategory',
  'assignee',
  'owner',
  'priority',
  'due',
  'points',
  'parent',
  'url',
] as const;

const itemRow = (i: ReportItem) =>
  ITEM_COLUMNS.map((k) => (k === 'assignee' || k === 'owner' ? (i[k]?.name ?? '') : i[k]));

const FINDING_COLUMNS = [
  'ref',
  'rule',
  'severity',
  'status',
  'message',
  'firstSeen',
  'lastSeen',
  'resolvedAt',
  'waivedReason',
  'waivedUntil',
] as const;

const findingRow = (f: ReportFinding) => FINDING_COLUMNS.map((k) => f[k]);

/** Rows mapped page by page, so an export never holds more than one page of them. */
async function* mapPages<T>(pages: AsyncIterable<T[]>, row: (x: T) => unknown[]): AsyncGenerator<unknown[][]> {
  for await (const page of pages) yield page.map(row);
}

function csvResponse(body: ReadableStream<Uint8Array>, name: string): Response {
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` },
  });
}

export function registerItemRoutes(app: OpenAPIHono, deps: AppDeps): void {
  const { db } = deps.database;
  const config = deps.config;
  const exportFailed = (err: unknown) => deps.log.error({ err }, 'CSV export failed part-way; the download is cut off');

  app.openapi(itemsRoute, async (c) => {
    const q = c.req.valid('query');
    if (q.format === 'csv') {
      const pages = mapPages(allItems(db, config, q), itemRow);
      return csvResponse(await csvStream(ITEM_COLUMNS, pages, exportFailed), 'items.csv');
    }
    return c.json(await listItems(db, config, q), 200);
  });

  app.openapi(itemRoute, async (c) => {
    const { ref } = c.req.valid('param');
    const found = await getItem(db, ref);
    if (!found) throw notFound(`No item "${ref}".`);
    return c.json(found, 200);
  });

  app.openapi(findingsRoute, async (c) => {
    const q = c.req.valid('query');
    if (q.format === 'csv') {
      const pages = mapPages(allFindings(db, config, q), findingRow);
      return csvResponse(await csvStream(FINDING_COLUMNS, pages, exportFailed), 'findings.csv');
    }
    return c.json(await listFindings(db, config, q), 200);
  });

  app.openapi(rulesRoute, async (c) => {
    const rules = deps.rules ? await deps.rules() : [];
    return c.json({ rules: rules as Record<string, unknown>[] }, 200);
  });
}
