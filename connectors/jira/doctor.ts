// `pmo-sync doctor` for a Jira connection: whether the configuration works against the site as it
// is today, one checklist line per check, each failure with its fix. Read-only: every request is a
// GET (`GET /rest/api/3/search/jql` rather than the POST the sync uses), so running doctor against
// production changes nothing. Endpoints: myself, project/{key}, mypermissions, field,
// issue/{key}/editmeta and the admin webhooks list (Jira Cloud platform REST API v3).
import { z } from 'zod';
import { AuthError } from '../../src/core/errors.ts';
import {
  answerText,
  createProbe,
  type DoctorCheck,
  EXPIRY_WARNING_MS,
  expiryCheck,
  jwtExpiry,
  type Probe,
  ProbeError,
  type RateLimitDialect,
  rateLimitCheck,
  settle,
  webhookUrl,
} from '../doctor.ts';
import { createJiraCredentials, type JiraCredentials, type JiraTokenStore } from './auth.ts';
import type { JiraConnection } from './config.ts';
import { DYNAMIC_WEBHOOK_EVENTS } from './dynamic-webhooks.ts';
import { scopeJql } from './read.ts';
import { WEBHOOK_EVENTS } from './write.ts';

export interface JiraDoctorInput {
  config: JiraConnection;
  /** Where to send requests for the site instead of `config.baseUrl` (tests point it at a simulator). */
  baseUrl?: string;
  /** `server.publicUrl`: when set, webhooks are expected to point at it. */
  publicUrl?: string;
  /**
   * Where the rotated OAuth refresh token is kept (the app: the kv table). An OAuth connection is
   * refreshed only when there is one: see `oauthUnchecked`.
   */
  tokenStore?: JiraTokenStore;
  /** Why there is no token store (said on the credentials line of an OAuth connection). */
  noTokenStore?: string;
  now?: () => number;
  fetch?: typeof fetch;
}

const Myself = z.object({
  accountId: z.string(),
  displayName: z.string().optional(),
  accountType: z.string().optional(),
});
const Project = z.object({ id: z.string(), key: z.string(), name: z.string().optional() });
const MyPermissions = z.object({
  permissions: z.record(z.string(), z.object({ havePermission: z.boolean() }).loose()),
});
const FieldList = z.array(z.object({ id: z.string(), name: z.string().optional() }).loose());
const KeyPage = z.object({ issues: z.array(z.object({ key: z.string() }).loose()) }).loose();
const DynamicHooks = z.object({
  values: z
    .array(
      z
        .object({
          id: z.number(),
          jqlFilter: z.string().optional(),
          events: z.array(z.string()).default([]),
          expirationDate: z.union([z.string(), z.number()]).optional(),
        })
        .loose(),
    )
    .default([]),
});
const EditMeta = z.object({ fields: z.record(z.string(), z.unknown()) });
const AdminHooks = z.array(
  z
    .object({
      self: z.string().optional(),
      url: z.string(),
      events: z.array(z.string()).default([]),
      enabled: z.boolean().optional(),
      filters: z.record(z.string(), z.string()).optional(),
    })
    .loose(),
);

/** Jira's permission keys (GET /rest/api/3/permissions) and the names admins see in schemes. */
const PERMISSION_NAMES: Record<string, string> = {
  BROWSE_PROJECTS: 'Browse projects',
  ADD_COMMENTS: 'Add comments',
  EDIT_OWN_COMMENTS: 'Edit own comments',
  DELETE_OWN_COMMENTS: 'Delete own comments',
  EDIT_ISSUES: 'Edit issues',
  ADMINISTER: 'Administer Jira',
};

/** A feature pmo-sync uses and the project permissions it needs (checked per project in scope). */
interface Feature {
  name: string;
  keys: string[];
  why: string;
}

function features(config: JiraConnection): Feature[] {
  const wb = config.writeback;
  const out: Feature[] = [{ name: 'browse', keys: ['BROWSE_PROJECTS'], why: 'to read issues' }];
  if (wb.comment) {
    const keys = ['ADD_COMMENTS', 'EDIT_OWN_COMMENTS'];
    if (wb.whenCompliant === 'delete') keys.push('DELETE_OWN_COMMENTS');
    out.push({ name: 'comment', keys, why: 'for the bot comment, writeback.comment' });
  }
  if (wb.labels) out.push({ name: 'labels', keys: ['EDIT_ISSUES'], why: 'to set labels, writeback.labels' });
  if (Object.keys(wb.fields).length > 0)
    out.push({ name: 'edit fields', keys: ['EDIT_ISSUES'], why: 'to write fields, writeback.fields' });
  return out;
}

function credentialFix(config: JiraConnection): string {
  const at = `connection ${config.id}`;
  if ('email' in config.auth)
    return `create ${config.auth.scoped ? 'a scoped' : 'an'} API token for ${config.auth.email} at https://id.atlassian.com/manage-profile/security/api-tokens and put it in auth.apiToken of ${at} (through its environment variable)`;
  if ('oauth' in config.auth)
    return `consent to the app again and put the new refresh token in auth.oauth.refreshToken of ${at} (docs/setup-jira.md)`;
  return `get a new OAuth access token and put it in auth.bearerToken of ${at}`;
}

const CREDENTIAL_NAMES: Record<JiraCredentials['kind'], string> = {
  basic: 'API token',
  scoped: 'scoped API token',
  bearer: 'bearer token',
  oauth: 'OAuth access token',
};

/** The request timeout of doctor's own requests (the token endpoint and the cloud id included). */
const TIMEOUT_MS = 20_000;

/**
 * The Authorization header and API base the connector would use, obtained by the connector's own
 * credentials (connectors/jira/auth.ts): the site or the gateway, the cloud id read from the site,
 * an OAuth access token refreshed from the stored refresh token. A line saying why when there is
 * none.
 */
async function signIn(
  input: JiraDoctorInput,
  siteUrl: string,
  now: () => number,
): Promise<{ creds: JiraCredentials; header: string; apiBase: string } | DoctorCheck> {
  const { config } = input;
  const scope = config.id;
  // Refreshing an OAuth token rotates the refresh token: Atlassian invalidates the one sent. With
  // nowhere to keep the new one, doctor would leave the connection with a dead refresh token (the
  // config's, or the stored one the server starts from), so it refreshes only when it can persist
  // the rotated token exactly as the connector does, and otherwise says so without spending it.
  if ('oauth' in config.auth && !input.tokenStore)
    return {
      scope,
      check: 'credentials',
      status: 'warn',
      detail: `not checked: refreshing the OAuth token rotates auth.oauth.refreshToken and ${input.noTokenStore ?? 'there is no database to keep the new one'}, so doctor did not spend it`,
      fix: 'run doctor where it can write the database (stop serve when it uses the embedded database, or move to Postgres), or check with pmo-sync sync --dry-run',
    };
  const creds = createJiraCredentials({
    connection: scope,
    config,
    siteUrl,
    tokenStore: input.tokenStore,
    now,
    timeoutMs: TIMEOUT_MS,
  });
  const signal = AbortSignal.timeout(TIMEOUT_MS * 2);
  try {
    const apiBase = await creds.apiBase(signal);
    const header = await creds.header(signal);
    return { creds, header, apiBase };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const refused = err instanceof AuthError;
    return {
      scope,
      check: 'credentials',
      status: 'fail',
      detail: message,
      fix: refused
        ? /client credentials/.test(message)
          ? `set auth.oauth.clientId and auth.oauth.clientSecret of connection ${scope} to the app's (developer.atlassian.com → your app → Settings)`
          : credentialFix(config)
        : /cloud id/.test(message)
          ? `set auth.cloudId${'oauth' in config.auth ? ' (auth.oauth.cloudId)' : ''} of connection ${scope}, or check baseUrl`
          : `check ${'oauth' in config.auth ? 'authUrl' : 'baseUrl'} of connection ${scope}, and that this host reaches Atlassian`,
    };
  }
}

export async function checkJira(input: JiraDoctorInput): Promise<DoctorCheck[]> {
  const { config } = input;
  const scope = config.id;
  const now = input.now ?? Date.now;
  const baseUrl = input.baseUrl ?? config.baseUrl;
  const out: DoctorCheck[] = [];
  const signed = await signIn(input, baseUrl, now);
  if (!('creds' in signed)) return [signed];
  const { creds, header } = signed;
  const gateway = creds.kind === 'scoped' || creds.kind === 'oauth';
  const probe = createProbe({
    baseUrl: signed.apiBase,
    authorization: header,
    setting: gateway ? 'apiUrl' : 'baseUrl',
    fetch: input.fetch,
  });
  const line = (check: string, status: DoctorCheck['status'], detail: string, fix?: string) =>
    out.push({ scope, check, status, detail, ...(fix ? { fix } : {}) });
  const where = gateway
    ? `apiUrl of connection ${scope} (${signed.apiBase})`
    : `baseUrl of connection ${scope} (${config.baseUrl})`;

  // 1. Credentials: everything else depends on them, so a failure here ends the list.
  const me = await get(probe, 'rest/api/3/myself');
  if (me instanceof ProbeError) {
    line('credentials', 'fail', me.message, `check ${where}`);
    return out;
  }
  if (me.status === 401) {
    line(
      'credentials',
      'fail',
      // Not creds.describe: it names the account's email, which is scrubbed from every line as a secret.
      `Jira rejected the ${CREDENTIAL_NAMES[creds.kind]} (401: invalid, expired or revoked${creds.kind === 'scoped' ? ', or not a scoped token for this site' : ''})`,
      creds.kind === 'oauth'
        ? `check the app's scopes (read:jira-user, read:jira-work) and ${credentialFix(config)}`
        : credentialFix(config),
    );
    return out;
  }
  if (me.status !== 200) {
    line('credentials', 'fail', answerText('GET myself', me), 'check that the account has Jira product access');
    return out;
  }
  const self = Myself.safeParse(me.body);
  if (!self.success) {
    line('credentials', 'fail', 'GET myself did not return an account', `check ${where}`);
    return out;
  }
  line(
    'credentials',
    'ok',
    `signed in as ${self.data.displayName ?? self.data.accountId} (${self.data.accountId})${
      gateway ? ` through ${signed.apiBase}` : ''
    }${
      creds.kind !== 'oauth' && jwtExpiry(header.replace(/^Bearer\s+/i, '')) === null
        ? "; the token's expiry is not visible through the API: note the date you set when creating it"
        : ''
    }`,
  );
  const expiry = credentialExpiry(scope, creds, header, now(), config);
  if (expiry) out.push(expiry);

  // 2. Scope: the projects exist and the account can see them (Jira answers 404 for both).
  const projects: string[] = [];
  if ('projects' in config.scope) {
    for (const key of config.scope.projects) {
      const r = await get(probe, `rest/api/3/project/${encodeURIComponent(key)}`);
      if (r instanceof ProbeError) line(`project ${key}`, 'fail', r.message);
      else if (r.status === 200 && Project.safeParse(r.body).success) {
        projects.push(key);
        line(`project ${key}`, 'ok', `exists: ${Project.parse(r.body).name ?? key}`);
      } else
        line(
          `project ${key}`,
          'fail',
          r.status === 404 ? `no project ${key} that this account can browse` : answerText(`GET project/${key}`, r),
          `check scope.projects of connection ${scope} (project keys, not names), and that the account has Browse projects there`,
        );
    }
  } else {
    const r = await get(probe, 'rest/api/3/search/jql', { jql: config.scope.jql, maxResults: '1', fields: 'key' });
    if (r instanceof ProbeError) line('scope JQL', 'fail', r.message);
    else if (r.status === 200) line('scope JQL', 'ok', 'Jira accepts the query');
    else line('scope JQL', 'fail', answerText('search', r), `fix scope.jql of connection ${scope}`);
  }

  // 3. Permissions per feature, in each project of the scope (a JQL scope: anywhere on the site).
  const contexts: (string | null)[] = 'projects' in config.scope ? projects : [null];
  const wanted = features(config);
  const keys = [...new Set(wanted.flatMap((f) => f.keys))];
  const granted = new Map<string | null, Record<string, boolean>>();
  for (const project of contexts) {
    const r = await get(probe, 'rest/api/3/mypermissions', {
      permissions: keys.join(','),
      ...(project ? { projectKey: project } : {}),
    });
    const parsed = r instanceof ProbeError ? null : MyPermissions.safeParse(r.body);
    if (!parsed?.success) {
      line('permissions', 'fail', r instanceof ProbeError ? r.message : answerText('GET mypermissions', r));
      continue;
    }
    granted.set(project, Object.fromEntries(keys.map((k) => [k, parsed.data.permissions[k]?.havePermission === true])));
  }
  for (const f of wanted) {
    if (granted.size === 0) break;
    const missing: string[] = [];
    for (const [project, have] of granted) {
      for (const k of f.keys)
        if (!have[k]) missing.push(`${PERMISSION_NAMES[k] ?? k}${project ? ` in ${project}` : ''}`);
    }
    if (missing.length === 0)
      line(`permission: ${f.name}`, 'ok', `granted${contexts[0] ? ` in ${[...granted.keys()].join(', ')}` : ''}`);
    else
      line(
        `permission: ${f.name}`,
        'fail',
        `missing ${missing.join(', ')}, needed ${f.why}`,
        `grant it to ${self.data.displayName ?? 'the bot account'} in the project's permission scheme (Project settings → Permissions), or turn the feature off in connection ${scope}`,
      );
  }
  // An OAuth app's webhooks are dynamic: its manage:jira-webhook scope, not Administer Jira, covers them.
  if (input.publicUrl && creds.kind !== 'oauth') {
    const r = await get(probe, 'rest/api/3/mypermissions', { permissions: 'ADMINISTER' });
    const parsed = r instanceof ProbeError ? null : MyPermissions.safeParse(r.body);
    // Needed only to register (and for doctor to read) admin webhooks: an admin may do both by hand.
    if (parsed?.success && parsed.data.permissions.ADMINISTER?.havePermission === true)
      line('permission: webhooks', 'ok', 'Administer Jira granted (admin webhooks can be registered)');
    else if (parsed?.success)
      line(
        'permission: webhooks',
        'warn',
        'missing Administer Jira: pmo-sync webhooks install cannot register webhooks, nor doctor read them',
        'add the bot account to the jira-admins group (Settings → System → Global permissions), or have an admin register the webhook by hand (docs/setup-jira.md, section 6)',
      );
    else line('permission: webhooks', 'fail', r instanceof ProbeError ? r.message : answerText('GET mypermissions', r));
  }

  // 4. Fields: the mapped ones exist; the write-back ones also sit on the edit screen.
  out.push(...(await checkFields(probe, config, scope)));

  // 5. Webhooks registered, pointing at server.publicUrl, enabled.
  out.push(
    ...(creds.kind === 'oauth'
      ? await checkDynamicWebhooks(probe, config, scope, input.publicUrl, now())
      : await checkWebhooks(probe, config, scope, baseUrl, input.publicUrl)),
  );

  // 6. Rate-limit headroom, from what Jira said on the answers above.
  out.push(rateLimitCheck(probe, scope, JIRA_LIMITS));
  return out;
}

/**
 * What can be known of when the credential stops working. An OAuth access token's expiry is read
 * from the token (a JWT's exp) or the token endpoint's expires_in; pmo-sync renews it itself, so
 * an hour's life is fine. An API token's expiry is not visible through the API.
 */
function credentialExpiry(
  scope: string,
  creds: JiraCredentials,
  header: string,
  now: number,
  config: JiraConnection,
): DoctorCheck | null {
  if (creds.kind === 'oauth') {
    const at = jwtExpiry(header.replace(/^Bearer\s+/i, '')) ?? creds.expiresAt();
    if (at !== null && at <= now)
      return {
        scope,
        check: 'credentials expiry',
        status: 'fail',
        detail: `the access token just obtained expired at ${new Date(at).toISOString()}: is this host's clock right?`,
        fix: 'set the clock of this host right (NTP)',
      };
    return {
      scope,
      check: 'credentials expiry',
      status: 'ok',
      detail: `access token valid until ${at === null ? 'an unknown time' : new Date(at).toISOString()}, renewed by pmo-sync from the refresh token (rotated on each refresh and kept in the database)`,
    };
  }
  return expiryCheck(scope, jwtExpiry(header.replace(/^Bearer\s+/i, '')), now, credentialFix(config));
}

/** An OAuth app's dynamic webhooks: ours carry the scope's JQL and events, and have not lapsed. */
async function checkDynamicWebhooks(
  probe: Probe,
  config: JiraConnection,
  scope: string,
  publicUrl: string | undefined,
  now: number,
): Promise<DoctorCheck[]> {
  if (!publicUrl)
    return [
      {
        scope,
        check: 'webhooks',
        status: 'skip',
        detail: 'server.publicUrl is not set: no webhooks, changes arrive with the scheduled sync',
      },
    ];
  const r = await get(probe, 'rest/api/3/webhook', { maxResults: '100' });
  const page = r instanceof ProbeError ? null : DynamicHooks.safeParse(r.body);
  if (!page?.success)
    return [
      {
        scope,
        check: 'webhooks',
        status: 'fail',
        detail: r instanceof ProbeError ? r.message : answerText('GET webhook', r),
        fix: 'give the app the manage:jira-webhook scope in the developer console and consent again',
      },
    ];
  const filter = scopeJql(config.scope);
  const mine = page.data.values.filter(
    (h) => h.jqlFilter === filter && DYNAMIC_WEBHOOK_EVENTS.every((e) => h.events.includes(e)),
  );
  if (mine.length === 0)
    return [
      {
        scope,
        check: 'webhooks',
        status: 'fail',
        detail: "the app has no dynamic webhook with the connection's scope and events",
        fix: 'run pmo-sync webhooks install (it registers a dynamic webhook to server.publicUrl)',
      },
    ];
  const expiries = mine
    .map((h) => (typeof h.expirationDate === 'number' ? h.expirationDate : Date.parse(h.expirationDate ?? '')))
    .filter((t) => !Number.isNaN(t));
  const first = expiries.length ? Math.min(...expiries) : null;
  const when = first === null ? 'an unknown date' : new Date(first).toISOString();
  // The sync refreshes them 20 days before they lapse: a week left means no sync has run since.
  if (first !== null && first - now < EXPIRY_WARNING_MS)
    return [
      {
        scope,
        check: 'webhooks',
        status: 'warn',
        detail: `dynamic webhook(s) ${mine.map((h) => h.id).join(', ')} lapse at ${when}: Jira drops them 30 days after the last refresh`,
        fix: 'run pmo-sync sync or serve (each sync refreshes them), or pmo-sync webhooks install',
      },
    ];
  return [
    {
      scope,
      check: 'webhooks',
      status: 'ok',
      detail: `dynamic webhook(s) ${mine.map((h) => h.id).join(', ')} registered, refreshed by each sync (next lapse ${when})`,
    },
  ];
}

async function checkFields(probe: Probe, config: JiraConnection, scope: string): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  const mapped = Object.entries(config.fields);
  const writeback = Object.entries(config.writeback.fields);
  if (mapped.length === 0 && writeback.length === 0 && !config.writeback.labels) return out;
  const r = await get(probe, 'rest/api/3/field');
  const list = r instanceof ProbeError ? null : FieldList.safeParse(r.body);
  if (!list?.success) {
    out.push({
      scope,
      check: 'fields',
      status: 'fail',
      detail: r instanceof ProbeError ? r.message : answerText('GET field', r),
    });
    return out;
  }
  const known = new Map(list.data.map((f) => [f.id, f.name ?? f.id]));
  const missingFix = (key: string, name: string) =>
    `find the field's id under Settings → Issues → Custom fields (or GET /rest/api/3/field) and set ${key}.${name} of connection ${scope}`;
  for (const [name, id] of mapped) {
    out.push(
      known.has(id)
        ? { scope, check: `field ${name} (${id})`, status: 'ok', detail: `exists: ${known.get(id)}` }
        : {
            scope,
            check: `field ${name} (${id})`,
            status: 'fail',
            detail: `this Jira site has no field ${id}`,
            fix: missingFix('fields', name),
          },
    );
  }
  // The edit screen: editmeta of one issue per project in scope says which fields an edit may set.
  // Screens are per issue type: rollup fields are checked on an epic of each project, the others
  // (compliance, labels) on the newest issue of any type.
  const samples = { any: await sampleIssues(probe, config, ''), epics: await sampleIssues(probe, config, 'Epic') };
  const editable = new Map<string, Set<string>>();
  const unreadable = new Set<string>();
  for (const key of new Set([...samples.any, ...samples.epics])) {
    const m = await get(probe, `rest/api/3/issue/${encodeURIComponent(key)}/editmeta`);
    const meta = m instanceof ProbeError ? null : EditMeta.safeParse(m.body);
    if (meta?.success) editable.set(key, new Set(Object.keys(meta.data.fields)));
    else unreadable.add(key);
  }
  const screenCheck = (check: string, id: string, what: string, keys: string[]): DoctorCheck => {
    const lost = keys.filter((k) => unreadable.has(k));
    const absent = keys.filter((k) => editable.get(k)?.has(id) === false);
    if (lost.length > 0)
      return {
        scope,
        check,
        status: 'warn',
        detail: `exists, but the edit screen of ${lost.join(', ')} could not be read`,
        fix: 'give the bot Browse projects and Edit issues there, then run doctor again',
      };
    if (keys.length === 0)
      return { scope, check, status: 'ok', detail: `exists: ${what} (no issue in scope to check the edit screen on)` };
    if (absent.length > 0)
      return {
        scope,
        check,
        status: 'fail',
        detail: `not on the edit screen of ${absent.join(', ')}`,
        fix: `add ${id} to the edit screen those issues' type uses in their project (Settings → Issues → Screens)`,
      };
    return { scope, check, status: 'ok', detail: `exists and is on the edit screen: ${what}` };
  };
  for (const [name, id] of writeback) {
    const check = `field ${name} (${id})`;
    if (!known.has(id)) {
      out.push({
        scope,
        check,
        status: 'fail',
        detail: `write-back field ${id} does not exist on this Jira site`,
        fix: `create it (Settings → Issues → Custom fields → Create, docs/setup-jira.md) or ${missingFix('writeback.fields', name)}`,
      });
      continue;
    }
    out.push(screenCheck(check, id, known.get(id) ?? id, CONTAINER_FIELDS.has(name) ? samples.epics : samples.any));
  }
  if (config.writeback.labels) out.push(screenCheck('field labels', 'labels', 'Labels', samples.any));
  return out;
}

/** Write-back fields pmo-sync sets on containers only (src/writeback/desired.ts). */
const CONTAINER_FIELDS = new Set(['health', 'percentComplete']);

/** The newest issue of each project in scope (of one issue type when `type` is set). */
async function sampleIssues(probe: Probe, config: JiraConnection, type: string): Promise<string[]> {
  const quote = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;
  const of = type ? ` AND issuetype = ${quote(type)}` : '';
  const queries =
    'projects' in config.scope
      ? config.scope.projects.map((p) => `project = ${quote(p)}${of} ORDER BY created DESC`)
      : [`${scopeJql(config.scope)}${of} ORDER BY created DESC`];
  const keys: string[] = [];
  for (const jql of queries) {
    const r = await get(probe, 'rest/api/3/search/jql', { jql, maxResults: '1', fields: 'key' });
    const page = r instanceof ProbeError ? null : KeyPage.safeParse(r.body);
    const key = page?.success ? page.data.issues[0]?.key : undefined;
    if (key) keys.push(key);
  }
  return keys;
}

async function checkWebhooks(
  probe: Probe,
  config: JiraConnection,
  scope: string,
  baseUrl: string,
  publicUrl: string | undefined,
): Promise<DoctorCheck[]> {
  if (!publicUrl)
    return [
      {
        scope,
        check: 'webhooks',
        status: 'skip',
        detail: 'server.publicUrl is not set: no webhooks, changes arrive with the scheduled sync',
      },
    ];
  const out: DoctorCheck[] = [];
  const url = webhookUrl(publicUrl, 'jira', config.id);
  if (publicUrl.startsWith('http:') && baseUrl.startsWith('https:'))
    out.push({
      scope,
      check: 'webhooks: public URL',
      status: 'warn',
      detail: `${publicUrl} is not HTTPS: Jira Cloud delivers webhooks to public HTTPS addresses`,
      fix: 'put pmo-sync behind TLS and set server.publicUrl to its https:// address',
    });
  const r = await get(probe, 'rest/webhooks/1.0/webhook');
  const hooks = r instanceof ProbeError ? null : AdminHooks.safeParse(r.body);
  if (!(r instanceof ProbeError) && (r.status === 401 || r.status === 403)) {
    out.push({
      scope,
      check: 'webhooks',
      status: 'warn',
      detail: `Jira does not show this account its webhooks (${r.status}): not checked`,
      fix: `check Settings → System → WebHooks by hand for an enabled webhook to ${url}`,
    });
    return out;
  }
  if (!hooks?.success) {
    out.push({
      scope,
      check: 'webhooks',
      status: 'fail',
      detail: r instanceof ProbeError ? r.message : answerText('GET webhook', r),
      fix: 'the bot needs Administer Jira to read webhooks (docs/setup-jira.md)',
    });
    return out;
  }
  const mine = hooks.data.filter((h) => h.url === url);
  const install = 'run pmo-sync webhooks install';
  if (mine.length === 0) {
    const elsewhere = hooks.data.filter((h) => h.url.endsWith(`/webhooks/jira/${config.id}`)).map((h) => h.url);
    out.push({
      scope,
      check: 'webhooks',
      status: 'fail',
      detail: elsewhere.length
        ? `registered for ${elsewhere.join(', ')}, not for ${url}`
        : `no webhook points at ${url}`,
      fix: `${install} (it registers ${url}${elsewhere.length ? '; then delete the old one in Settings → System → WebHooks' : ''})`,
    });
    return out;
  }
  for (const h of mine) {
    const id = h.self?.split('/').pop() ?? '?';
    const missing = WEBHOOK_EVENTS.filter((e) => !h.events.includes(e));
    if (h.enabled === false)
      out.push({
        scope,
        check: `webhook ${id}`,
        status: 'fail',
        detail: `disabled in Jira: no events are being sent to ${url}`,
        fix: `check that ${url} answers from the internet, then enable the webhook in Settings → System → WebHooks (or ${install})`,
      });
    else if (missing.length > 0)
      out.push({
        scope,
        check: `webhook ${id}`,
        status: 'fail',
        detail: `does not send ${missing.join(', ')}`,
        fix: install,
      });
    else if (h.filters?.['issue-related-events-section'] !== scopeJql(config.scope))
      out.push({
        scope,
        check: `webhook ${id}`,
        status: 'warn',
        detail: "its JQL filter is not the connection's scope",
        fix: install,
      });
    else out.push({ scope, check: `webhook ${id}`, status: 'ok', detail: `enabled, points at ${url}` });
  }
  return out;
}

/** Jira Cloud's rate-limit headers (since March 2026): why a 429 came and when the limit resets. */
const JIRA_LIMITS: RateLimitDialect = {
  tracker: 'Jira',
  refusal: (h) => {
    const reset = h.get('x-ratelimit-reset') ?? (h.get('retry-after') ? `${h.get('retry-after')} s` : null);
    return `${h.get('ratelimit-reason') ?? 'rate limit'}${reset ? `, until ${reset}` : ''}`;
  },
  slowing: (h) => h.get('x-ratelimit-nearlimit') === 'true',
  guide: 'docs/setup-jira.md',
};

const get = (probe: Probe, path: string, query?: Record<string, string>) => settle(probe.get(path, query));
