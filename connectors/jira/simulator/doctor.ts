// The site administration `pmo-sync doctor` reads, and the knobs a test turns to seed each problem
// an admin meets: a permission the bot lacks (`GET /rest/api/3/mypermissions`), projects
// (`GET /rest/api/3/project/{key}`), custom fields an admin created and the edit screen
// (`GET /rest/api/3/field`, `GET /rest/api/3/issue/{key}/editmeta`), and admin webhooks Jira has
// disabled (`enabled` in `GET /rest/webhooks/1.0/webhook`). Everything is granted and enabled
// until a test says otherwise.
import { fieldList } from './fields.ts';
import { HttpError } from './read-api.ts';
import type { JiraSimStore } from './store.ts';

/** Project permissions the simulator knows (Jira's keys); ADMINISTER is the global one. */
const PERMISSIONS: Record<string, { name: string; type: 'PROJECT' | 'GLOBAL' }> = {
  BROWSE_PROJECTS: { name: 'Browse Projects', type: 'PROJECT' },
  ADD_COMMENTS: { name: 'Add Comments', type: 'PROJECT' },
  EDIT_OWN_COMMENTS: { name: 'Edit Own Comments', type: 'PROJECT' },
  DELETE_OWN_COMMENTS: { name: 'Delete Own Comments', type: 'PROJECT' },
  EDIT_ISSUES: { name: 'Edit Issues', type: 'PROJECT' },
  CREATE_ISSUES: { name: 'Create Issues', type: 'PROJECT' },
  ADMINISTER: { name: 'Administer Jira', type: 'GLOBAL' },
};

/** System fields an edit never sets: never on editmeta. */
const NOT_EDITABLE = new Set(['status', 'project', 'created', 'updated', 'resolutiondate', 'statuscategorychangedate']);

export interface SimCustomField {
  id: string;
  name: string;
  /** Jira's schema type (`string`, `number`, `option`); default `string`. */
  type?: string;
}

export interface JiraSimAdmin {
  /** Takes a permission from the bot: in one project, or everywhere when `project` is omitted. */
  revokePermission(key: string, project?: string): void;
  /** A project that exists without issues yet (projects with issues exist anyway). */
  addProject(key: string, name?: string): void;
  /** A custom field an admin created (a write-back field); on every edit screen. */
  addField(field: SimCustomField): void;
  /** Takes a field off the edit screen: of one project, or of all when `project` is omitted. */
  hideFromEditScreen(fieldId: string, project?: string): void;
  /** Jira (or an admin) disabled this admin webhook: it stays registered and sends nothing. */
  disableWebhook(id: number): void;
  /** Answers the administration endpoints; null for every other request. */
  route(method: string, url: URL): { status: number; body?: unknown } | null;
}

export function createJiraSimAdmin(deps: { store: JiraSimStore; site: () => string }): JiraSimAdmin {
  const revoked = new Set<string>();
  const extraProjects = new Map<string, string>();
  const extraFields: SimCustomField[] = [];
  const hidden = new Set<string>();
  const disabled = new Set<number>();
  const everywhere = '*';

  const projects = (): Map<string, string> => {
    const out = new Map(extraProjects);
    for (const i of deps.store.all()) {
      const key = i.key.split('-')[0]!;
      if (!out.has(key)) out.set(key, key);
    }
    return out;
  };
  const projectJson = (key: string, name: string) => ({
    self: `${deps.site()}/rest/api/3/project/${key}`,
    id: String(10_000 + key.length),
    key,
    name,
    projectTypeKey: 'software',
    simplified: false,
    style: 'classic',
  });
  const allFields = () => [
    ...fieldList(),
    ...extraFields.map((f) => ({
      id: f.id,
      key: f.id,
      name: f.name,
      custom: true,
      orderable: true,
      navigable: true,
      searchable: true,
      clauseNames: [`cf[${f.id.split('_')[1] ?? f.id}]`, f.name],
      schema: { type: f.type ?? 'string', custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textfield' },
    })),
  ];
  const notFound = (message: string) => new HttpError(404, { errorMessages: [message], errors: {} });

  function myPermissions(q: URLSearchParams) {
    const asked = (q.get('permissions') ?? '').split(',').filter(Boolean);
    if (asked.length === 0)
      throw new HttpError(400, { errorMessages: ['The permissions query parameter is required.'], errors: {} });
    const project = q.get('projectKey');
    if (project && !projects().has(project)) throw notFound(`No project could be found with key '${project}'.`);
    const permissions: Record<string, unknown> = {};
    for (const key of asked) {
      const p = PERMISSIONS[key];
      if (!p) throw new HttpError(400, { errorMessages: [`Unrecognized permission key: ${key}`], errors: {} });
      // Without a project, Jira answers a project permission true when any project grants it.
      const have =
        !revoked.has(`${key}@${everywhere}`) &&
        (project
          ? !revoked.has(`${key}@${project}`)
          : p.type === 'GLOBAL' || [...projects().keys()].some((k) => !revoked.has(`${key}@${k}`)));
      permissions[key] = { id: key, key, name: p.name, type: p.type, description: p.name, havePermission: have };
    }
    return { permissions };
  }

  function editMeta(issueKey: string) {
    const issue = deps.store.getIssue(issueKey);
    if (!issue) throw notFound('Issue does not exist or you do not have permission to see it.');
    const project = issue.key.split('-')[0]!;
    const fields: Record<string, unknown> = {};
    for (const f of allFields()) {
      if (NOT_EDITABLE.has(f.id) || hidden.has(`${f.id}@${everywhere}`) || hidden.has(`${f.id}@${project}`)) continue;
      fields[f.id] = { required: f.id === 'summary', schema: f.schema, name: f.name, key: f.key, operations: ['set'] };
    }
    return { fields };
  }

  function hooks() {
    return deps.store.webhooks().map((h) => ({
      self: `${deps.site()}/rest/webhooks/1.0/webhook/${h.id}`,
      name: h.name,
      url: h.url,
      events: h.events,
      filters: h.filters,
      enabled: !disabled.has(h.id),
      excludeBody: false,
    }));
  }

  return {
    revokePermission: (key, project) => void revoked.add(`${key}@${project ?? everywhere}`),
    addProject: (key, name) => void extraProjects.set(key, name ?? key),
    addField: (f) => void extraFields.push(f),
    hideFromEditScreen: (id, project) => void hidden.add(`${id}@${project ?? everywhere}`),
    disableWebhook: (id) => void disabled.add(id),
    route(method, url) {
      const path = url.pathname;
      // Admin webhooks are Jira administration: without Administer Jira every method is refused.
      if (path.startsWith('/rest/webhooks/1.0/webhook') && revoked.has(`ADMINISTER@${everywhere}`))
        throw new HttpError(403, { errorMessages: ['You are not authorized to perform this action.'], errors: {} });
      if (method !== 'GET') return null;
      if (path === '/rest/api/3/mypermissions') return { status: 200, body: myPermissions(url.searchParams) };
      const project = /^\/rest\/api\/3\/project\/([^/]+)$/.exec(path);
      if (project) {
        const key = decodeURIComponent(project[1]!);
        const name = projects().get(key);
        if (name === undefined) throw notFound(`No project could be found with key '${key}'.`);
        return { status: 200, body: projectJson(key, name) };
      }
      const meta = /^\/rest\/api\/3\/issue\/([^/]+)\/editmeta$/.exec(path);
      if (meta) return { status: 200, body: editMeta(decodeURIComponent(meta[1]!)) };
      // The field list and the webhooks are the server's own until a test changes them here.
      if (path === '/rest/api/3/field' && extraFields.length > 0) return { status: 200, body: allFields() };
      if (path === '/rest/webhooks/1.0/webhook' && disabled.size > 0) return { status: 200, body: hooks() };
      return null;
    },
  };
}
