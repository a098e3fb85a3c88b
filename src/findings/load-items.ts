// Loads the stored items an evaluation needs. Incremental: given the refs that changed, it
// expands to everything their change can affect (ancestors, direct children, items linked
// either way, same-owner work in progress) and loads only the context those need. The tracker's
// `raw` JSON is the heaviest column and is read only when a rule asks for it.
import { and, eq, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { coversMostItems, inList, queryRows, textArray } from '../../db/query.ts';
import { forecasts, itemLinks, workItems } from '../../db/schema.ts';
import { selectRows } from '../../db/select.ts';
import {
  affectedInMemory,
  BLOCKING_TYPES,
  CYCLE_REACH,
  chunkRefs,
  EVALUATION_CHUNK,
  type EvaluationChunk,
  type ItemShape,
  pushTo,
  shapeOf,
  treeChunks,
} from '../../rules/affected.ts';
import type { GraphItem, ItemForecast, OwnerWork } from '../../rules/graph.ts';

export interface ItemLoadOptions {
  /** Read the tracker's raw JSON too (only rules that use `item.raw` need it). */
  raw?: boolean;
}

export interface AffectedOptions extends ItemLoadOptions {
  /** Owner ids whose in-progress items a change affects besides the changed items' own owners. */
  owners?: readonly string[];
  /**
   * Put the items the change reaches only through an owner's workload (in progress for an owner
   * a changed item has or had, and affected no other way) in `workload`, without their context:
   * they are evaluated with the rules that count an owner's items alone (rules/pass.ts
   * workloadRules). Otherwise they are in `evaluate` with everything else.
   */
  workload?: boolean;
}

/** What a change set affects: see loadAffected. */
export interface Affected {
  /** Refs to evaluate with every rule. */
  evaluate: string[];
  /** Refs affected only through their owner's workload (AffectedOptions.workload). */
  workload: string[];
  /** The items both need: the affected ones and their context. */
  items: GraphItem[];
}

export const CHUNK = 5000;

/**
 * Rows one read of items or findings returns at most while an evaluation runs. Embedded PGlite
 * runs each statement on this thread, so one large read holds up every request the server is
 * answering (`/healthz` must answer within a second whatever the rules and items are); small
 * reads give the event loop turns between them at a cost Postgres does not notice.
 */
export const READ_BATCH = 1000;

export function chunks<T>(xs: readonly T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const ALL_COLUMNS = getTableColumns(workItems);
const { raw: _raw, ...LEAN_COLUMNS } = ALL_COLUMNS;

// Through selectRows: these reads carry every item of a first sync.
async function selectItems(db: Db, opts: ItemLoadOptions, where?: SQL): Promise<object[]> {
  const rows = opts.raw
    ? await selectRows(db, ALL_COLUMNS, workItems, where)
    : await selectRows(db, LEAN_COLUMNS, workItems, where);
  await attachForecasts(db, rows);
  return rows;
}

/** Containers' stored forecasts, as `forecast` in CEL sees them: one read for the containers only. */
async function attachForecasts(db: Db, rows: { ref: string; kind: string }[]): Promise<void> {
  const containers = rows.filter((r) => r.kind === 'epic' || r.kind === 'feature' || r.kind === 'initiative');
  if (containers.length === 0) return;
  const byScope = new Map(containers.map((r) => [`epic:${r.ref}`, r as { forecast?: ItemForecast | null }]));
  for (const c of chunks([...byScope.keys()])) {
    const found = await selectRows(db, FORECAST_COLUMNS, forecasts, inList(forecasts.scope, c));
    for (const f of found) {
      const row = byScope.get(f.scope);
      if (row)
        row.forecast = {
          status: f.status,
          confidence: f.confidence,
          unit: f.unit,
          remaining: f.remaining,
          p50: f.p50,
          p85: f.p85,
          p95: f.p95,
          onTimeProbability: f.onTimeProbability,
        };
    }
  }
}

const FORECAST_COLUMNS = {
  scope: forecasts.scope,
  status: forecasts.status,
  confidence: forecasts.confidence,
  unit: forecasts.unit,
  remaining: forecasts.remaining,
  p50: forecasts.p50,
  p85: forecasts.publishedP85,
  p95: forecasts.p95,
  onTimeProbability: forecasts.publishedOnTime,
};

function toGraphItem(r: object): GraphItem {
  return r as GraphItem;
}

async function itemsByRefs(
  db: Db,
  refs: Iterable<string>,
  have: Map<string, GraphItem>,
  opts: ItemLoadOptions,
): Promise<GraphItem[]> {
  const want = [...new Set(refs)].filter((r) => !have.has(r));
  const out: GraphItem[] = [];
  for (const c of chunks(want)) {
    for (const r of await selectItems(db, opts, inList(workItems.ref, c))) {
      const it = toGraphItem(r);
      have.set(it.ref, it);
      out.push(it);
    }
  }
  return out;
}

async function childrenOf(db: Db, parents: string[], opts: ItemLoadOptions): Promise<GraphItem[]> {
  const out: GraphItem[] = [];
  for (const c of chunks(parents)) {
    const rows = await selectItems(db, opts, inList(workItems.parent, c));
    out.push(...rows.map(toGraphItem));
  }
  return out;
}

async function childRefs(db: Db, parents: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of chunks(parents)) {
    const rows = await db.select({ ref: workItems.ref }).from(workItems).where(inList(workItems.parent, c));
    for (const r of rows) out.push(r.ref);
  }
  return out;
}

async function linkedRefs(db: Db, refs: string[], items: Map<string, GraphItem>): Promise<string[]> {
  const out = new Set<string>();
  for (const ref of refs) for (const l of items.get(ref)?.links ?? []) out.add(l.target);
  for (const c of chunks(refs)) {
    const rows = await db.select({ source: itemLinks.source }).from(itemLinks).where(inList(itemLinks.target, c));
    for (const r of rows) out.add(r.source);
  }
  return [...out];
}

async function ownersWip(db: Db, ownerIds: string[], opts: ItemLoadOptions): Promise<GraphItem[]> {
  const out: GraphItem[] = [];
  for (const c of chunks(ownerIds)) {
    const rows = await selectItems(
      db,
      opts,
      and(
        eq(workItems.statusCategory, 'in_progress'),
        isNull(workItems.deletedAt),
        inList(sql<string>`${workItems.owner}->>'id'`, c),
      ),
    );
    out.push(...rows.map(toGraphItem));
  }
  return out;
}

/** What to evaluate for a set of changed refs, and the items its context needs. */
export async function loadAffected(db: Db, changed: string[], opts: AffectedOptions = {}): Promise<Affected> {
  // A change set covering most items (a first sync) is expanded in memory over one scan:
  // following parents, children and links level by level would read each row several times.
  if (await coversMostItems(db, changed)) {
    const all = await loadAllItems(db, opts);
    const blocking = new Map<string, string[]>();
    for (const it of all) {
      for (const l of it.links) {
        if (!BLOCKING_TYPES.has(l.type)) continue;
        pushTo(blocking, it.ref, l.target);
        pushTo(blocking, l.target, it.ref);
      }
    }
    return {
      evaluate: [...affectedInMemory(all.map(shapeOf), changed, opts.owners, blocking)],
      workload: [],
      items: all,
    };
  }
  const items = new Map<string, GraphItem>();
  await itemsByRefs(db, changed, items, opts);
  const targets = new Set(changed);
  // Ancestors: their children aggregates include the changed items.
  let frontier = changed;
  while (frontier.length > 0) {
    const parents = frontier.map((r) => items.get(r)?.parent).filter((p): p is string => !!p && !targets.has(p));
    for (const p of parents) targets.add(p);
    await itemsByRefs(db, parents, items, opts);
    frontier = parents;
  }
  // Direct children read `parent.*`; linked items read `links`; same-owner work reads WIP.
  for (const c of await childrenOf(db, changed, opts)) {
    items.set(c.ref, c);
    targets.add(c.ref);
  }
  for (const r of await linkedRefs(db, changed, items)) targets.add(r);
  // Whatever a dependency cycle through a changed item could pass: a link made or dropped
  // anywhere along it makes or breaks the cycle for every member, however far away.
  for (const r of await blockingReach(db, changed)) targets.add(r);
  const owners = new Set(changed.map((r) => items.get(r)?.owner?.id).filter((o): o is string => !!o));
  for (const o of opts.owners ?? []) owners.add(o);
  // Last: only what nothing above reached is affected through the workload alone.
  const workload: string[] = [];
  for (const it of await ownersWip(db, [...owners], opts)) {
    items.set(it.ref, it);
    if (opts.workload && !targets.has(it.ref)) workload.push(it.ref);
    else targets.add(it.ref);
  }
  const evaluate = [...targets];
  await itemsByRefs(db, evaluate, items, opts);
  // Context: parents, every descendant (aggregates), linked items both ways, owners' WIP.
  await itemsByRefs(
    db,
    evaluate.map((r) => items.get(r)?.parent).filter((p): p is string => !!p),
    items,
    opts,
  );
  // Level by level by ref only: most children are loaded already (an owner's work in progress
  // is often an epic's children), and only the others' rows are read.
  let level = evaluate.filter((r) => items.has(r));
  const seen = new Set(level);
  while (level.length > 0) {
    const kids = (await childRefs(db, level)).filter((k) => !seen.has(k));
    for (const k of kids) seen.add(k);
    await itemsByRefs(db, kids, items, opts);
    level = kids;
  }
  await itemsByRefs(db, await linkedRefs(db, evaluate, items), items, opts);
  // Owners whose work in progress is loaded already are not read again.
  const more = new Set(evaluate.map((r) => items.get(r)?.owner?.id).filter((o): o is string => !!o));
  for (const o of owners) more.delete(o);
  for (const it of await ownersWip(db, [...more], opts)) if (!items.has(it.ref)) items.set(it.ref, it);
  return { evaluate, workload, items: [...items.values()] };
}

/**
 * Refs joined to `start` by dependency links (either direction, any distance), at most
 * CYCLE_REACH of them: the items whose cycle finding a change among `start` may change.
 */
async function blockingReach(db: Db, start: readonly string[]): Promise<string[]> {
  const reached = new Set(start);
  let frontier = [...start];
  const types = [...BLOCKING_TYPES];
  while (frontier.length > 0 && reached.size < CYCLE_REACH) {
    const next: string[] = [];
    for (const c of chunks(frontier)) {
      const rows = await queryRows<{ source: string; target: string }>(
        db,
        sql`select source, target from item_links
          where type = any(${textArray(types)}::text[]) and (${inList(sql`source`, c)} or ${inList(sql`target`, c)})`,
      );
      for (const r of rows) {
        for (const n of [r.source, r.target]) {
          if (reached.has(n) || reached.size >= CYCLE_REACH) continue;
          reached.add(n);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  for (const r of start) reached.delete(r);
  return [...reached];
}

/** Every stored item, deleted ones included (links to them must resolve as deleted). */
export async function loadAllItems(db: Db, opts: ItemLoadOptions = {}): Promise<GraphItem[]> {
  return (await selectItems(db, opts)).map(toGraphItem);
}

export interface ChunkedEvaluation {
  chunks: EvaluationChunk[];
  /** Non-deleted in-progress items per owner id, over every stored item (the WIP rule's view). */
  ownerWork: Map<string, OwnerWork[]>;
  /** Link neighbours of each ref (both directions), for the context a chunk's links need. */
  linked: Map<string, string[]>;
  /** Neighbours along links a dependency cycle can run through (blocks, depends on, cross-tracker). */
  blocking: Map<string, string[]>;
}

/**
 * Plans an evaluation over most of the store (a first or full sync) as chunks of whole trees,
 * so only one chunk's items and CEL values are in memory at a time: the item graph of a large
 * portfolio held at once took hundreds of megabytes. Reads every item's shape (ref, parent,
 * owner) and the link table, not the items. `changed` undefined evaluates every stored item,
 * deleted ones included; otherwise it is expanded as loadAffected does.
 */
export async function planEvaluationChunks(
  db: Db,
  changed: readonly string[] | undefined,
  maxItems = EVALUATION_CHUNK,
  leftOwners: readonly string[] = [],
): Promise<ChunkedEvaluation> {
  const [shape, links] = await Promise.all([
    selectRows(
      db,
      {
        ref: workItems.ref,
        parent: workItems.parent,
        kind: workItems.kind,
        owner: sql<string | null>`${workItems.owner}->>'id'`,
        active: sql<boolean>`${workItems.statusCategory} = 'in_progress' and ${workItems.deletedAt} is null`,
      },
      workItems,
    ),
    selectRows(db, { source: itemLinks.source, target: itemLinks.target, type: itemLinks.type }, itemLinks),
  ]);
  const parentOf = new Map<string, string | null>();
  const ownerWork = new Map<string, OwnerWork[]>();
  for (const r of shape) {
    parentOf.set(r.ref, r.parent);
    if (r.active && r.owner) pushTo(ownerWork, r.owner, { ref: r.ref, kind: r.kind });
  }
  const linked = new Map<string, string[]>();
  const blocking = new Map<string, string[]>();
  const outward = new Map<string, string[]>();
  for (const l of links) {
    pushTo(outward, l.source, l.target);
    pushTo(linked, l.source, l.target);
    pushTo(linked, l.target, l.source);
    if (BLOCKING_TYPES.has(l.type)) {
      pushTo(blocking, l.source, l.target);
      pushTo(blocking, l.target, l.source);
    }
  }

  // Everything, or what the change can affect (loadAffected's expansion).
  let evaluate: Set<string> | null = null;
  if (changed !== undefined) {
    // The rows become shapes in place: a copy of 150,000 of them is memory a first sync lacks.
    const shapes = shape as (typeof shape)[number][] & ItemShape[];
    for (const r of shapes) r.links = outward.get(r.ref) ?? [];
    evaluate = affectedInMemory(shapes, changed, leftOwners, blocking);
  }

  const chunks = treeChunks(parentOf, evaluate, maxItems);
  return { chunks, ownerWork, linked, blocking };
}

/**
 * The items a chunk's evaluation reads: its members, the items linked to them either way, and
 * every item a dependency cycle through them could pass (the blocking links' closure).
 */
export async function loadChunk(
  db: Db,
  chunk: EvaluationChunk,
  plan: Pick<ChunkedEvaluation, 'linked' | 'blocking'>,
  opts: ItemLoadOptions = {},
): Promise<GraphItem[]> {
  const refs = chunkRefs(chunk, plan);
  const out: GraphItem[] = [];
  for (const c of chunks(refs, READ_BATCH)) {
    for (const r of await selectItems(db, opts, inList(workItems.ref, c))) out.push(toGraphItem(r));
  }
  return out;
}
