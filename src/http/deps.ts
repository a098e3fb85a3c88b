// What the HTTP application is built from (createApp): its own file, so the route modules that
// take these dependencies need not import the app that imports them.
import type { Hono } from 'hono';
import type { Database } from '../../db/client.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { AssetName } from '../dashboard/asset-names.ts';
import type { AppMetrics } from './metrics.ts';

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, unknown>;
}

export interface AppDeps {
  database: Database;
  /** The loaded config; null serves whatever the database holds (programs from rollups). */
  config: Config | null;
  log: Logger;
  /** Clock for freshness, overdue and lag figures (tests pin it). */
  now?: () => Date;
  /** Adds routes the HTTP layer does not own (webhooks); called before the catch-all 404. */
  mount?: (app: Hono) => void;
  /** Extra readiness checks (connection freshness, webhook gap, mapping drift); merged into /readyz. */
  readiness?: () => Promise<ReadinessReport>;
  /** The active rules for GET /api/v1/rules; [] when absent. */
  rules?: () => Promise<unknown[]>;
  /** Starts a sync for POST /api/v1/sync; should resolve once the sync is queued. 503 when absent. */
  triggerSync?: () => Promise<unknown>;
  /** Metrics to serve; pass one made by createMetrics() to observe sync durations or add metrics. */
  metrics?: AppMetrics;
  /** Require an API token (any scope) for /metrics; it is open by default, like /healthz. */
  protectMetrics?: boolean;
  /**
   * Dashboard assets by name, for runtimes without a file system (Workers): `dashboard.css`,
   * `dashboard.js`, `chart.umd.min.js`. Missing ones are read from disk on first request.
   */
  assets?: Partial<Record<AssetName, string>>;
  /** Mark the dashboard cookie Secure; defaults to true when the request came over https. */
  secureCookies?: boolean;
}
