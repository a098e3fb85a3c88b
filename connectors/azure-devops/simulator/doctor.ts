// The organization administration `pmo-sync doctor` reads, and the knobs a test turns to seed each
// problem an admin meets: permissions (Security's "has permissions by tokens",
// `GET _apis/permissions/{namespaceId}/{bits}?tokens=…`, over the work item area (CSS), Tagging and
// ServiceHooks namespaces), the area root whose id makes the CSS token, fields and whether a
// process has them (`GET _apis/wit/fields/{ref}`, `…/workitemtypes/{type}/fields/{ref}`), and
// service hook subscriptions the service put on probation or disabled (their `status`).
// Everything is granted, present and enabled until a test says otherwise.
import { createHash } from 'node:crypto';
import type { SimHooks } from './hooks.ts';
import { PROCESSES } from './processes.ts';
import { apiError, type SimRequest, type SimResponse } from './protocol.ts';
import type { SimStore } from './store.ts';

/** Security namespace ids of Azure DevOps Services (GET _apis/securitynamespaces). */
export const NAMESPACES = {
  /** Work item areas ("CSS"): WORK_ITEM_READ 16, WORK_ITEM_WRITE 32. Token `vstfs:///Classification/Node/{areaId}`. */
  css: '83e28ad4-2d72-4ceb-97b0-c7726d5502c3',
  /** Tagging: Enumerate 1, Create 2, Update 4, Delete 8. Token `/{projectId}`. */
  tagging: 'bb50f182-8e5e-40b8-bc21-e8752a1e7ae2',
  /** ServiceHooks: ViewSubscriptions 1, EditSubscriptions 2, DeleteSubscriptions 4, PublishEvents 8. Token `PublisherSecurity/{projectId}`. */
  serviceHooks: 'cb594ebe-87dd-4fc9-ac2c-6a10a4c92046',
} as const;

/** What a test can take away, as the namespace and bits it is in. */
export const SIM_PERMISSIONS = {
  'read work items': { ns: NAMESPACES.css, bit: 16 },
  'edit work items': { ns: NAMESPACES.css, bit: 32 },
  'create tags': { ns: NAMESPACES.tagging, bit: 2 },
  'view service hooks': { ns: NAMESPACES.serviceHooks, bit: 1 },
  'edit service hooks': { ns: NAMESPACES.serviceHooks, bit: 2 },
} as const;
export type SimPermission = keyof typeof SIM_PERMISSIONS;

/** The statuses the service gives a subscription (ServiceHooks SubscriptionStatus). */
export type SimSubscriptionStatus =
  | 'enabled'
  | 'onProbation'
  | 'disabledByUser'
  | 'disabledBySystem'
  | 'disabledByInactiveIdentity';

/** Fields every process has on every type (the simulator does not tell types apart here). */
const STANDARD_FIELDS = [
  ['System.Id', 'ID'],
  ['System.Title', 'Title'],
  ['System.State', 'State'],
  ['System.Reason', 'Reason'],
  ['System.WorkItemType', 'Work Item Type'],
  ['System.TeamProject', 'Team Project'],
  ['System.AreaPath', 'Area Path'],
  ['System.IterationPath', 'Iteration Path'],
  ['System.AssignedTo', 'Assigned To'],
  ['System.CreatedBy', 'Created By'],
  ['System.ChangedBy', 'Changed By'],
  ['System.CreatedDate', 'Created Date'],
  ['System.ChangedDate', 'Changed Date'],
  ['System.Tags', 'Tags'],
  ['System.Parent', 'Parent'],
  ['System.Description', 'Description'],
  ['Microsoft.VSTS.Common.Priority', 'Priority'],
  ['Microsoft.VSTS.Common.ActivatedDate', 'Activated Date'],
  ['Microsoft.VSTS.Common.ClosedDate', 'Closed Date'],
  ['Microsoft.VSTS.Common.AcceptanceCriteria', 'Acceptance Criteria'],
  ['Microsoft.VSTS.Scheduling.StartDate', 'Start Date'],
  ['Microsoft.VSTS.Scheduling.TargetDate', 'Target Date'],
  ['Microsoft.VSTS.Scheduling.DueDate', 'Due Date'],
  ['Microsoft.VSTS.Scheduling.StoryPoints', 'Story Points'],
  ['Microsoft.VSTS.Scheduling.Effort', 'Effort'],
  ['Microsoft.VSTS.Scheduling.Size', 'Size'],
  ['Microsoft.VSTS.Scheduling.OriginalEstimate', 'Original Estimate'],
  ['Microsoft.VSTS.Scheduling.RemainingWork', 'Remaining Work'],
] as const;

export interface SimField {
  referenceName: string;
  name: string;
  /** Work item types whose process has it; omitted: every type. */
  types?: string[];
}

export interface AdoSimAdmin {
  /** Takes a permission from the bot: in one project (by name), or everywhere. */
  denyPermission(what: SimPermission, project?: string): void;
  /** A field an admin created (a write-back field such as `Custom.PMOHealth`). */
  addField(field: SimField): void;
  /** The service put this subscription on probation or disabled it. */
  setSubscriptionStatus(id: string, status: SimSubscriptionStatus): void;
  /** Routes the administration endpoints here and everything else to `next`. */
  wrap(next: (req: SimRequest) => SimResponse): (req: SimRequest) => SimResponse;
}

/** A stable GUID for a project's area root (its CSS token names it). */
function areaId(projectId: string): string {
  const h = createHash('sha1').update(`area:${projectId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function createAdoSimAdmin(deps: { store: SimStore; hooks: SimHooks; url: () => string }): AdoSimAdmin {
  const denied = new Set<string>();
  const fields: SimField[] = [];
  const statuses = new Map<string, SimSubscriptionStatus>();
  const projects = () => [...deps.store.projects.values()];
  const byName = (name: string | undefined) =>
    name ? projects().find((p) => p.name.toLowerCase() === name.toLowerCase() || p.id === name) : undefined;

  const fieldOf = (ref: string): SimField | undefined => {
    const std = STANDARD_FIELDS.find(([r]) => r.toLowerCase() === ref.toLowerCase());
    if (std) return { referenceName: std[0], name: std[1] };
    const made = fields.find((f) => f.referenceName.toLowerCase() === ref.toLowerCase());
    if (made) return made;
    // A field some stored work item carries exists in the organization.
    for (const it of deps.store.items.values())
      if (Object.hasOwn(it.fields, ref)) return { referenceName: ref, name: ref.split('.').pop() ?? ref };
    return undefined;
  };
  const fieldJson = (f: SimField) => ({
    name: f.name,
    referenceName: f.referenceName,
    type: 'string',
    usage: 'workItem',
    readOnly: false,
    url: `${deps.url()}/_apis/wit/fields/${f.referenceName}`,
  });

  /** Which project a token names, and whether the bit is granted there. */
  const granted = (ns: string, bits: number, token: string): boolean => {
    const p = projects().find((x) =>
      ns === NAMESPACES.css
        ? token.toLowerCase().endsWith(areaId(x.id))
        : token.toLowerCase().endsWith(x.id.toLowerCase()),
    );
    for (const [what, perm] of Object.entries(SIM_PERMISSIONS)) {
      if (perm.ns !== ns || (bits & perm.bit) === 0) continue;
      if (denied.has(`${what}@*`) || (p && denied.has(`${what}@${p.name.toLowerCase()}`))) return false;
    }
    return p !== undefined || ns === NAMESPACES.serviceHooks;
  };

  function administration(req: SimRequest): SimResponse | null {
    if (req.method !== 'GET') return null;
    const i = req.segments.findIndex((s) => s.toLowerCase() === '_apis');
    if (i < 0) return null;
    const project = i > 0 ? req.segments.slice(0, i).join('/') : undefined;
    const [area = '', res = '', a, b, c] = req.segments.slice(i + 1);
    const A = area.toLowerCase();
    const R = res.toLowerCase();
    if (A === 'permissions' && res && a) {
      const bits = Number(a);
      const tokens = (req.query.get('tokens') ?? '').split(req.query.get('delimiter') ?? ',').filter(Boolean);
      if (!Number.isInteger(bits) || bits <= 0 || tokens.length === 0)
        return apiError(400, 'Pass a permission bit mask and at least one token.');
      const value = tokens.map((t) => granted(res.toLowerCase(), bits, t));
      return { status: 200, body: { count: value.length, value } };
    }
    if (A !== 'wit') return null;
    if (R === 'classificationnodes' && a?.toLowerCase() === 'areas') {
      const p = byName(project);
      if (!p) return apiError(404, `The project "${project}" does not exist.`);
      return {
        status: 200,
        body: {
          id: 1,
          identifier: areaId(p.id),
          name: p.name,
          structureType: 'area',
          hasChildren: false,
          path: `\\${p.name}\\Area`,
          url: `${deps.url()}/${encodeURIComponent(p.name)}/_apis/wit/classificationNodes/Areas`,
        },
      };
    }
    if (R === 'fields' && a) {
      const f = fieldOf(a);
      return f
        ? { status: 200, body: fieldJson(f) }
        : apiError(404, `TF51535: Cannot find field ${a}.`, 'WorkItemTrackingFieldDefinitionNotFoundException');
    }
    if (R === 'workitemtypes' && a && b?.toLowerCase() === 'fields' && c) {
      const p = byName(project);
      if (!p) return apiError(404, `The project "${project}" does not exist.`);
      const type = Object.keys(PROCESSES[p.process].types).find((t) => t.toLowerCase() === a.toLowerCase());
      if (!type) return apiError(404, `Work item type ${a} does not exist in ${p.name}.`);
      const f = fieldOf(c);
      if (!f || (f.types && !f.types.some((t) => t.toLowerCase() === type.toLowerCase())))
        return apiError(404, `TF51535: Cannot find field ${c} on ${type}.`);
      return { status: 200, body: { ...fieldJson(f), alwaysRequired: false } };
    }
    return null;
  }

  return {
    denyPermission: (what, project) => void denied.add(`${what}@${project?.toLowerCase() ?? '*'}`),
    addField: (f) => void fields.push(f),
    setSubscriptionStatus: (id, status) => void statuses.set(id, status),
    wrap: (next) => (req) => {
      const own = administration(req);
      if (own) return own;
      const r = next(req);
      // The subscriptions list as the service shows it after probation or disabling.
      const listing = req.method === 'GET' && /\/_apis\/hooks\/subscriptions$/i.test(`/${req.segments.join('/')}`);
      if (!listing || statuses.size === 0 || r.status !== 200) return r;
      const body = r.body as { value: { id: string; status: string }[] };
      return {
        ...r,
        body: { ...body, value: body.value.map((s) => ({ ...s, status: statuses.get(s.id) ?? s.status })) },
      };
    },
  };
}
