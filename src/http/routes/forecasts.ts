// Forecasts and baselines over the API: the stored forecasts (read), taking a baseline (admin),
// and slip and scope change against one (read). A baseline is taken from query parameters: the
// request has no body to read.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { forecasts } from '../../../db/schema.ts';
import { UsageError } from '../../errors.ts';
import { createBaseline, slipAgainst } from '../../forecast/baselines.ts';
import type { AppDeps } from '../app.ts';
import { requireScope } from '../auth.ts';
import { bearer, json, problems } from '../openapi.ts';
import { HttpProblem } from '../problem.ts';

const ForecastRow = z
  .object({
    scope: z.string(),
    kind: z.string(),
    status: z.string(),
    confidence: z.string(),
    unit: z.string(),
    remaining: z.number(),
    basis: z.string(),
    p50: z.string().nullable(),
    p85: z.string().nullable(),
    p95: z.string().nullable(),
    target: z.string().nullable(),
    onTimeProbability: z.number().nullable(),
    weeksOfHistory: z.number().int(),
    reason: z.string().nullable(),
  })
  .openapi('Forecast');

const Baseline = z
  .object({ id: z.number().int(), name: z.string(), program: z.string().nullable(), asOf: z.string() })
  .openapi('Baseline');

const SlipRow = z
  .object({
    ref: z.string(),
    baselineTarget: z.string().nullable(),
    target: z.string().nullable(),
    targetSlipDays: z.number().int().nullable(),
    baselineP85: z.string().nullable(),
    p85: z.string().nullable(),
    forecastSlipDays: z.number().int().nullable(),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    closed: z.boolean(),
  })
  .openapi('SlipRow');

const listRoute = createRoute({
  method: 'get',
  path: '/api/v1/forecasts',
  tags: ['Forecasts'],
  summary: 'The completion forecast of every open epic, feature, project and program',
  security: bearer,
  responses: { 200: json(z.object({ forecasts: z.array(ForecastRow) }), 'Forecasts'), ...problems(401) },
});

const createBaselineRoute = createRoute({
  method: 'post',
  path: '/api/v1/baselines',
  tags: ['Forecasts'],
  summary: "Take a baseline: every open epic's target, P85 and scope (admin)",
  security: bearer,
  middleware: [requireScope('admin')] as const,
  request: {
    query: z.object({
      name: z.string().min(1).max(100),
      program: z.string().min(1).max(64).optional(),
      asOf: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-09-01')
        .optional(),
    }),
  },
  responses: {
    201: json(Baseline.extend({ epics: z.number().int() }), 'Baseline taken'),
    ...problems(400, 401, 403),
  },
});

const slipRoute = createRoute({
  method: 'get',
  path: '/api/v1/baselines/{name}/slip',
  tags: ['Forecasts'],
  summary: 'Target and forecast slip, and scope change, since a baseline',
  security: bearer,
  request: {
    params: z.object({
      name: z
        .string()
        .min(1)
        .max(100)
        .openapi({ param: { name: 'name', in: 'path' } }),
    }),
  },
  responses: {
    200: json(z.object({ baseline: Baseline, rows: z.array(SlipRow) }), 'Slip since the baseline'),
    ...problems(401, 404),
  },
});

export function registerForecastRoutes(app: OpenAPIHono, deps: AppDeps, now: () => Date): void {
  app.openapi(listRoute, async (c) => {
    const rows = await deps.database.db.select().from(forecasts).orderBy(forecasts.scope);
    return c.json(
      { forecasts: rows.map(({ publishedP85: _p, publishedOnTime: _o, inputsHash: _h, computedAt: _c, ...r }) => r) },
      200,
    );
  });
  app.openapi(createBaselineRoute, async (c) => {
    const q = c.req.valid('query');
    const config = deps.config;
    try {
      const b = await createBaseline(deps.database.db, {
        name: q.name,
        program: q.program ?? null,
        asOf: q.asOf ? new Date(`${q.asOf}T00:00:00Z`) : undefined,
        now: now(),
        programs: config?.portfolio.programs ?? [],
        settings: config?.forecast ?? { trials: 10_000, windowWeeks: 26 },
      });
      return c.json(b, 201);
    } catch (err) {
      if (err instanceof UsageError) throw new HttpProblem(400, err.message);
      throw err;
    }
  });
  app.openapi(slipRoute, async (c) => {
    try {
      return c.json(await slipAgainst(deps.database.db, c.req.valid('param').name), 200);
    } catch (err) {
      if (err instanceof UsageError) throw new HttpProblem(404, err.message);
      throw err;
    }
  });
}
