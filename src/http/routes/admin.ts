// Admin routes: things that change state, behind the admin scope.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, isNull } from 'drizzle-orm';
import { workItems } from '../../../db/schema.ts';
import { reviewWrites } from '../../report/writes.ts';
import { filterCondition, parseFilter } from '../../workspace/filters.ts';
import { requireScope } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { bearer, json, problems } from '../openapi.ts';
import { HttpProblem } from '../problem.ts';
import { ScopeQuery } from '../schemas.ts';

const syncRoute = createRoute({
  method: 'post',
  path: '/api/v1/sync',
  tags: ['Admin'],
  summary: 'Start a sync now (admin)',
  description: 'Answers 202 once the sync is queued; follow it in /metrics, /readyz or the dashboard freshness.',
  security: bearer,
  middleware: [requireScope('admin')] as const,
  responses: {
    202: json(
      z.object({ accepted: z.literal(true), result: z.unknown().optional() }).openapi('SyncAccepted'),
      'Sync started',
    ),
    ...problems(401, 403, 503),
  },
});

const FieldValue = z.union([z.string(), z.number(), z.null()]);

export const WriteReview = z
  .object({
    id: z.number().int(),
    connection: z.string(),
    ref: z.string(),
    target: z.string(),
    status: z.string().openapi({ description: 'planned (a dry run), pending, in_flight or dead' }),
    attempts: z.number().int(),
    failures: z.number().int(),
    lastError: z.string().nullable(),
    action: z.enum(['ensure', 'delete', 'set']),
    commentText: z.string().nullable().openapi({ description: 'The comment as it will be posted, as text.' }),
    labels: z.object({ add: z.array(z.string()), remove: z.array(z.string()) }).nullable(),
    fields: z.record(z.string(), FieldValue).nullable(),
    change: z.enum(['new', 'changed', 'unchanged']).openapi({ description: 'Against the last applied state.' }),
    previousCommentText: z.string().nullable(),
    commentDiff: z.array(z.string()).openapi({ description: 'Lines removed ("- ") and added ("+ ").' }),
    fieldChanges: z.array(z.object({ field: z.string(), before: FieldValue, after: FieldValue })),
    labelChanges: z.object({ add: z.array(z.string()), remove: z.array(z.string()) }).nullable(),
  })
  .openapi('WriteReview');

const writesRoute = createRoute({
  method: 'get',
  path: '/api/v1/admin/writes',
  tags: ['Admin'],
  summary: 'Planned and waiting writes with their text, labels, fields and changes (admin)',
  description:
    'Every write a dry run planned or an enforce run will send, with the comment text, labels and field values, and what each changes since the state last applied. Workspace filters narrow it to their items.',
  security: bearer,
  middleware: [requireScope('admin')] as const,
  request: {
    query: ScopeQuery.pick({ program: true, tracker: true }).extend({
      project: z
        .string()
        .max(300)
        .optional()
        .openapi({ param: { name: 'project', in: 'query' }, description: '<connection>:<project>' }),
      team: z
        .string()
        .max(300)
        .optional()
        .openapi({ param: { name: 'team', in: 'query' } }),
      owner: z
        .string()
        .max(300)
        .optional()
        .openapi({ param: { name: 'owner', in: 'query' } }),
    }),
  },
  responses: {
    200: json(z.object({ writes: z.array(WriteReview) }).openapi('WriteReviews'), 'The writes'),
    ...problems(400, 401, 403),
  },
});

export function registerAdminRoutes(app: OpenAPIHono, deps: AppDeps): void {
  app.openapi(writesRoute, async (c) => {
    const { filter, problems: bad } = parseFilter(c.req.valid('query'));
    if (bad.length > 0) throw new HttpProblem(400, bad.join('; '));
    const { db } = deps.database;
    // An unknown program is the API's 400 (scopeCondition), as on every other route.
    const refs =
      Object.keys(filter).length > 0
        ? new Set(
            (
              await db
                .select({ ref: workItems.ref })
                .from(workItems)
                .where(and(isNull(workItems.deletedAt), filterCondition(deps.config, filter)))
            ).map((r) => r.ref),
          )
        : undefined;
    return c.json({ writes: await reviewWrites(db, { refs }) }, 200);
  });

  app.openapi(syncRoute, async (c) => {
    if (!deps.triggerSync) throw new HttpProblem(503, 'This process does not run syncs; use `pmo-sync sync`.');
    const result = await deps.triggerSync();
    return c.json({ accepted: true as const, result }, 202);
  });
}
