// The Azure DevOps connection section of pmo-sync.yaml: owned here, composed by src/config/schema.ts.
import { z } from 'zod';
import { bool, booleanFromText, httpUrl, id, Limits, nonEmpty, TypeMap } from '../../src/core/config-fields.ts';

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
