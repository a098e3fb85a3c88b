// The in-memory view of stored items a rule evaluation needs: items by ref, children by parent,
// links seen from both ends, and the CEL values (`item`, `parent`, `children`, `links`) built
// from them. Everything is memoised per graph, so a full run over 100,000 items converts each
// item once and aggregates each subtree once.
import type { WorkItem } from '../src/core/work-item.ts';
import { CelChildren, CelForecast, CelItem, CelIteration, CelLink, CelPerson } from './cel-env.ts';

/** A stored item as evaluation sees it: the model plus what the database knows about it. */
export interface GraphItem extends WorkItem {
  deletedAt?: string | null;
  contentHash?: string;
  /** The stored forecast of a container (db `forecasts`, published values), when it has one. */
  forecast?: ItemForecast | null;
}

export interface ItemForecast {
  status: string;
  confidence: string;
  unit: string;
  remaining: number;
  p50: string | null;
  p85: string | null;
  p95: string | null;
  onTimeProbability: number | null;
}

/** The empty `forecast`: every has() on it is false. Frozen, so never state. */
export const EMPTY_FORECAST = Object.freeze(new CelForecast());

export function toCelForecast(f: ItemForecast | null | undefined): CelForecast {
  if (!f) return EMPTY_FORECAST;
  const c = new CelForecast();
  c.status = f.status;
  c.confidence = f.confidence;
  c.unit = f.unit;
  c.remaining = f.remaining;
  if (f.p50) c.p50 = new Date(`${f.p50}T00:00:00Z`);
  if (f.p85) c.p85 = new Date(`${f.p85}T00:00:00Z`);
  if (f.p95) c.p95 = new Date(`${f.p95}T00:00:00Z`);
  if (f.onTimeProbability !== null) c.onTimeProbability = f.onTimeProbability;
  return c;
}

const INVERSE: Record<string, string> = {
  blocks: 'blocked_by',
  blocked_by: 'blocks',
  depends_on: 'required_by',
  relates: 'relates',
  duplicates: 'duplicated_by',
};

/** What the WIP rule needs of another in-progress item: which it is and what kind. */
export type OwnerWork = Pick<GraphItem, 'ref' | 'kind'>;

export interface ItemGraphOptions {
  /**
   * Non-deleted in-progress items per owner id, across every stored item: a graph over part
   * of the store (a chunk of a large evaluation) still counts each owner's whole workload.
   * Built from `items` when absent.
   */
  ownerWork?: ReadonlyMap<string, readonly OwnerWork[]>;
}

interface InwardLink {
  source: string;
  type: string;
  relation: string;
}

export interface ItemGraph {
  get(ref: string): GraphItem | undefined;
  /** Non-deleted items, in insertion order. */
  refs(): string[];
  children(ref: string): GraphItem[];
  /** Parent chain, nearest first; stops at a cycle or a missing parent. */
  ancestors(ref: string): string[];
  celItem(ref: string): CelItem;
  celChildren(ref: string): CelChildren;
  celLinks(ref: string): CelLink[];
  /** Non-deleted in-progress items per owner id (for WIP rules). */
  ownerItems(ownerId: string): readonly OwnerWork[];
  readonly now: Date;
}

/** The `parent` of an item without one: every has() on it is false. Frozen, so never state. */
export const EMPTY_ITEM = Object.freeze(new CelItem());

/**
 * Builds the graph over `items`. Deleted ones may be among them (an evaluation of a deleted ref
 * resolves its findings); they are no one's child, owner's work or link (see linkTo).
 */
export function createItemGraph(items: Iterable<GraphItem>, now: Date, opts: ItemGraphOptions = {}): ItemGraph {
  const byRef = new Map<string, GraphItem>();
  const kids = new Map<string, GraphItem[]>();
  const inward = new Map<string, InwardLink[]>();
  const byOwner = new Map<string, OwnerWork[]>();
  for (const it of items) byRef.set(it.ref, it);
  for (const it of byRef.values()) {
    if (it.deletedAt) continue;
    if (it.parent) push(kids, it.parent, it);
    for (const l of it.links) {
      const meaning = l.type === 'cross_tracker' ? (l.relation ?? 'relates') : l.type;
      push(inward, l.target, { source: it.ref, type: l.type, relation: INVERSE[meaning] ?? meaning });
    }
    if (!opts.ownerWork && it.owner && it.statusCategory === 'in_progress') push(byOwner, it.owner.id, it);
  }
  const ownerWork: ReadonlyMap<string, readonly OwnerWork[]> = opts.ownerWork ?? byOwner;
  const celItems = new Map<string, CelItem>();
  const celKids = new Map<string, CelChildren>();
  const celLinks = new Map<string, CelLink[]>();
  const nowMs = now.getTime();

  const graph: ItemGraph = {
    now,
    get: (ref) => byRef.get(ref),
    refs: () => [...byRef.values()].filter((i) => !i.deletedAt).map((i) => i.ref),
    children: (ref) => kids.get(ref) ?? [],
    ancestors(ref) {
      const out: string[] = [];
      const seen = new Set([ref]);
      let p = byRef.get(ref)?.parent;
      while (p && !seen.has(p)) {
        out.push(p);
        seen.add(p);
        p = byRef.get(p)?.parent;
      }
      return out;
    },
    celItem(ref) {
      let c = celItems.get(ref);
      if (!c) {
        const it = byRef.get(ref);
        c = it ? toCelItem(it) : EMPTY_ITEM;
        celItems.set(ref, c);
      }
      return c;
    },
    celChildren(ref) {
      return aggregate(ref, new Set());
    },
    celLinks(ref) {
      let c = celLinks.get(ref);
      if (!c) {
        c = buildLinks(ref);
        celLinks.set(ref, c);
      }
      return c;
    },
    ownerItems: (id) => ownerWork.get(id) ?? [],
  };

  // Post-order over the subtree; `path` guards against parent cycles in tracker data.
  function aggregate(ref: string, path: Set<string>): CelChildren {
    const memo = celKids.get(ref);
    if (memo) return memo;
    const agg = new CelChildren();
    path.add(ref);
    for (const child of kids.get(ref) ?? []) {
      if (path.has(child.ref)) continue;
      agg.direct++;
      addItem(agg, child, graph.celItem(child.ref), nowMs);
      mergeInto(agg, aggregate(child.ref, path));
    }
    path.delete(ref);
    celKids.set(ref, agg);
    return agg;
  }

  function buildLinks(ref: string): CelLink[] {
    const it = byRef.get(ref);
    const out: CelLink[] = [];
    const seen = new Set<string>();
    for (const l of it?.links ?? []) {
      const relation = l.type === 'cross_tracker' ? (l.relation ?? 'relates') : l.type;
      seen.add(`${l.target}|${relation}`);
      out.push(linkTo(l.target, l.type, relation, 'outward', it?.tracker));
    }
    for (const l of inward.get(ref) ?? []) {
      if (seen.has(`${l.source}|${l.relation}`)) continue;
      seen.add(`${l.source}|${l.relation}`);
      out.push(linkTo(l.source, l.type, l.relation, 'inward', it?.tracker));
    }
    return out;
  }

  function linkTo(ref: string, type: string, relation: string, direction: string, selfTracker?: string): CelLink {
    const link = new CelLink();
    link.ref = ref;
    link.type = type;
    link.relation = relation;
    link.direction = direction;
    const other = byRef.get(ref);
    link.crossTracker = type === 'cross_tracker';
    // An item deleted from its tracker reads like one never synced (`found` false, `deleted`
    // false): what a run concludes must not depend on whether it stored the item before it
    // went. The trackers drop such links themselves (Jira deletes them with the issue, Azure
    // DevOps hides them while the item is in the Recycle Bin); only a cross-tracker pointer
    // outlives its target, and pmo-sync cannot tell a deleted target from one it never synced.
    if (!other || other.deletedAt) return link;
    const c = graph.celItem(ref);
    link.found = true;
    link.crossTracker ||= selfTracker !== undefined && selfTracker !== other.tracker;
    link.key = other.key;
    link.tracker = other.tracker;
    link.project = other.project;
    link.kind = other.kind;
    link.title = other.title;
    link.status = other.status;
    link.statusCategory = other.statusCategory;
    if (c.due) link.due = c.due;
    if (c.resolved) link.resolved = c.resolved;
    link.reopened = c.reopened === true;
    return link;
  }

  return graph;
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

function addItem(agg: CelChildren, it: GraphItem, c: CelItem, nowMs: number): void {
  agg.total++;
  const sc = it.statusCategory;
  if (sc === 'todo') agg.todo++;
  else if (sc === 'in_progress') agg.inProgress++;
  else if (sc === 'done') agg.done++;
  else agg.removed++;
  const open = sc === 'todo' || sc === 'in_progress';
  if (open) agg.open++;
  if (sc !== 'removed' && typeof it.points === 'number') {
    agg.points += it.points;
    if (sc === 'done') agg.pointsDone += it.points;
  }
  if (c.start && (!agg.earliestStart || c.start < agg.earliestStart)) agg.earliestStart = c.start;
  if (c.due && sc !== 'removed') {
    if (!agg.earliestDue || c.due < agg.earliestDue) agg.earliestDue = c.due;
    if (!agg.latestDue || c.due > agg.latestDue) agg.latestDue = c.due;
    if (open && c.due.getTime() < nowMs) {
      agg.overdue++;
      agg.anyOverdue = true;
    }
  }
}

function mergeInto(agg: CelChildren, sub: CelChildren): void {
  agg.total += sub.total;
  agg.todo += sub.todo;
  agg.inProgress += sub.inProgress;
  agg.done += sub.done;
  agg.removed += sub.removed;
  agg.open += sub.open;
  agg.overdue += sub.overdue;
  agg.anyOverdue ||= sub.anyOverdue;
  agg.points += sub.points;
  agg.pointsDone += sub.pointsDone;
  if (sub.earliestStart && (!agg.earliestStart || sub.earliestStart < agg.earliestStart)) {
    agg.earliestStart = sub.earliestStart;
  }
  if (sub.earliestDue && (!agg.earliestDue || sub.earliestDue < agg.earliestDue)) agg.earliestDue = sub.earliestDue;
  if (sub.latestDue && (!agg.latestDue || sub.latestDue > agg.latestDue)) agg.latestDue = sub.latestDue;
}

function toDate(v: string | null | undefined): Date | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** What a PMO analyst means by "filled in": not null, not blank text, not an empty list or object. */
function isSet(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && !(v instanceof Date)) return Object.keys(v).length > 0;
  return true;
}

/** The model → CEL: nulls and blank strings dropped, ISO strings to timestamps. */
export function toCelItem(it: WorkItem): CelItem {
  const c = new CelItem();
  c.ref = it.ref;
  c.connection = it.connection;
  c.tracker = it.tracker;
  c.key = it.key;
  c.project = it.project;
  c.kind = it.kind;
  c.type = it.type;
  c.title = it.title;
  c.status = it.status;
  c.statusCategory = it.statusCategory;
  if (it.assignee) c.assignee = new CelPerson(it.assignee.id, it.assignee.name);
  if (it.owner) c.owner = new CelPerson(it.owner.id, it.owner.name);
  if (isSet(it.priority)) c.priority = it.priority!;
  c.labels = it.labels ?? [];
  const created = toDate(it.created);
  if (created) c.created = created;
  const updated = toDate(it.updated);
  if (updated) c.updated = updated;
  const started = toDate(it.started);
  if (started) c.started = started;
  const resolved = toDate(it.resolved);
  if (resolved) c.resolved = resolved;
  const start = toDate(it.start);
  if (start) c.start = start;
  const due = toDate(it.due);
  if (due) c.due = due;
  if (typeof it.points === 'number') c.points = it.points;
  if (typeof it.estimateHours === 'number') c.estimateHours = it.estimateHours;
  if (typeof it.remainingHours === 'number') c.remainingHours = it.remainingHours;
  if (it.parent) c.parent = it.parent;
  c.links = (it.links ?? []).map(
    (l): Record<string, string> =>
      l.relation ? { type: l.type, target: l.target, relation: l.relation } : { type: l.type, target: l.target },
  );
  if (it.iteration) {
    const i = new CelIteration();
    i.name = it.iteration.name;
    const s = toDate(it.iteration.start);
    if (s) i.start = s;
    const e = toDate(it.iteration.end);
    if (e) i.end = e;
    c.iteration = i;
  }
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(it.fields ?? {})) if (isSet(v)) fields[k] = v;
  c.fields = fields;
  c.url = it.url;
  c.revision = it.revision;
  if (it.raw !== null && it.raw !== undefined) c.raw = it.raw;
  c.open = it.statusCategory === 'todo' || it.statusCategory === 'in_progress';
  c.reopened = Boolean(resolved) && it.statusCategory !== 'done' && it.statusCategory !== 'removed';
  return c;
}
