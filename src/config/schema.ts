// The shape of pmo-sync.yaml (DESIGN.md, "Configuration"). Strict objects: an unknown key is a
// mistake the user wants to hear about at start, not a setting silently ignored.
import { z } from 'zod';
import { KINDS } from '../model/work-item.ts';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/i, 'an id of letters, digits, "-" or "_"')
  .max(64);
const nonEmpty = z.string().min(1, 'a non-empty string');
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http(s) URL' });
const cron = z.string().regex(/^(\S+\s+){4}\S+$/, 'a cron expression with five fields, like "*/5 * * * *"');

// `${VAR}` interpolation always yields text (load.ts): a secret made of digits must stay the
// string it is. Settings that are numbers or booleans take their text form here instead, so
// `port: ${PORT}` still works; anything else is left for the inner schema to reject.
function numberFromText(v: unknown): unknown {
  return typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
}
function booleanFromText(v: unknown): unknown {
  return v === 'true' ? true : v === 'false' ? false : v;
}
const num = <S extends z.ZodType<number>>(s: S) => z.preprocess(numberFromText, s);
const bool = () => z.preprocess(booleanFromText, z.boolean());

export const Limits = z.strictObject({
  concurrency: num(z.number().int().min(1).max(64)).default(4),
  requestsPerSecond: num(z.number().positive().max(1000)).default(10),
  /** Longest wait a tracker's Retry-After (or quota reset) may impose; unset: 600 s (connectors/http/pacing.ts). */
  maxRetryAfterSeconds: num(z.number().positive().max(86_400)).optional(),
});

const TypeMap = z.record(z.string(), z.enum(KINDS));

const JiraWriteback = z.strictObject({
  comment: bool().default(true),
  labels: bool().default(true),
  fields: z.record(z.string(), nonEmpty).default({}),
  /** What to do with the bot comment once an item is compliant again. */
  whenCompliant: z.enum(['update', 'delete']).default('update'),
});

/** Jira's limits add the 2026 points quota and the burst limit per endpoint and method (connectors/jira/client.ts). */
const JiraLimits = Limits.extend({
  /** Longest pause a points-quota answer may put on the whole connection; unset: 3,900 s (the quota is hourly). */
  maxQuotaPauseSeconds: num(z.number().positive().max(86_400)).optional(),
  /** Jira's burst limit per endpoint, by method, in requests per second; unset: GET/POST 100, PUT/DELETE 50. */
  burstPerSecond: z
    .strictObject({
      GET: num(z.number().positive().max(1000)).optional(),
      POST: num(z.number().positive().max(1000)).optional(),
      PUT: num(z.number().positive().max(1000)).optional(),
      DELETE: num(z.number().positive().max(1000)).optional(),
    })
    .optional(),
});

const JiraOAuth = z.strictObject({
  clientId: nonEmpty,
  clientSecret: nonEmpty,
  /** The refresh token from the consent flow; once rotated, the newest one kept in the database wins. */
  refreshToken: nonEmpty,
  /** The site's cloud id; found from the site when unset. */
  cloudId: nonEmpty.optional(),
});

export const JiraConnection = z.strictObject({
  id,
  kind: z.literal('jira'),
  /** The site people open (`https://acme.atlassian.net`): links always point here. */
  baseUrl: httpUrl,
  auth: z.union([
    z.strictObject({
      email: nonEmpty,
      apiToken: nonEmpty,
      /** A scoped API token: it only works through `apiUrl`/ex/jira/{cloudId}, never the site URL. */
      scoped: bool().optional(),
      cloudId: nonEmpty.optional(),
    }),
    z.strictObject({ bearerToken: nonEmpty }),
    /** OAuth 2.0 (3LO): access tokens refreshed with rotating refresh tokens; webhooks are dynamic. */
    z.strictObject({ oauth: JiraOAuth }),
  ]),
  /** Atlassian's API gateway (scoped tokens and OAuth call it, never the site) and its token server. */
  /** Unset: `https://api.atlassian.com` and `https://auth.atlassian.com` (connectors/jira/auth.ts). */
  apiUrl: httpUrl.optional(),
  authUrl: httpUrl.optional(),
  scope: z.union([z.strictObject({ projects: z.array(nonEmpty).min(1) }), z.strictObject({ jql: nonEmpty })]),
  /** Jira field ids by friendly name: points, start, sprint, epicLink, owner, and any extras rules read. */
  fields: z.record(z.string(), nonEmpty).default({}),
  typeMap: TypeMap.default({}),
  webhookSecret: nonEmpty.optional(),
  /** The previous secret during a rotation; either verifies. */
  webhookSecretPrevious: nonEmpty.optional(),
  writeback: JiraWriteback.default({ comment: true, labels: true, fields: {}, whenCompliant: 'update' }),
  limits: JiraLimits.default({ concurrency: 4, requestsPerSecond: 10 }),
});
export type JiraConnection = z.infer<typeof JiraConnection>;

const AdoWriteback = z.strictObject({
  comment: bool().default(true),
  tags: bool().default(true),
  fields: z.record(z.string(), nonEmpty).default({}),
  whenCompliant: z.enum(['update', 'delete']).default('update'),
});

/**
 * Where Microsoft Entra ID tokens come from: https://login.microsoftonline.com unless set (a
 * sovereign cloud's, e.g. https://login.microsoftonline.us; a test's token endpoint).
 */
const authorityHost = z.url({ protocol: /^https$/, error: 'an https URL, like https://login.microsoftonline.us' });

/**
 * Azure DevOps credentials (docs/configuration.md): an organization-scoped PAT, or Microsoft Entra
 * ID through @azure/identity — a service principal with a client secret or a certificate (a PEM
 * file, or its text), or the host's managed identity (a user-assigned one by its client id).
 */
export const AdoAuth = z.union([
  z.strictObject({ pat: nonEmpty }),
  z.strictObject({
    tenantId: nonEmpty,
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    authorityHost: authorityHost.optional(),
  }),
  z.strictObject({
    tenantId: nonEmpty,
    clientId: nonEmpty,
    certificatePath: nonEmpty,
    certificatePassword: nonEmpty.optional(),
    authorityHost: authorityHost.optional(),
  }),
  z.strictObject({
    tenantId: nonEmpty,
    clientId: nonEmpty,
    certificate: nonEmpty,
    certificatePassword: nonEmpty.optional(),
    authorityHost: authorityHost.optional(),
  }),
  z.strictObject({ managedIdentity: z.preprocess(booleanFromText, z.literal(true)), clientId: nonEmpty.optional() }),
]);
export type AdoAuth = z.infer<typeof AdoAuth>;

export const AdoConnection = z.strictObject({
  id,
  kind: z.literal('azure-devops'),
  orgUrl: httpUrl,
  auth: AdoAuth,
  scope: z.union([
    z.strictObject({ projects: z.array(nonEmpty).min(1) }),
    z.strictObject({ wiql: nonEmpty, project: nonEmpty.optional() }),
  ]),
  fields: z.record(z.string(), nonEmpty).default({}),
  typeMap: TypeMap.default({}),
  webhookAuth: z.strictObject({ username: nonEmpty, password: nonEmpty }).optional(),
  writeback: AdoWriteback.default({ comment: true, tags: true, fields: {}, whenCompliant: 'update' }),
  limits: Limits.default({ concurrency: 4, requestsPerSecond: 10 }),
});
export type AdoConnection = z.infer<typeof AdoConnection>;

export const Connection = z.discriminatedUnion('kind', [JiraConnection, AdoConnection]);
export type Connection = z.infer<typeof Connection>;

const isoDate = z.iso.date({ error: 'a date like 2027-03-31' });

export const Waiver = z
  .strictObject({
    rule: nonEmpty,
    ref: nonEmpty.optional(),
    project: nonEmpty.optional(),
    until: z.union([isoDate, z.date().transform((d) => d.toISOString().slice(0, 10))]),
    reason: nonEmpty,
  })
  .refine((w) => w.ref || w.project, { error: 'a waiver needs "ref" or "project"' });
export type Waiver = z.infer<typeof Waiver>;

export const RuleOverride = z.strictObject({
  enabled: z.boolean().optional(),
  severity: z.enum(['error', 'warning', 'info']).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  scope: z
    .strictObject({
      connections: z.array(nonEmpty).optional(),
      projects: z.array(nonEmpty).optional(),
      kinds: z.array(z.enum(KINDS)).optional(),
    })
    .optional(),
});

export const RulesConfig = z.strictObject({
  packs: z.array(nonEmpty).default(['pmo-standard']),
  files: z.array(nonEmpty).default([]),
  overrides: z.record(z.string(), RuleOverride).default({}),
  waivers: z.array(Waiver).default([]),
});

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
});

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
  });
export type Config = z.infer<typeof Config>;
