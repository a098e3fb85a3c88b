// The shape of pmo-sync.yaml (DESIGN.md, "Configuration"). Strict objects: an unknown key is a
// mistake the user wants to hear about at start, not a setting silently ignored.
import { z } from 'zod';
import { AdoAuth, AdoConnection } from '../../connectors/azure-devops/config.ts';
import { Connection } from '../../connectors/config.ts';
import { JiraConnection } from '../../connectors/jira/config.ts';
import { RuleOverride, RulesConfig, Waiver } from '../../rules/config.ts';
import { bool, cron, httpUrl, id, nonEmpty, num } from '../core/config-fields.ts';

export const Program = z.strictObject({
  id,
  name: nonEmpty,
  include: z.array(z.strictObject({ connection: nonEmpty, project: nonEmpty })).min(1),
});

export const HealthThresholds = z.strictObject({
  /** Schedule index below which a scope is amber / red. */
  scheduleAmber: num(z.number()).default(0.9),
  scheduleRed: num(z.number()).default(0.7),
  /** Compliance score below which a scope is amber / red. */
  complianceAmber: num(z.number()).default(0.8),
  complianceRed: num(z.number()).default(0.5),
  /**
   * Forecast on-time probability below which an open epic is amber (health rule
   * forecast-on-time). Absent: the forecast-on-time rule's threshold, as configured under
   * rules.overrides (src/config/load.ts fills it in), else that rule's default of 0.5.
   */
  forecastOnTime: num(z.number().min(0).max(1)).optional(),
});

/**
 * A configured team for throughput and forecasts: an item belongs to the first team whose every
 * given condition holds. Items no team claims fall back to their configured `team` field or Azure
 * DevOps area path, else their Jira project (src/forecast/teams.ts). A Jira board's issues are
 * read from the tracker (src/forecast/boards.ts).
 */
export const ForecastTeam = z.strictObject({
  id,
  name: nonEmpty.optional(),
  match: z
    .strictObject({
      connection: nonEmpty.optional(),
      project: nonEmpty.optional(),
      /** An Azure DevOps area path: the items at it or under it. */
      areaPath: nonEmpty.optional(),
      label: nonEmpty.optional(),
      /** A normalized field (a connection's `fields` mapping) with this value. */
      field: z.strictObject({ name: nonEmpty, value: nonEmpty }).optional(),
      /** A Jira board (its id): the issues its filter selects, read again on each sync that changed something. */
      board: num(z.number().int().positive()).optional(),
    })
    // An empty match would claim every item: almost certainly a mistake.
    .refine((m) => Object.values(m).some((v) => v !== undefined), 'a match needs at least one condition')
    // Board ids are per Jira site.
    .refine((m) => m.board === undefined || m.connection !== undefined, {
      message: "a board is a Jira connection's: give its connection too",
      path: ['connection'],
    }),
});
export type ForecastTeam = z.infer<typeof ForecastTeam>;

/** Completion forecasts (issue 26): history horizon, trials, and when a moved forecast is written. */
export const ForecastConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** How far back the first sync reads status histories. */
  horizonDays: num(z.number().int().min(7).max(3650)).default(180),
  /** Weeks of throughput the trials draw from. */
  windowWeeks: num(z.number().int().min(1).max(104)).default(26),
  trials: num(z.number().int().min(100).max(1_000_000)).default(10_000),
  /** Write-back moves the P85 date only when it moved at least this many days. */
  p85MoveDays: num(z.number().int().min(0)).default(5),
  /** …and the on-time probability (shown in 5% steps) only when it moved more than this. */
  onTimeMove: num(z.number().min(0).max(1)).default(0.05),
  /** Teams whose throughput is pooled; the first whose match holds claims an item. */
  teams: z
    .array(ForecastTeam)
    .default([])
    .superRefine((teams, ctx) => {
      const seen = new Set<string>();
      teams.forEach((t, i) => {
        if (seen.has(t.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate team id "${t.id}"` });
        seen.add(t.id);
      });
    }),
});
export type ForecastConfig = z.infer<typeof ForecastConfig>;

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * What an unauthenticated caller can make the server hold (docs/security.md). Bodies are counted
 * in bytes while they stream in, never buffered past these.
 */
export const ServerLimits = z.strictObject({
  /** Largest webhook body; Azure DevOps documents a 2 MB service hook payload limit. */
  webhookBodyBytes: num(
    z
      .number()
      .int()
      .min(64 * KiB)
      .max(64 * MiB),
  ).default(2 * MiB),
  /** Largest sign-in form: a token field of at most 512 characters, URL-encoded. */
  loginBodyBytes: num(
    z
      .number()
      .int()
      .min(1 * KiB)
      .max(64 * KiB),
  ).default(4 * KiB),
  /** All request bodies held at once, across connections; beyond it a request gets 503 and retries. */
  bodiesInFlightBytes: num(
    z
      .number()
      .int()
      .min(1 * MiB)
      .max(1024 * MiB),
  ).default(16 * MiB),
  /** A body must arrive whole within this; a slower one gets 408 and its connection is closed. */
  bodyTimeoutSeconds: num(z.number().positive().max(300)).default(10),
});
export type ServerLimits = z.infer<typeof ServerLimits>;

export const ServerSessions = z.strictObject({
  /** Dashboard sign-ins expire after this. */
  ttlHours: num(
    z
      .number()
      .positive()
      .max(24 * 30),
  ).default(12),
});

export const ServerWebhooks = z.strictObject({
  /**
   * A delivery whose event timestamp is older than this is refused as a replay. It must exceed the
   * trackers' longest retry: Azure DevOps keeps retrying a subscription on probation for up to
   * 36 hours (docs/security.md).
   */
  maxEventAgeHours: num(
    z
      .number()
      .positive()
      .max(24 * 30),
  ).default(48),
});

export const Config = z
  .strictObject({
    database: z.strictObject({ url: nonEmpty.optional() }).default({}),
    server: z
      .strictObject({
        port: num(z.number().int().min(0).max(65535)).default(8787),
        host: nonEmpty.default('0.0.0.0'),
        publicUrl: httpUrl.optional(),
        /** Require an API token for /metrics too. */
        protectMetrics: bool().default(false),
        /** Open connections at most; at the cap the oldest connection not being answered is dropped. */
        maxConnections: num(z.number().int().min(1)).default(1000),
        /** Slow clients are dropped: headers must arrive within this, the whole request within the next. */
        headersTimeoutMs: num(z.number().int().positive()).default(15_000),
        requestTimeoutMs: num(z.number().int().positive()).default(60_000),
        keepAliveTimeoutMs: num(z.number().int().positive()).default(5_000),
        limits: ServerLimits.prefault({}),
        sessions: ServerSessions.prefault({}),
        webhooks: ServerWebhooks.prefault({}),
      })
      .refine((s) => s.headersTimeoutMs <= s.requestTimeoutMs, {
        error: 'headersTimeoutMs must not exceed requestTimeoutMs (the headers are part of the request)',
        path: ['headersTimeoutMs'],
      })
      // prefault: an absent `server` is parsed as {}, so every nested default applies.
      .prefault({}),
    mode: z.enum(['enforce', 'dry-run']).default('enforce'),
    log: z
      .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .default({ level: 'info' }),
    connections: z.array(Connection).min(1, 'at least one connection'),
    rules: RulesConfig.default({ packs: ['pmo-standard'], files: [], overrides: {}, waivers: [] }),
    portfolio: z
      .strictObject({
        programs: z.array(Program).default([]),
        health: HealthThresholds.default({
          scheduleAmber: 0.9,
          scheduleRed: 0.7,
          complianceAmber: 0.8,
          complianceRed: 0.5,
        }),
      })
      .default({
        programs: [],
        health: { scheduleAmber: 0.9, scheduleRed: 0.7, complianceAmber: 0.8, complianceRed: 0.5 },
      }),
    forecast: ForecastConfig.prefault({}),
    schedule: z.strictObject({ sync: cron.default('*/5 * * * *'), reconcile: cron.default('0 2 * * *') }).default({
      sync: '*/5 * * * *',
      reconcile: '0 2 * * *',
    }),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.connections.forEach((c, i) => {
      if (seen.has(c.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', i, 'id'],
          message: `duplicate connection id "${c.id}" (also connections[${seen.get(c.id)}])`,
        });
      }
      seen.set(c.id, i);
    });
    cfg.portfolio.programs.forEach((p, i) => {
      p.include.forEach((inc, j) => {
        if (!seen.has(inc.connection)) {
          ctx.addIssue({
            code: 'custom',
            path: ['portfolio', 'programs', i, 'include', j, 'connection'],
            message: `unknown connection "${inc.connection}" (known: ${[...seen.keys()].join(', ')})`,
          });
        }
      });
    });
    cfg.forecast.teams.forEach((t, i) => {
      if (t.match.board === undefined) return;
      const c = cfg.connections.find((x) => x.id === t.match.connection);
      if (c?.kind === 'jira') return;
      ctx.addIssue({
        code: 'custom',
        path: ['forecast', 'teams', i, 'match', 'connection'],
        message: c
          ? `a board needs a Jira connection; "${c.id}" is ${c.kind}`
          : `unknown connection "${t.match.connection}" (known: ${[...seen.keys()].join(', ')})`,
      });
    });
  });
export type Config = z.infer<typeof Config>;

export { Limits } from '../core/config-fields.ts';
// The sections owned elsewhere, for callers that read the whole file's types from here.
export { AdoAuth, AdoConnection, Connection, JiraConnection, RuleOverride, RulesConfig, Waiver };
