// The HTTP application: REST API, OpenAPI document and docs page, dashboard and operations
// routes, built from explicit dependencies so tests call `app.request()` with no server and the
// serve/demo commands mount their own routes (webhooks) beside ours.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { ServerLimits } from '../config/schema.ts';
import { registerDashboard } from '../dashboard/routes.tsx';
import { requireToken } from './auth.ts';
import { BodyRefused, createBodyBudget, refusalResponse } from './body.ts';
import './context.ts';
import type { AppDeps } from './deps.ts';
import { registerDocs } from './docs.tsx';
import { createMetrics } from './metrics.ts';
import { OPENAPI_INFO, registerSecurity } from './openapi.ts';
import { badRequest, problemResponse, renderError, zodProblems } from './problem.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerForecastRoutes } from './routes/forecasts.ts';
import { registerItemRoutes } from './routes/items.ts';
import { registerOpsRoutes } from './routes/ops.ts';
import { registerPortfolioRoutes } from './routes/portfolio.ts';
import { registerWorkspaceRoutes } from './routes/workspace.ts';

export type { AppDeps, ReadinessReport } from './deps.ts';

export function createApp(deps: AppDeps): OpenAPIHono {
  const now = deps.now ?? (() => new Date());
  const metrics = deps.metrics ?? createMetrics({ db: deps.database.db, log: deps.log, now });
  const app = new OpenAPIHono({
    // One hook for every validation failure: a problem body naming each bad parameter.
    defaultHook: (result) => {
      if (!result.success) {
        return problemResponse(400, 'Some parameters are invalid.', { errors: zodProblems(result.error) });
      }
    },
  });

  app.use('*', async (c, next) => {
    const end = metrics.httpDuration.startTimer();
    await next();
    // The matched pattern, never the raw path: refs in paths would explode label cardinality.
    const route = c.res.status === 404 && c.req.routePath === '*' ? 'unmatched' : c.req.routePath;
    end({ method: c.req.method, route });
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
  });
  // One budget for the bodies all requests of this app hold at once (src/http/body.ts).
  const limits = deps.config?.server.limits ?? ServerLimits.parse({});
  const bodyBudget = createBodyBudget(limits.bodiesInFlightBytes);
  app.use('*', async (c, next) => {
    c.set('limits', limits);
    c.set('bodyBudget', bodyBudget);
    await next();
  });
  app.use('*', async (c, next) => {
    // Postgres text cannot hold NUL; a %00 anywhere in the URL would otherwise end as a 500.
    if (/%00/.test(c.req.url)) throw badRequest('The URL contains a NUL byte (%00).');
    await next();
  });
  app.use('/api/*', requireToken(deps.database.db));
  if (deps.protectMetrics) app.use('/metrics', requireToken(deps.database.db));

  registerSecurity(app);
  registerPortfolioRoutes(app, deps, now);
  registerItemRoutes(app, deps);
  registerWorkspaceRoutes(app, deps, now);
  registerAdminRoutes(app, deps);
  registerForecastRoutes(app, deps, now);
  registerOpsRoutes(app, deps, metrics, now);
  registerDocs(app);
  registerDashboard(app, deps, now);
  deps.mount?.(app as unknown as Hono);

  app.notFound((c) => problemResponse(404, `No route for ${c.req.method} ${c.req.path}.`));
  app.onError((err, c) => (err instanceof BodyRefused ? refusalResponse(c, err) : renderError(err, c, deps.log)));
  return app;
}

export function openApiDocument(app: OpenAPIHono) {
  return app.getOpenAPI31Document(OPENAPI_INFO);
}
