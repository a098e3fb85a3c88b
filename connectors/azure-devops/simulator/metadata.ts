// Simulator handlers for metadata: the iteration tree with sprint dates, work item types with
// their states and categories, and service hook subscriptions.
import type { SimHooks } from './hooks.ts';
import { PROCESSES } from './processes.ts';
import { apiError, type SimRequest, type SimResponse } from './protocol.ts';
import type { SimStore } from './store.ts';

function findProject(store: SimStore, project: string | undefined) {
  if (!project) return undefined;
  return [...store.projects.values()].find((x) => x.name.toLowerCase() === project.toLowerCase());
}

export function iterationTree(store: SimStore, url: string, project: string | undefined, depth: number): SimResponse {
  const p = findProject(store, project);
  if (!p) return apiError(404, `The project "${project}" does not exist.`);
  const base = `${url}/${encodeURIComponent(p.name)}/_apis/wit/classificationNodes/Iterations`;
  const children = p.iterations.map((it, i) => ({
    id: 1000 + i,
    identifier: `00000000-0000-4000-8000-${String(1000 + i).padStart(12, '0')}`,
    name: it.name,
    structureType: 'iteration',
    hasChildren: false,
    attributes: { startDate: it.startDate, finishDate: it.finishDate },
    url: `${base}/${encodeURIComponent(it.name)}`,
  }));
  return {
    status: 200,
    body: {
      id: 999,
      identifier: '00000000-0000-4000-8000-000000000999',
      name: p.name,
      structureType: 'iteration',
      hasChildren: children.length > 0,
      ...(depth > 0 ? { children } : {}),
      url: base,
    },
  };
}

export function workItemTypes(
  store: SimStore,
  url: string,
  project: string | undefined,
  type: string | undefined,
  sub: string | undefined,
): SimResponse {
  const p = findProject(store, project);
  if (!p) return apiError(404, `The project "${project}" does not exist.`);
  const types = PROCESSES[p.process].types;
  if (type === undefined) {
    const value = Object.entries(types).map(([name, states]) => ({
      name,
      referenceName: `Microsoft.VSTS.WorkItemTypes.${name.replace(/\s/g, '')}`,
      isDisabled: false,
      states,
      url: `${url}/${encodeURIComponent(p.name)}/_apis/wit/workItemTypes/${encodeURIComponent(name)}`,
    }));
    return { status: 200, body: { count: value.length, value } };
  }
  const states = Object.entries(types).find(([n]) => n.toLowerCase() === type.toLowerCase())?.[1];
  if (!states) return apiError(404, `Work item type ${type} does not exist in ${p.name}.`);
  if (sub?.toLowerCase() === 'states') return { status: 200, body: { count: states.length, value: states } };
  return { status: 200, body: { name: type, states } };
}

const subscriptionJson = (url: string, s: ReturnType<SimHooks['subscribe']>) => ({
  id: s.id,
  publisherId: 'tfs',
  eventType: s.eventType,
  resourceVersion: '1.0',
  consumerId: 'webHooks',
  consumerActionId: 'httpRequest',
  publisherInputs: s.projectId ? { projectId: s.projectId } : {},
  consumerInputs: {
    url: s.url,
    // The service never echoes a stored password back.
    ...(s.username ? { basicAuthUsername: s.username, basicAuthPassword: '********' } : {}),
  },
  status: s.status,
  probationRetries: s.probationRetries,
  modifiedDate: s.modifiedDate,
  url: `${url}/_apis/hooks/subscriptions/${s.id}`,
});

const STATUSES = ['enabled', 'onProbation', 'disabledByUser', 'disabledBySystem', 'disabledByInactiveIdentity'];

/** `null` when the method is not one the subscriptions resource serves. */
export function subscriptions(
  hooks: SimHooks,
  projects: ReadonlyMap<string, unknown>,
  url: string,
  req: SimRequest,
  id: string | undefined,
): SimResponse | null {
  if (req.method === 'GET' && id === undefined) {
    const value = [...hooks.subs.values()].map((s) => subscriptionJson(url, s));
    return { status: 200, body: { count: value.length, value } };
  }
  if (req.method === 'POST') {
    const s = req.body as {
      eventType?: string;
      consumerId?: string;
      publisherInputs?: Record<string, string>;
      consumerInputs?: Record<string, string>;
    } | null;
    if (!s?.eventType || s.consumerId !== 'webHooks' || !s.consumerInputs?.url) {
      return apiError(400, 'A webHooks subscription needs eventType and consumerInputs.url.');
    }
    const projectId = s.publisherInputs?.projectId || undefined;
    if (projectId && !projects.has(projectId)) return apiError(400, `The project ${projectId} does not exist.`);
    const sub = hooks.subscribe({
      projectId,
      eventType: s.eventType,
      url: s.consumerInputs.url,
      username: s.consumerInputs.basicAuthUsername,
      password: s.consumerInputs.basicAuthPassword,
    });
    return { status: 200, body: subscriptionJson(url, sub) };
  }
  if (req.method === 'GET' && id) {
    const s = hooks.subs.get(id);
    return s ? { status: 200, body: subscriptionJson(url, s) } : apiError(404, `Subscription ${id} does not exist.`);
  }
  if (req.method === 'PUT' && id) {
    // Replace Subscription: the status is what a caller changes here (re-enabling one).
    const s = req.body as { status?: unknown; consumerInputs?: Record<string, string> } | null;
    if (!hooks.subs.has(id)) return apiError(404, `Subscription ${id} does not exist.`);
    if (typeof s?.status !== 'string' || !STATUSES.includes(s.status))
      return apiError(400, `The subscription status must be one of ${STATUSES.join(', ')}.`);
    const sub = hooks.setStatus(id, s.status as Parameters<SimHooks['setStatus']>[1])!;
    const password = s.consumerInputs?.basicAuthPassword;
    if (password && password !== '********') sub.password = password;
    return { status: 200, body: subscriptionJson(url, sub) };
  }
  if (req.method === 'DELETE' && id) {
    return hooks.unsubscribe(id) ? { status: 204 } : apiError(404, `Subscription ${id} does not exist.`);
  }
  return null;
}
