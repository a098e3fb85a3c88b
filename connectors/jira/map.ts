// Jira issue JSON → the common WorkItem (DESIGN.md, "Common project model"). Pure functions: the
// connector decides which field ids mean what, this module only applies that decision.

import { parseInstant } from '../../src/core/instant.ts';
import type { ItemLink, Iteration, Kind, Person, StatusCategory, WorkItem } from '../../src/core/work-item.ts';
import { makeRef } from '../../src/core/work-item.ts';
import type { RefResolver } from '../types.ts';
import { adfToText } from './comment.ts';
import type { JiraConnection } from './config.ts';
import type { JiraChangeHistory, JiraIssue, JiraIssueLink, JiraSprint } from './schema.ts';

/** Field ids for the model's sized/dated fields, after configuration and discovery. */
export interface JiraFieldIds {
  points: string | null;
  start: string | null;
  sprint: string | null;
  epicLink: string | null;
  owner: string | null;
  /** A field holding an Azure DevOps work item URL or id (or several). */
  crossTracker: string | null;
  /** The same, where the pointers are work this issue depends on (dependency rules read it). */
  dependsOn: string | null;
}

/** Friendly names in `fields:` that the model itself consumes; every other name is an extra. */
export const MODEL_FIELD_NAMES = [
  'points',
  'start',
  'sprint',
  'epicLink',
  'owner',
  'crossTracker',
  'dependsOn',
] as const;

export interface MapContext {
  connection: string;
  /** Site URL people open (`https://acme.atlassian.net`), for `url`. */
  siteUrl: string;
  fieldIds: JiraFieldIds;
  /** Extra fields: friendly name → field id. */
  extras: Record<string, string>;
  typeMap: JiraConnection['typeMap'];
  resolveRef: RefResolver;
}

// Native names seen on English, Chinese and Russian sites. The hierarchy level decides first, so a
// name missing here only matters among level-0 types.
const KIND_BY_NAME: Record<string, Kind> = {
  story: 'story',
  'user story': 'story',
  故事: 'story',
  история: 'story',
  bug: 'bug',
  defect: 'bug',
  缺陷: 'bug',
  故障: 'bug',
  баг: 'bug',
  ошибка: 'bug',
  task: 'task',
  任务: 'task',
  задача: 'task',
  risk: 'risk',
  风险: 'risk',
  риск: 'risk',
  feature: 'feature',
  功能: 'feature',
  epic: 'epic',
  史诗: 'epic',
  эпик: 'epic',
  initiative: 'initiative',
  'sub-task': 'subtask',
  subtask: 'subtask',
  子任务: 'subtask',
  подзадача: 'subtask',
};

export function kindOf(
  issuetype: { name: string; subtask?: boolean; hierarchyLevel?: number },
  typeMap: Record<string, Kind>,
): Kind {
  const mapped = typeMap[issuetype.name];
  if (mapped) return mapped;
  if (issuetype.subtask === true || (issuetype.hierarchyLevel ?? 0) < 0) return 'subtask';
  if ((issuetype.hierarchyLevel ?? 0) >= 2) return 'initiative';
  const byName = KIND_BY_NAME[issuetype.name.trim().toLowerCase()];
  if (issuetype.hierarchyLevel === 1) return byName === 'feature' ? 'feature' : 'epic';
  if (byName === 'epic' && issuetype.hierarchyLevel === undefined) return 'epic';
  return byName && byName !== 'epic' && byName !== 'initiative' ? byName : 'other';
}

export const STATUS_CATEGORY_BY_KEY: Record<string, StatusCategory> = {
  new: 'todo',
  indeterminate: 'in_progress',
  done: 'done',
};

export function statusCategoryOf(key: string): StatusCategory {
  // 'undefined' is Jira's own key for a status with no category; treat it as not started.
  return STATUS_CATEGORY_BY_KEY[key] ?? 'todo';
}

/** Jira's `2020-06-12T08:13:13.360+0800` → `2020-06-12T00:13:13.360Z`, so revisions compare as strings. */
export function isoInstant(value: string): string {
  return new Date(instantMs(value)).toISOString();
}

/** Epoch milliseconds of a Jira timestamp; a value that is not one is a TypeError. */
function instantMs(value: string): number {
  const at = parseInstant(value);
  if (Number.isNaN(at)) throw new TypeError(`not a timestamp: ${JSON.stringify(value)}`);
  return at;
}

function person(u: unknown): Person | null {
  if (!u || typeof u !== 'object') return null;
  const o = u as { accountId?: unknown; displayName?: unknown };
  if (typeof o.accountId !== 'string') return null;
  return { id: o.accountId, name: typeof o.displayName === 'string' ? o.displayName : o.accountId };
}

/** When work started: the earliest status transition in the changelog. */
export function startedFromChangelog(histories: readonly JiraChangeHistory[]): string | null {
  // Compared as epoch milliseconds: one ISO string for the answer, not one per history entry.
  let first = Number.POSITIVE_INFINITY;
  for (const h of histories) {
    if (!h.items.some((i) => i.field === 'status' || i.fieldId === 'status')) continue;
    const at = instantMs(h.created);
    if (at < first) first = at;
  }
  return first === Number.POSITIVE_INFINITY ? null : new Date(first).toISOString();
}

export function linkOf(link: JiraIssueLink, connection: string): ItemLink | null {
  // In an issue bean, `outwardIssue: X` reads "this issue <type.outward> X" and `inwardIssue: Y`
  // reads "this issue <type.inward> Y"; the phrase says which way the dependency points.
  const outward = link.outwardIssue;
  const target = outward ?? link.inwardIssue;
  if (!target) return null;
  const ref = makeRef(connection, target.key);
  const fallback = link.type.name.toLowerCase() === 'blocks' ? (outward ? 'blocks' : 'is blocked by') : '';
  const phrase = ((outward ? link.type.outward : link.type.inward) ?? fallback).trim().toLowerCase();
  if (phrase === 'blocks') return { type: 'blocks', target: ref };
  if (phrase === 'is blocked by') return { type: 'blocked_by', target: ref };
  if (phrase === 'depends on') return { type: 'depends_on', target: ref };
  if (phrase === 'is depended on by') return { type: 'blocks', target: ref };
  if (phrase === 'duplicates') return { type: 'duplicates', target: ref };
  return { type: 'relates', target: ref };
}

/** Jira Cloud sends sprint objects; old servers send `com.atlassian.greenhopper…Sprint@x[name=…,startDate=…]`. */
function sprintsOf(value: unknown): JiraSprint[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((s): JiraSprint[] => {
    if (s && typeof s === 'object' && typeof (s as { name?: unknown }).name === 'string') return [s as JiraSprint];
    if (typeof s === 'string') {
      const attr = (k: string) => new RegExp(`[\\[,]${k}=([^,\\]]*)`).exec(s)?.[1] ?? null;
      const name = attr('name');
      const norm = (v: string | null) => (v && v !== '<null>' ? v : null);
      return name
        ? [
            {
              name,
              state: attr('state')?.toLowerCase(),
              startDate: norm(attr('startDate')),
              endDate: norm(attr('endDate')),
            },
          ]
        : [];
    }
    return [];
  });
}

export function iterationOf(value: unknown): Iteration | null {
  const sprints = sprintsOf(value);
  if (sprints.length === 0) return null;
  // An issue carried over keeps its closed sprints; the one it is in now is the active or future one.
  const current =
    sprints.find((s) => s.state === 'active') ?? sprints.find((s) => s.state === 'future') ?? sprints.at(-1)!;
  const date = (v: string | null | undefined) => (v ? isoInstant(v) : null);
  return { name: current.name, start: date(current.startDate), end: date(current.endDate) };
}

/** Extra field values in the shape rules can compare: option → its value, user → Person, ADF → text. */
export function extraValue(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map(extraValue);
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o.type === 'doc' && Array.isArray(o.content)) return adfToText(o);
    if (typeof o.accountId === 'string') return person(o);
    if ('value' in o) return o.value ?? null;
    if (typeof o.name === 'string') return o.name;
  }
  return value;
}

function crossTrackerLinks(value: unknown, resolveRef: RefResolver, relation: ItemLink['relation'] = null): ItemLink[] {
  const pointers = (Array.isArray(value) ? value : [value]).flatMap((v) => {
    const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : (extraValue(v) as unknown);
    return typeof text === 'string' ? text.split(/[\s,]+/).filter(Boolean) : [];
  });
  return pointers.flatMap((p): ItemLink[] => {
    const target = /^https?:\/\//.test(p) ? resolveRef({ url: p }) : resolveRef({ tracker: 'azure-devops', key: p });
    return target ? [{ type: 'cross_tracker', target, relation }] : [];
  });
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function dateOrNull(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 10) : null;
}

export function toWorkItem(issue: JiraIssue, ctx: MapContext, started: string | null): WorkItem {
  const f = issue.fields;
  const custom = f as Record<string, unknown>;
  const ids = ctx.fieldIds;
  const statusCategory = statusCategoryOf(f.status.statusCategory.key);
  const epicLink = ids.epicLink ? custom[ids.epicLink] : null;
  const parentKey = f.parent?.key ?? (typeof epicLink === 'string' && epicLink ? epicLink : null);
  const links = (f.issuelinks ?? []).flatMap((l) => {
    const link = linkOf(l, ctx.connection);
    return link ? [link] : [];
  });
  if (ids.crossTracker) links.push(...crossTrackerLinks(custom[ids.crossTracker], ctx.resolveRef));
  if (ids.dependsOn) links.push(...crossTrackerLinks(custom[ids.dependsOn], ctx.resolveRef, 'depends_on'));
  const tt = f.timetracking;
  const hours = (s: number | undefined) => (typeof s === 'number' ? s / 3600 : null);
  const assignee = person(f.assignee);
  const fields: Record<string, unknown> = {};
  for (const [name, id] of Object.entries(ctx.extras)) fields[name] = extraValue(custom[id]);
  const updated = isoInstant(f.updated);
  return {
    ref: makeRef(ctx.connection, issue.key),
    connection: ctx.connection,
    tracker: 'jira',
    key: issue.key,
    project: f.project.key,
    kind: kindOf(f.issuetype, ctx.typeMap),
    type: f.issuetype.name,
    title: f.summary,
    status: f.status.name,
    statusCategory,
    assignee,
    owner: (ids.owner ? person(custom[ids.owner]) : null) ?? assignee,
    priority: f.priority?.name ?? null,
    labels: f.labels ?? [],
    created: isoInstant(f.created),
    updated,
    started: statusCategory === 'todo' ? null : started,
    resolved: f.resolutiondate ? isoInstant(f.resolutiondate) : null,
    start: ids.start ? dateOrNull(custom[ids.start]) : null,
    due: dateOrNull(f.duedate),
    points: ids.points ? numberOrNull(custom[ids.points]) : null,
    estimateHours: hours(tt?.originalEstimateSeconds),
    remainingHours: hours(tt?.remainingEstimateSeconds),
    parent: parentKey ? makeRef(ctx.connection, parentKey) : null,
    links,
    iteration: ids.sprint ? iterationOf(custom[ids.sprint]) : null,
    fields,
    url: `${ctx.siteUrl.replace(/\/$/, '')}/browse/${issue.key}`,
    revision: updated,
    raw: issue,
  };
}

/**
 * Whether `started` needs the changelog: in-progress items take it from `statuscategorychangedate`
 * (the moment they entered the category), done items need their history.
 */
export function startedWithoutChangelog(issue: JiraIssue): { started: string | null; needsChangelog: boolean } {
  const cat = statusCategoryOf(issue.fields.status.statusCategory.key);
  if (cat === 'todo') return { started: null, needsChangelog: false };
  if (issue.changelog) return { started: startedFromChangelog(issue.changelog.histories), needsChangelog: false };
  if (cat === 'in_progress' && issue.fields.statuscategorychangedate) {
    return { started: isoInstant(issue.fields.statuscategorychangedate), needsChangelog: false };
  }
  return { started: null, needsChangelog: true };
}
