// Admin routes: things that change state, behind the admin scope.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { requireScope } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { bearer, json, problems } from '../openapi.ts';
import { HttpProblem } from '../problem.ts';

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

export function registerAdminRoutes(app: OpenAPIHono, deps: AppDeps): void {
  app.openapi(syncRoute, async (c) => {
    if (!deps.triggerSync) throw new HttpProblem(503, 'This process does not run syncs; use `pmo-sync sync`.');
    const result = await deps.triggerSync();
    return c.json({ accepted: true as const, result }, 202);
  });
}
