// `pmo-sync doctor` for an Azure DevOps connection: whether the configuration works against the
// organization as it is today, one checklist line per check, each failure with its fix. Read-only
// (GETs, and a WIQL query for a query scope). Endpoints (REST 7.1): connectionData, projects,
// Security's "has permissions by tokens" over the work item area (CSS), Tagging and ServiceHooks
// namespaces, wit/fields and the work item types' fields, and service hook subscriptions.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { z } from 'zod';
import {
  answerText,
  createProbe,
  type DoctorCheck,
  EXPIRY_WARNING_MS,
  jwtExpiry,
  type Probe,
  ProbeError,
  type RateLimitDialect,
  rateLimitCheck,
  settle,
  webhookUrl,
} from '../doctor.ts';
import { type AdoCredential, createAdoCredential } from './auth.ts';
import type { AdoConnection } from './config.ts';
import { WEBHOOK_EVENTS } from './write.ts';

export interface AdoDoctorInput {
  config: AdoConnection;
  /** Where to send requests instead of `config.orgUrl` (tests point it at a simulator). */
  orgUrl?: string;
  /** `server.publicUrl`: when set, service hooks are expected to point at it. */
  publicUrl?: string;
  /** The agent Entra requests use (tests: one trusting the simulator's authority). */
  entraAgent?: Agent;
  now?: () => number;
  fetch?: typeof fetch;
}

const API = { 'api-version': '7.1' };

/** Security namespace ids of Azure DevOps Services (GET _apis/securitynamespaces) and their bits. */
const CSS = '83e28ad4-2d72-4ceb-97b0-c7726d5502c3';
const TAGGING = 'bb50f182-8e5e-40b8-bc21-e8752a1e7ae2';
const SERVICE_HOOKS = 'cb594ebe-87dd-4fc9-ac2c-6a10a4c92046';

const ConnectionData = z.object({
  authenticatedUser: z.object({ id: z.string(), providerDisplayName: z.string().optional() }).loose(),
});
const Project = z.object({ id: z.string(), name: z.string() }).loose();
const AreaNode = z.object({ identifier: z.string() }).loose();
const Flags = z.object({ value: z.array(z.boolean()) }).loose();
const Types = z.object({ value: z.array(z.object({ name: z.string(), isDisabled: z.boolean().optional() }).loose()) });
const Subscriptions = z.object({
  value: z.array(
    z
      .object({
        id: z.string(),
        eventType: z.string(),
        status: z.string().optional(),
        publisherInputs: z.record(z.string(), z.string()).optional(),
        consumerInputs: z.record(z.string(), z.string()).optional(),
      })
      .loose(),
  ),
});

/** A feature and the permission it needs: a namespace, its bits, and how a token names a project. */
interface Feature {
  name: string;
  ns: string;
  bits: number;
  /** The permission as the project's security pages name it. */
  label: string;
  where: string;
}

function features(config: AdoConnection, hooks: boolean): Feature[] {
  const wb = config.writeback;
  const area = 'Project settings → Boards → Project configuration → Areas → (root) → Security';
  const out: Feature[] = [{ name: 'browse', ns: CSS, bits: 16, label: 'View work items in this node', where: area }];
  if (wb.comment) out.push({ name: 'comment', ns: CSS, bits: 32, label: 'Edit work items in this node', where: area });
  if (Object.keys(wb.fields).length > 0)
    out.push({ name: 'edit fields', ns: CSS, bits: 32, label: 'Edit work items in this node', where: area });
  if (wb.tags) {
    out.push({ name: 'tags', ns: CSS, bits: 32, label: 'Edit work items in this node', where: area });
    out.push({
      name: 'tags: create',
      ns: TAGGING,
      bits: 2,
      label: 'Create tag definition',
      where: "Project settings → Permissions → (the bot's group) → Create tag definition",
    });
  }
  if (hooks)
    out.push({
      name: 'service hooks',
      ns: SERVICE_HOOKS,
      bits: 1 | 2,
      label: 'View and Edit subscriptions (ServiceHooks)',
      where: 'Project Administrators group, or the ServiceHooks namespace (docs/setup-azure-devops.md)',
    });
  return out;
}

const patFix = (config: AdoConnection) =>
  `create an organization-scoped PAT for ${new URL(config.orgUrl).pathname.replace(/^\//, '') || 'the organization'} (User settings → Personal access tokens; scopes Work Items Read & write, Service Hooks Read & write; global "All accessible organizations" PATs no longer work) and put it in auth.pat of connection ${config.id}`;

/** The setting(s) to change when the credential is refused, by kind of auth. */
function credentialSetting(config: AdoConnection): string {
  const a = config.auth;
  if ('pat' in a) return 'auth.pat';
  if ('managedIdentity' in a) return 'auth.managedIdentity (and auth.clientId for a user-assigned identity)';
  if ('clientSecret' in a) return 'auth.clientSecret (with auth.tenantId and auth.clientId)';
  return `${'certificatePath' in a ? 'auth.certificatePath' : 'auth.certificate'} (with auth.tenantId and auth.clientId)`;
}

function credentialFix(config: AdoConnection): string {
  const a = config.auth;
  if ('pat' in a) return patFix(config);
  if ('managedIdentity' in a)
    return `check that this host has the managed identity and that it is added to ${config.orgUrl} as a user (docs/setup-azure-devops.md); setting: ${credentialSetting(config)} of connection ${config.id}`;
  return `check ${credentialSetting(config)} of connection ${config.id} against the app registration (Microsoft Entra admin center → App registrations → Certificates & secrets), and that the service principal is added to ${config.orgUrl} as a user`;
}

export async function checkAdo(input: AdoDoctorInput): Promise<DoctorCheck[]> {
  const { config } = input;
  const scope = config.id;
  const now = input.now ?? Date.now;
  // The connector's own credential (connectors/azure-devops/auth.ts): a PAT, or an Entra token
  // obtained through @azure/identity exactly as the sync obtains it.
  const credential = createAdoCredential(config.auth, { connectionId: scope, now, entraAgent: input.entraAgent });
  let header: string;
  try {
    header = await credential.authorization();
  } catch (err) {
    return [
      {
        scope,
        check: 'credentials',
        status: 'fail',
        detail: err instanceof Error ? err.message : String(err),
        fix: credentialFix(config),
      },
    ];
  }
  const probe = createProbe({
    baseUrl: input.orgUrl ?? config.orgUrl,
    authorization: header,
    setting: 'orgUrl',
    fetch: input.fetch,
  });
  const out: DoctorCheck[] = [];
  const line = (check: string, status: DoctorCheck['status'], detail: string, fix?: string) =>
    out.push({ scope, check, status, detail, ...(fix ? { fix } : {}) });

  // 1. Credentials: a rejected one is a 401, or a 203 with the sign-in page instead of JSON.
  const me = await get(probe, '_apis/connectionData');
  if (me instanceof ProbeError) {
    line('credentials', 'fail', me.message, `check orgUrl of connection ${scope} (${config.orgUrl})`);
    return out;
  }
  const who = ConnectionData.safeParse(me.body);
  if (me.status === 401 || me.status === 203 || (me.status === 200 && !who.success)) {
    line(
      'credentials',
      'fail',
      `Azure DevOps rejected ${credential.name} (${me.status}): ${credential.rejectedHint}`,
      credentialFix(config),
    );
    return out;
  }
  if (me.status !== 200 || !who.success) {
    line('credentials', 'fail', answerText('GET connectionData', me), credentialFix(config));
    return out;
  }
  const user = who.data.authenticatedUser;
  line(
    'credentials',
    'ok',
    `signed in as ${user.providerDisplayName ?? user.id}${
      credential.kind === 'pat'
        ? "; a PAT's expiry is not visible through the API: note the date you chose (at most a year)"
        : ` with ${credential.name}`
    }`,
  );
  out.push(...credentialExpiry(config, credential, header, now()));

  // 2. Scope: the projects exist (by name or id) and the account can see them.
  const names = 'projects' in config.scope ? config.scope.projects : config.scope.project ? [config.scope.project] : [];
  const projects: { name: string; id: string }[] = [];
  for (const name of names) {
    const r = await get(probe, `_apis/projects/${encodeURIComponent(name)}`, API);
    const p = r instanceof ProbeError ? null : Project.safeParse(r.body);
    if (r instanceof ProbeError) line(`project ${name}`, 'fail', r.message);
    else if (r.status === 200 && p?.success) {
      projects.push({ name: p.data.name, id: p.data.id });
      line(`project ${name}`, 'ok', `exists (${p.data.id})`);
    } else
      line(
        `project ${name}`,
        'fail',
        r.status === 404 ? `no project ${name} that this account can see` : answerText(`GET projects/${name}`, r),
        `check scope of connection ${scope} (project names as in ${config.orgUrl}), and that the account is a member`,
      );
  }
  if ('wiql' in config.scope) {
    const where = config.scope.project ? `${encodeURIComponent(config.scope.project)}/` : '';
    const r = await post(probe, `${where}_apis/wit/wiql`, { query: config.scope.wiql }, { ...API, $top: '1' });
    if (r instanceof ProbeError) line('scope WIQL', 'fail', r.message);
    else if (r.status === 200) line('scope WIQL', 'ok', 'Azure DevOps accepts the query');
    else line('scope WIQL', 'fail', answerText('WIQL', r), `fix scope.wiql of connection ${scope}`);
  }

  // 3. Permissions per feature in each project (a WIQL scope without a project: not checked).
  out.push(...(await checkPermissions(probe, config, scope, projects, input.publicUrl !== undefined)));

  // 4. Fields exist in the organization; write-back fields are in the projects' processes.
  out.push(...(await checkFields(probe, config, scope, projects)));

  // 5. Service hooks: registered for every event and project, pointing at publicUrl, enabled.
  out.push(...(await checkHooks(probe, config, scope, projects, input.publicUrl)));

  // 6. Throttling headroom, from the X-RateLimit-* headers on the answers above.
  out.push(rateLimitCheck(probe, scope, ADO_LIMITS));
  return out;
}

/**
 * What can be known of when the credential stops working: an Entra access token's expiry (its
 * JWT exp, else what Entra said), renewed by pmo-sync itself; a certificate's notAfter, read from
 * the certificate; and nothing for a PAT or a client secret, whose expiry only the portal shows.
 */
function credentialExpiry(
  config: AdoConnection,
  credential: AdoCredential,
  header: string,
  now: number,
): DoctorCheck[] {
  const scope = config.id;
  const a = config.auth;
  if ('pat' in a) return []; // said on the credentials line
  const out: DoctorCheck[] = [];
  const at = jwtExpiry(header.replace(/^Bearer\s+/i, '')) ?? credential.expiresAt();
  out.push({
    scope,
    check: 'credentials expiry',
    status: 'ok',
    detail: `Entra access token valid until ${at === null ? 'an unknown time' : new Date(at).toISOString()}, renewed by pmo-sync before it expires`,
  });
  if ('clientSecret' in a)
    out.push({
      scope,
      check: 'client secret expiry',
      status: 'ok',
      detail:
        "not visible to pmo-sync: Entra does not tell a client its secret's expiry; see App registrations → Certificates & secrets and note the date",
    });
  if ('certificate' in a || 'certificatePath' in a) {
    let notAfter: number | null = null;
    try {
      const pem = 'certificatePath' in a ? readFileSync(a.certificatePath, 'utf8') : a.certificate;
      const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
      if (block) notAfter = Date.parse(new X509Certificate(block).validTo);
    } catch {
      notAfter = null; // a token was obtained with it: its expiry is only unreadable, not a failure
    }
    const fix = `upload a new certificate to the app registration and set ${credentialSetting(config)} of connection ${scope}`;
    if (notAfter === null || Number.isNaN(notAfter))
      out.push({
        scope,
        check: 'certificate expiry',
        status: 'ok',
        detail: "the certificate's expiry could not be read",
      });
    else if (notAfter - now < EXPIRY_WARNING_MS)
      out.push({
        scope,
        check: 'certificate expiry',
        status: notAfter <= now ? 'fail' : 'warn',
        detail: `the certificate ${notAfter <= now ? 'expired' : 'expires'} at ${new Date(notAfter).toISOString()}`,
        fix,
      });
    else
      out.push({
        scope,
        check: 'certificate expiry',
        status: 'ok',
        detail: `the certificate is valid until ${new Date(notAfter).toISOString()}`,
      });
  }
  return out;
}

async function checkPermissions(
  probe: Probe,
  config: AdoConnection,
  scope: string,
  projects: { name: string; id: string }[],
  hooks: boolean,
): Promise<DoctorCheck[]> {
  if (projects.length === 0) return [];
  const out: DoctorCheck[] = [];
  const tokens = new Map<string, Map<string, string>>(); // project → namespace → token
  for (const p of projects) {
    const r = await get(probe, `${encodeURIComponent(p.name)}/_apis/wit/classificationnodes/areas`, API);
    const node = r instanceof ProbeError ? null : AreaNode.safeParse(r.body);
    const t = new Map<string, string>([
      [TAGGING, `/${p.id}`],
      [SERVICE_HOOKS, `PublisherSecurity/${p.id}`],
    ]);
    if (node?.success) t.set(CSS, `vstfs:///Classification/Node/${node.data.identifier}`);
    tokens.set(p.name, t);
  }
  for (const f of features(config, hooks)) {
    const missing: string[] = [];
    const unknown: string[] = [];
    for (const p of projects) {
      const token = tokens.get(p.name)?.get(f.ns);
      if (!token) {
        unknown.push(p.name);
        continue;
      }
      const r = await get(probe, `_apis/permissions/${f.ns}/${f.bits}`, { ...API, tokens: token });
      const flags = r instanceof ProbeError ? null : Flags.safeParse(r.body);
      if (!flags?.success) unknown.push(p.name);
      else if (flags.data.value[0] !== true) missing.push(p.name);
    }
    const check = `permission: ${f.name}`;
    if (missing.length > 0)
      out.push({
        scope,
        check,
        status: 'fail',
        detail: `missing "${f.label}" in ${missing.join(', ')}`,
        fix: `grant it to the bot account (${f.where}), or turn the feature off in connection ${scope}`,
      });
    else if (unknown.length > 0)
      out.push({
        scope,
        check,
        status: 'warn',
        detail: `could not read the permission in ${unknown.join(', ')}`,
        fix: 'give the bot account read access to the project (Project Readers or Contributors)',
      });
    else
      out.push({
        scope,
        check,
        status: 'ok',
        detail: `"${f.label}" granted in ${projects.map((p) => p.name).join(', ')}`,
      });
  }
  return out;
}

async function checkFields(
  probe: Probe,
  config: AdoConnection,
  scope: string,
  projects: { name: string; id: string }[],
): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  const all = [
    ...Object.entries(config.fields).map(([name, ref]) => ({ name, ref, key: 'fields', writeback: false })),
    ...Object.entries(config.writeback.fields).map(([name, ref]) => ({
      name,
      ref,
      key: 'writeback.fields',
      writeback: true,
    })),
  ];
  const types = new Map<string, string[]>();
  for (const f of all) {
    const check = `field ${f.name} (${f.ref})`;
    const r = await get(probe, `_apis/wit/fields/${encodeURIComponent(f.ref)}`, API);
    if (r instanceof ProbeError) {
      out.push({ scope, check, status: 'fail', detail: r.message });
      continue;
    }
    if (r.status === 404) {
      out.push({
        scope,
        check,
        status: 'fail',
        detail: `the organization has no field ${f.ref}`,
        fix: f.writeback
          ? `create it (Organization settings → Boards → Process → your inherited process → a type → New field, docs/setup-azure-devops.md), or fix ${f.key}.${f.name} of connection ${scope}`
          : `use the field's reference name (Organization settings → Boards → Process → Fields), in ${f.key}.${f.name} of connection ${scope}`,
      });
      continue;
    }
    if (r.status !== 200) {
      out.push({ scope, check, status: 'fail', detail: answerText(`GET fields/${f.ref}`, r) });
      continue;
    }
    if (!f.writeback || projects.length === 0) {
      out.push({ scope, check, status: 'ok', detail: 'exists in the organization' });
      continue;
    }
    // In the process: on which of each project's work item types the field is.
    const lacking: string[] = [];
    const having: string[] = [];
    for (const p of projects) {
      if (!types.has(p.name)) {
        const t = await get(probe, `${encodeURIComponent(p.name)}/_apis/wit/workitemtypes`, API);
        const parsed = t instanceof ProbeError ? null : Types.safeParse(t.body);
        types.set(p.name, parsed?.success ? parsed.data.value.filter((x) => !x.isDisabled).map((x) => x.name) : []);
      }
      for (const type of types.get(p.name) ?? []) {
        const path = `${encodeURIComponent(p.name)}/_apis/wit/workitemtypes/${encodeURIComponent(type)}/fields/${encodeURIComponent(f.ref)}`;
        const hit = await get(probe, path, API);
        if (!(hit instanceof ProbeError) && hit.status === 200) having.push(`${p.name}/${type}`);
        else lacking.push(`${p.name}/${type}`);
      }
    }
    const fix = `add ${f.ref} to those work item types (Organization settings → Boards → Process → the project's process → the type → Add field)`;
    if (having.length === 0)
      out.push({
        scope,
        check,
        status: 'fail',
        detail: `exists, but no work item type of ${projects.map((p) => p.name).join(', ')} has it`,
        fix,
      });
    // Health and % complete are written on containers only (epics, features): the types that have
    // the field are the ones it is meant for. Compliance is written on every item.
    else if (lacking.length > 0 && CONTAINER_FIELDS.has(f.name))
      out.push({
        scope,
        check,
        status: 'ok',
        detail: `exists on ${having.join(', ')} (rollups are written on containers)`,
      });
    else if (lacking.length > 0)
      out.push({
        scope,
        check,
        status: 'warn',
        detail: `not on ${lacking.join(', ')}: items of those types get no value`,
        fix,
      });
    else out.push({ scope, check, status: 'ok', detail: 'exists and is on every work item type in scope' });
  }
  return out;
}

/** Write-back fields pmo-sync sets on containers only (src/writeback/desired.ts). */
const CONTAINER_FIELDS = new Set(['health', 'percentComplete']);

/** The subscription statuses the service reports, as a person should read them. */
const STATUS_TEXT: Record<string, string> = {
  onProbation: 'on probation after failed deliveries: events raised now are lost',
  disabledBySystem: 'disabled by Azure DevOps after repeated failed deliveries',
  disabledByUser: 'disabled by a person',
  disabledByInactiveIdentity: 'disabled: the account that created it is inactive',
};

async function checkHooks(
  probe: Probe,
  config: AdoConnection,
  scope: string,
  projects: { name: string; id: string }[],
  publicUrl: string | undefined,
): Promise<DoctorCheck[]> {
  if (!publicUrl)
    return [
      {
        scope,
        check: 'service hooks',
        status: 'skip',
        detail: 'server.publicUrl is not set: no service hooks, changes arrive with the scheduled sync',
      },
    ];
  const out: DoctorCheck[] = [];
  const url = webhookUrl(publicUrl, 'azure-devops', config.id);
  if (!config.webhookAuth)
    out.push({
      scope,
      check: 'service hooks: credentials',
      status: 'fail',
      detail: 'webhookAuth is not set: deliveries cannot be verified',
      fix: `set webhookAuth { username, password } of connection ${scope}, then run pmo-sync webhooks install`,
    });
  const r = await get(probe, '_apis/hooks/subscriptions', API);
  const subs = r instanceof ProbeError ? null : Subscriptions.safeParse(r.body);
  if (!subs?.success) {
    out.push({
      scope,
      check: 'service hooks',
      status: 'fail',
      detail: r instanceof ProbeError ? r.message : answerText('GET hooks/subscriptions', r),
      fix: 'the bot needs View subscriptions on service hooks (docs/setup-azure-devops.md)',
    });
    return out;
  }
  const mine = subs.data.value.filter((s) => s.consumerInputs?.url === url);
  const wanted = projects.length > 0 ? projects.map((p) => p.id) : [undefined];
  const missing: string[] = [];
  for (const eventType of WEBHOOK_EVENTS)
    for (const projectId of wanted) {
      const has = mine.some(
        (s) =>
          s.eventType === eventType && (!s.publisherInputs?.projectId || s.publisherInputs.projectId === projectId),
      );
      if (!has)
        missing.push(projectId ? `${eventType} (${projects.find((p) => p.id === projectId)?.name})` : eventType);
    }
  if (missing.length > 0)
    out.push({
      scope,
      check: 'service hooks',
      status: 'fail',
      detail: mine.length === 0 ? `no subscription points at ${url}` : `missing ${missing.join(', ')}`,
      fix: 'run pmo-sync webhooks install',
    });
  const unhealthy = mine.filter((s) => (s.status ?? 'enabled') !== 'enabled');
  for (const s of unhealthy)
    out.push({
      scope,
      check: `service hook ${s.eventType} (${s.id})`,
      status: 'fail',
      detail: STATUS_TEXT[s.status ?? ''] ?? `status ${s.status}`,
      fix: `check that ${url} answers from the internet (pmo-sync serve running, TLS valid), then enable the subscription in Project settings → Service hooks; run pmo-sync sync to catch up on lost events`,
    });
  const user = config.webhookAuth?.username;
  const otherUser = mine.filter(
    (s) => user && s.consumerInputs?.basicAuthUsername && s.consumerInputs.basicAuthUsername !== user,
  );
  if (otherUser.length > 0)
    out.push({
      scope,
      check: 'service hooks: credentials',
      status: 'fail',
      detail: `${otherUser.length} subscription(s) send a user name other than webhookAuth.username: pmo-sync refuses them`,
      fix: 'delete them in Project settings → Service hooks and run pmo-sync webhooks install',
    });
  if (missing.length === 0 && unhealthy.length === 0)
    out.push({
      scope,
      check: 'service hooks',
      status: 'ok',
      detail: `${mine.length} subscription(s) enabled, pointing at ${url}`,
    });
  return out;
}

/** Azure DevOps throttling: a 429 over the TSTU budget, X-RateLimit-Delay before it. */
const ADO_LIMITS: RateLimitDialect = {
  tracker: 'Azure DevOps',
  refusal: (h) => `over the TSTU budget${h.get('retry-after') ? `, retry after ${h.get('retry-after')} s` : ''}`,
  slowing: (h) => h.get('x-ratelimit-delay') !== null,
  unit: 'TSTUs',
  guide: 'docs/setup-azure-devops.md',
};

const get = (probe: Probe, path: string, query?: Record<string, string>) => settle(probe.get(path, query));
const post = (probe: Probe, path: string, body: unknown, query?: Record<string, string>) =>
  settle(probe.post(path, body, query));
