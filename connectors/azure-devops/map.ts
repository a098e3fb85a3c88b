// Raw Azure DevOps work item → the tracker-neutral WorkItem (DESIGN.md, "Common project model").
// Pure functions: the state categories of the item's type are looked up by the caller (they need
// a request, cached per project and type) and passed in, so mapping never guesses from state names.

import { toIsoInstant } from '../../src/core/instant.ts';
import {
  type ItemLink,
  type Iteration,
  type Kind,
  makeRef,
  type Person,
  type StatusCategory,
  type WorkItem,
} from '../../src/core/work-item.ts';
import type { RefResolver } from '../types.ts';
import type { AdoConnection } from './config.ts';
import type { AdoIdentity, AdoRelation, AdoWorkItem } from './schema.ts';

/** Kinds of the work item types of the four built-in processes (Agile, Scrum, CMMI, Basic). */
export const DEFAULT_KINDS: Readonly<Record<string, Kind>> = {
  Epic: 'epic',
  Feature: 'feature',
  'User Story': 'story', // Agile
  'Product Backlog Item': 'story', // Scrum
  Requirement: 'story', // CMMI
  Issue: 'story', // Basic's requirement-level type; CMMI's Issue can be mapped to `other` with typeMap
  Bug: 'bug',
  Task: 'task',
  Risk: 'risk', // CMMI
  Impediment: 'other',
  'Change Request': 'other',
  Review: 'other',
  'Test Case': 'other',
};

/** Azure DevOps state categories (the `category` of a work item type state). */
const CATEGORY_TO_STATUS: Readonly<Record<string, StatusCategory>> = {
  Proposed: 'todo',
  InProgress: 'in_progress',
  Resolved: 'done',
  Completed: 'done',
  Removed: 'removed',
};

export function statusCategoryOf(category: string | undefined): StatusCategory | null {
  return category === undefined ? null : (CATEGORY_TO_STATUS[category] ?? null);
}

/** Field reference names read for each model field when the connection does not configure one. */
export const POINTS_FIELDS = [
  'Microsoft.VSTS.Scheduling.StoryPoints', // Agile
  'Microsoft.VSTS.Scheduling.Effort', // Scrum, Basic
  'Microsoft.VSTS.Scheduling.Size', // CMMI
] as const;
export const DUE_FIELDS = ['Microsoft.VSTS.Scheduling.TargetDate', 'Microsoft.VSTS.Scheduling.DueDate'] as const;

const REL = {
  parent: 'System.LinkTypes.Hierarchy-Reverse',
  successor: 'System.LinkTypes.Dependency-Forward',
  predecessor: 'System.LinkTypes.Dependency-Reverse',
  related: 'System.LinkTypes.Related',
  duplicate: 'System.LinkTypes.Duplicate-Forward',
  hyperlink: 'Hyperlink',
} as const;

export interface MapContext {
  connectionId: string;
  /** Org URL a person opens (`https://dev.azure.com/acme`), used for `url`. */
  orgUrl: string;
  config: Pick<AdoConnection, 'fields' | 'typeMap'>;
  resolveRef: RefResolver;
  /** State name → state category for this item's project and type. */
  categories: ReadonlyMap<string, string>;
  /** Iteration path → sprint dates for this item's project, when known. */
  iterations?: ReadonlyMap<string, Pick<Iteration, 'start' | 'end'>>;
}

/**
 * Revisions are compared as strings by the engine, so `rev` is zero-padded to 10 digits:
 * "0000000010" > "0000000009" holds where "10" > "9" does not.
 */
export function formatRevision(rev: number): string {
  return String(rev).padStart(10, '0');
}

export function parseIdentity(v: AdoIdentity | null | undefined): Person | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'string') {
    const m = /^(.*?)\s*<([^>]+)>$/.exec(v);
    return m ? { id: m[2]!, name: m[1] || m[2]! } : { id: v, name: v };
  }
  const id = v.uniqueName ?? v.id;
  if (!id) return null;
  return { id, name: v.displayName ?? id };
}

export function splitTags(tags: unknown): string[] {
  if (typeof tags !== 'string') return [];
  return tags
    .split(';')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

export function joinTags(tags: readonly string[]): string {
  return tags.join('; ');
}

/** The numeric id at the end of a work item URL (`…/_apis/wit/workItems/297`). */
export function workItemIdFromUrl(url: string): string | null {
  const m = /\/_apis\/wit\/workItems\/(\d+)\/?$/i.exec(url);
  return m ? m[1]! : null;
}

function iso(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? toIsoInstant(v) : null;
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function first(fields: Record<string, unknown>, names: readonly string[]): unknown {
  for (const n of names) if (fields[n] !== undefined && fields[n] !== null) return fields[n];
  return null;
}

function identityOrNull(v: unknown): Person | null {
  if (typeof v === 'string' || (typeof v === 'object' && v !== null)) return parseIdentity(v as AdoIdentity);
  return null;
}

function iterationOf(path: unknown, project: string, dates: MapContext['iterations']): Iteration | null {
  // The project root is "no iteration", not a sprint.
  if (typeof path !== 'string' || path === '' || path === project) return null;
  const d = dates?.get(path);
  return { name: path, start: d?.start ?? null, end: d?.end ?? null };
}

function linksOf(relations: readonly AdoRelation[], ctx: MapContext): { parent: string | null; links: ItemLink[] } {
  let parent: string | null = null;
  const links: ItemLink[] = [];
  const local = (url: string) => {
    const id = workItemIdFromUrl(url);
    return id ? makeRef(ctx.connectionId, id) : null;
  };
  for (const r of relations) {
    if (r.rel === REL.parent) parent = local(r.url) ?? parent;
    else if (r.rel === REL.predecessor) pushLink(links, 'depends_on', local(r.url));
    else if (r.rel === REL.successor) pushLink(links, 'blocks', local(r.url));
    else if (r.rel === REL.related) pushLink(links, 'relates', local(r.url));
    else if (r.rel === REL.duplicate) pushLink(links, 'duplicates', local(r.url));
    else if (r.rel === REL.hyperlink) {
      const target = ctx.resolveRef({ url: r.url });
      if (target && !target.startsWith(`${ctx.connectionId}:`)) {
        links.push({ type: 'cross_tracker', target, relation: null });
      }
    }
  }
  return { parent, links };
}

function pushLink(links: ItemLink[], type: ItemLink['type'], target: string | null): void {
  if (target) links.push({ type, target });
}

/** A configured field holding Jira keys or URLs (`fields.crossTracker`) becomes cross_tracker links. */
function crossTrackerFromField(value: unknown, ctx: MapContext, relation: ItemLink['relation'] = null): ItemLink[] {
  if (typeof value !== 'string') return [];
  const out: ItemLink[] = [];
  for (const part of value.split(/[\s,;]+/).filter(Boolean)) {
    const target = /^https?:\/\//.test(part)
      ? ctx.resolveRef({ url: part })
      : ctx.resolveRef({ tracker: 'jira', key: part });
    if (target) out.push({ type: 'cross_tracker', target, relation });
  }
  return out;
}

export function toWorkItem(raw: AdoWorkItem, ctx: MapContext): WorkItem {
  const f = raw.fields;
  const cfg = ctx.config.fields;
  const key = String(raw.id);
  const project = String(f['System.TeamProject'] ?? '');
  const type = String(f['System.WorkItemType'] ?? '');
  const status = String(f['System.State'] ?? '');
  const assignee = identityOrNull(f['System.AssignedTo']);
  const { parent: relParent, links } = linksOf(raw.relations ?? [], ctx);
  const parentId = num(f['System.Parent']);
  if (cfg.crossTracker) links.push(...crossTrackerFromField(f[cfg.crossTracker], ctx));
  // `dependsOn`: the same pointers, meaning work this item depends on (dependency rules read it).
  if (cfg.dependsOn) links.push(...crossTrackerFromField(f[cfg.dependsOn], ctx, 'depends_on'));
  const extras: Record<string, unknown> = {};
  for (const [name, ref] of Object.entries(cfg)) extras[name] = f[ref] ?? null;
  const orgUrl = ctx.orgUrl.replace(/\/+$/, '');
  return {
    ref: makeRef(ctx.connectionId, key),
    connection: ctx.connectionId,
    tracker: 'azure-devops',
    key,
    project,
    kind: ctx.config.typeMap[type] ?? DEFAULT_KINDS[type] ?? 'other',
    type,
    title: String(f['System.Title'] ?? ''),
    status,
    // An unknown state (a process change since the cache was filled) reads as todo; checkMapping reports it.
    statusCategory: statusCategoryOf(ctx.categories.get(status)) ?? 'todo',
    assignee,
    owner: (cfg.owner ? identityOrNull(f[cfg.owner]) : null) ?? assignee,
    priority: f['Microsoft.VSTS.Common.Priority'] == null ? null : String(f['Microsoft.VSTS.Common.Priority']),
    labels: splitTags(f['System.Tags']),
    created: iso(f['System.CreatedDate']) ?? '',
    updated: iso(f['System.ChangedDate']) ?? '',
    started: iso(f['Microsoft.VSTS.Common.ActivatedDate']),
    resolved: iso(first(f, ['Microsoft.VSTS.Common.ClosedDate', 'Microsoft.VSTS.Common.ResolvedDate'])),
    start: iso(first(f, [cfg.start ?? 'Microsoft.VSTS.Scheduling.StartDate'])),
    due: iso(first(f, cfg.due ? [cfg.due] : DUE_FIELDS)),
    points: num(first(f, cfg.points ? [cfg.points] : POINTS_FIELDS)),
    estimateHours: num(f['Microsoft.VSTS.Scheduling.OriginalEstimate']),
    remainingHours: num(f['Microsoft.VSTS.Scheduling.RemainingWork']),
    parent: parentId !== null ? makeRef(ctx.connectionId, String(parentId)) : relParent,
    links,
    iteration: iterationOf(f['System.IterationPath'], project, ctx.iterations),
    fields: extras,
    url: `${orgUrl}/${encodeURIComponent(project)}/_workitems/edit/${key}`,
    revision: formatRevision(raw.rev),
    raw,
  };
}
