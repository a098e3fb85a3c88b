// The Jira connection section of pmo-sync.yaml: owned here, composed by src/config/schema.ts.
import { z } from 'zod';
import { bool, httpUrl, id, Limits, nonEmpty, num, TypeMap } from '../../src/core/config-fields.ts';

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
