// Request and response schemas of the REST API: validation at the edge and the OpenAPI document
// come from the same zod definitions, so the docs cannot drift from what the code accepts.
import { z } from '@hono/zod-openapi';
import { KINDS, LINK_TYPES, STATUS_CATEGORIES, TRACKERS } from '../core/work-item.ts';

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

const Person = z.object({ id: z.string(), name: z.string() }).nullable();

export const Item = z
  .object({
    ref: z.string().openapi({ example: 'jira-main:PAY-12' }),
    connection: z.string(),
    tracker: z.enum(TRACKERS),
    key: z.string(),
    project: z.string(),
    kind: z.enum(KINDS),
    type: z.string(),
    title: z.string(),
    status: z.string(),
    statusCategory: z.enum(STATUS_CATEGORIES),
    assignee: Person,
    owner: Person,
    priority: z.string().nullable(),
    labels: z.array(z.string()),
    created: z.string(),
    updated: z.string(),
    started: z.string().nullable(),
    resolved: z.string().nullable(),
    start: z.string().nullable(),
    due: z.string().nullable(),
    points: z.number().nullable(),
    estimateHours: z.number().nullable(),
    remainingHours: z.number().nullable(),
    parent: z.string().nullable(),
    links: z.array(
      z.object({ type: z.enum(LINK_TYPES), target: z.string(), relation: z.string().nullable().optional() }),
    ),
    iteration: z.object({ name: z.string(), start: z.string().nullable(), end: z.string().nullable() }).nullable(),
    fields: z.record(z.string(), z.unknown()),
    url: z.string(),
    revision: z.string(),
    deleted: z.boolean(),
  })
  .openapi('Item');

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export const FINDING_STATUSES = ['open', 'resolved', 'waived'] as const;

export const Finding = z
  .object({
    ref: z.string(),
    rule: z.string(),
    severity: z.string(),
    status: z.string(),
    message: z.string(),
    firstSeen: z.string(),
    lastSeen: z.string(),
    resolvedAt: z.string().nullable(),
    waivedReason: z.string().nullable(),
    waivedUntil: z.string().nullable(),
  })
  .openapi('Finding');

export const Rollup = z
  .object({
    scope: z.string().openapi({ example: 'program:payments' }),
    kind: z.string(),
    percentComplete: z.number().nullable(),
    health: z.string().openapi({ description: 'green, amber or red', example: 'amber' }),
    healthReason: z.string(),
    metrics: z.record(z.string(), z.unknown()),
    computedAt: z.string(),
  })
  .openapi('Rollup');

export const Headline = z
  .object({
    epics: z.object({
      total: z.number().int(),
      green: z.number().int(),
      amber: z.number().int(),
      red: z.number().int(),
    }),
    compliance: z.number().nullable().openapi({ description: 'Passed rule checks ÷ applicable checks, 0–1.' }),
    overdueEpics: z.number().int(),
    openFindings: z.number().int(),
    items: z.number().int(),
  })
  .openapi('Headline');

export const Freshness = z
  .object({
    connection: z.string(),
    lastSuccessAt: z.string().nullable(),
    ageSeconds: z.number().nullable(),
    lastStatus: z.string().nullable(),
    /** Service hooks on probation or disabled; absent while healthy. */
    hooks: z.string().optional(),
  })
  .openapi('Freshness');

export const EpicSummary = z
  .object({
    ref: z.string(),
    title: z.string(),
    tracker: z.string(),
    connection: z.string(),
    project: z.string(),
    status: z.string(),
    statusCategory: z.string(),
    due: z
      .string()
      .nullable()
      .openapi({ description: "The epic's own due date: its target date (same as targetDate)." }),
    targetDate: z.string().nullable().openapi({ description: "The epic's own due date (docs/metrics.md)." }),
    plannedFinish: z
      .string()
      .nullable()
      .openapi({ description: 'Latest due date of its children, from its rollup (docs/metrics.md).' }),
    overdue: z.boolean().openapi({ description: 'Open and past its target date (docs/metrics.md).' }),
    healthRule: z.string().nullable().openapi({ description: 'The health rule that set its colour.' }),
    url: z.string(),
    openFindings: z.number().int(),
    rollup: z.union([Rollup, z.null()]),
  })
  .openapi('EpicSummary');

export const EpicsPage = z
  .object({
    first: z.number().int().openapi({ description: "1-based position of the page's first row; 0 when empty." }),
    last: z.number().int(),
    total: z.number().int().openapi({ description: 'Every epic row of the filter: the headline counts all of them.' }),
    size: z.number().int(),
    next: z.string().nullable().openapi({ description: 'Pass as `after` for the next page; null on the last.' }),
  })
  .openapi('EpicsPage');

export const ProgramSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    include: z.array(z.object({ connection: z.string(), project: z.string() })),
    rollup: z.union([Rollup, z.null()]),
  })
  .openapi('ProgramSummary');

export const TrendDay = z
  .object({
    day: z.string(),
    percentComplete: z.number().nullable(),
    health: z.string(),
    compliance: z.number().nullable(),
    metrics: z.record(z.string(), z.unknown()),
    epics: z.object({
      total: z.number().int(),
      green: z.number().int(),
      amber: z.number().int(),
      red: z.number().int(),
    }),
  })
  .openapi('TrendDay');

export const Portfolio = z
  .object({
    rollup: z.union([Rollup, z.null()]),
    headline: Headline,
    programs: z.array(
      ProgramSummary.extend({
        trackers: z.array(z.string()),
        headline: Headline.openapi({ description: "The program's figures under the request's filter." }),
      }),
    ),
    projects: z.array(Rollup),
    freshness: z.array(Freshness),
    epics: z
      .array(EpicSummary)
      .openapi({ description: 'A page of the epics the headline counts (`limit`, default 100; `epicsPage`).' }),
    epicsPage: EpicsPage,
    trend: z
      .object({ scope: z.string(), days: z.array(TrendDay) })
      .openapi({ description: 'Last 90 days under the filter (src/workspace/queries.ts loadTrend).' }),
  })
  .openapi('Portfolio');

export const ProgramDetail = ProgramSummary.extend({
  headline: Headline,
  projects: z.array(Rollup),
  epics: z.array(EpicSummary),
  epicsPage: EpicsPage,
}).openapi('ProgramDetail');

export const ProjectDetail = z
  .object({
    connection: z.string(),
    project: z.string(),
    rollup: z.union([Rollup, z.null()]),
    headline: Headline,
    epics: z.array(EpicSummary),
    epicsPage: EpicsPage,
  })
  .openapi('ProjectDetail');

export const ItemsPage = z.object({ items: z.array(Item), nextCursor: z.string().nullable() }).openapi('ItemsPage');

export const ItemDetail = z
  .object({ item: Item, findings: z.array(Finding), rollup: z.union([Rollup, z.null()]) })
  .openapi('ItemDetail');

export const FindingsPage = z
  .object({ findings: z.array(Finding), nextCursor: z.string().nullable() })
  .openapi('FindingsPage');

export const Snapshot = z
  .object({
    day: z.string(),
    percentComplete: z.number().nullable(),
    health: z.string(),
    compliance: z.number().nullable(),
    metrics: z.record(z.string(), z.unknown()),
  })
  .openapi('Snapshot');

export const History = z.object({ scope: z.string(), days: z.array(Snapshot) }).openapi('History');

// ---- query parameters -------------------------------------------------------------------------

const text = (max: number) => z.string().min(1).max(max);
const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(500)
  .optional()
  .openapi({ param: { name: 'limit', in: 'query' }, type: 'integer', description: 'Page size, 1–500 (default 100).' });
const cursor = text(400)
  .optional()
  .openapi({ param: { name: 'cursor', in: 'query' }, description: 'nextCursor of the previous page.' });
const format = z
  .enum(['json', 'csv'])
  .optional()
  .openapi({ param: { name: 'format', in: 'query' }, description: 'csv: every matching row, no paging.' });

export const ScopeQuery = z.object({
  program: text(64)
    .optional()
    .openapi({ param: { name: 'program', in: 'query' } }),
  tracker: z
    .enum(TRACKERS)
    .optional()
    .openapi({ param: { name: 'tracker', in: 'query' } }),
  connection: text(64)
    .optional()
    .openapi({ param: { name: 'connection', in: 'query' } }),
  project: text(200)
    .optional()
    .openapi({ param: { name: 'project', in: 'query' } }),
  team: text(300)
    .optional()
    .openapi({
      param: { name: 'team', in: 'query' },
      description: 'A team or area path; an area path includes the paths under it.',
    }),
  owner: text(300)
    .optional()
    .openapi({
      param: { name: 'owner', in: 'query' },
      description: "A person's id or display name (case-insensitive): an item's owner, else its assignee.",
    }),
});

/** A scope filter and a page of its epic rows (loadEpicsPage): `after` is the previous page's `next`. */
export const EpicsQuery = ScopeQuery.extend({
  limit,
  after: text(400)
    .optional()
    .openapi({
      param: { name: 'after', in: 'query' },
      description: 'The `epicsPage.next` of the previous page: epic rows come a page at a time.',
    }),
});

export const ItemsQuery = ScopeQuery.extend({
  kind: z
    .enum(KINDS)
    .optional()
    .openapi({ param: { name: 'kind', in: 'query' } }),
  statusCategory: z
    .enum(STATUS_CATEGORIES)
    .optional()
    .openapi({ param: { name: 'statusCategory', in: 'query' } }),
  hasFindings: z
    .enum(['true', 'false'])
    .optional()
    .openapi({
      param: { name: 'hasFindings', in: 'query' },
      description: 'Only items with (or without) open findings.',
    }),
  q: text(200)
    .optional()
    .openapi({ param: { name: 'q', in: 'query' }, description: 'Case-insensitive text in the title or ref.' }),
  limit,
  cursor,
  format,
});
export type ItemsQuery = z.infer<typeof ItemsQuery>;

export const FindingsQuery = ScopeQuery.extend({
  rule: text(200)
    .optional()
    .openapi({ param: { name: 'rule', in: 'query' } }),
  severity: z
    .enum(SEVERITIES)
    .optional()
    .openapi({ param: { name: 'severity', in: 'query' } }),
  status: z
    .enum(FINDING_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query' } }),
  ref: text(300)
    .optional()
    .openapi({ param: { name: 'ref', in: 'query' } }),
  limit,
  cursor,
  format,
});
export type FindingsQuery = z.infer<typeof FindingsQuery>;

export const SCOPE_PATTERN = /^(portfolio|program:[^\s]+|project:[^\s:]+:[^\s]+|epic:[^\s:]+:[^\s]+)$/;

export const HistoryQuery = z.object({
  scope: z
    .string()
    .max(400)
    .regex(SCOPE_PATTERN, 'a scope: portfolio, program:<id>, project:<connection>:<key> or epic:<ref>')
    .openapi({ param: { name: 'scope', in: 'query' }, example: 'portfolio' }),
  from: z.iso
    .date()
    .optional()
    .openapi({ param: { name: 'from', in: 'query' } }),
  to: z.iso
    .date()
    .optional()
    .openapi({ param: { name: 'to', in: 'query' } }),
});
