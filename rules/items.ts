// Loads the stored items an evaluation needs. Incremental: given the refs that changed, it
// expands to everything their change can affect (ancestors, direct children, items linked
// either way, same-owner work in progress) and loads only the context those need. The tracker's
// `raw` JSON is the heaviest column and is read only when a rule asks for it.
import { and, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { coversMostItems, inList } from '../db/query.ts';
import { itemLinks, workItems } from '../db/schema.ts';
import type { GraphItem } from './graph.ts';

export interface ItemLoadOptions {
  /** Read the tracker's raw JSON too (only rules that use `item.raw` need it). */
  raw?: boolean;
}

export const CHUNK = 5000;

export function chunks<T>(xs: readonly T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const { raw: _raw, ...LEAN_COLUMNS } = getTableColumns(workItems);

function selectItems(db: Db, opts: ItemLoadOptions) {
  return opts.raw ? db.select().from(workItems) : db.select(LEAN_COLUMNS).from(workItems);
}

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
    for (const r of await selectItems(db, opts).where(inList(workItems.ref, c))) {
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
    const rows = await selectItems(db, opts).where(inList(workItems.parent, c));
    out.push(...rows.map(toGraphItem));
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
    const rows = await selectItems(db, opts).where(
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
export async function loadAffected(
  db: Db,
  changed: string[],
  opts: ItemLoadOptions = {},
): Promise<{ evaluate: string[]; items: GraphItem[] }> {
  // A change set covering most items (a first sync) is expanded in memory over one scan:
  // following parents, children and links level by level would read each row several times.
  if (await coversMostItems(db, changed)) {
    const all = await loadAllItems(db, opts);
    return { evaluate: affectedInMemory(all, changed), items: all };
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
  const owners = changed.map((r) => items.get(r)?.owner?.id).filter((o): o is string => !!o);
  for (const it of await ownersWip(db, owners, opts)) {
    items.set(it.ref, it);
    targets.add(it.ref);
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
  let level = evaluate.filter((r) => items.has(r));
  const seen = new Set(level);
  while (level.length > 0) {
    const kids = (await childrenOf(db, level, opts)).filter((k) => !seen.has(k.ref));
    for (const k of kids) {
      seen.add(k.ref);
      items.set(k.ref, k);
    }
    level = kids.map((k) => k.ref);
  }
  await itemsByRefs(db, await linkedRefs(db, evaluate, items), items, opts);
  const owners2 = evaluate.map((r) => items.get(r)?.owner?.id).filter((o): o is string => !!o);
  for (const it of await ownersWip(db, [...new Set(owners2)], opts)) items.set(it.ref, it);
  return { evaluate, items: [...items.values()] };
}

/** The same expansion as loadAffected, over every stored item already in memory. */
function affectedInMemory(all: readonly GraphItem[], changed: readonly string[]): string[] {
  const byRef = new Map(all.map((i) => [i.ref, i]));
  const changedSet = new Set(changed);
  const targets = new Set(changed);
  for (const ref of changed) {
    // Ancestors (cycle-safe: a ref already targeted stops the climb).
    let p = byRef.get(ref)?.parent;
    while (p && !targets.has(p)) {
      targets.add(p);
      p = byRef.get(p)?.parent;
    }
    for (const l of byRef.get(ref)?.links ?? []) targets.add(l.target);
  }
  const owners = new Set(changed.map((r) => byRef.get(r)?.owner?.id).filter((o): o is string => !!o));
  for (const it of all) {
    if (it.parent && changedSet.has(it.parent)) targets.add(it.ref);
    if (it.links.some((l) => changedSet.has(l.target))) targets.add(it.ref);
    if (!it.deletedAt && it.statusCategory === 'in_progress' && it.owner && owners.has(it.owner.id))
      targets.add(it.ref);
  }
  return [...targets];
}

/** Every stored item, deleted ones included (links to them must resolve as deleted). */
export async function loadAllItems(db: Db, opts: ItemLoadOptions = {}): Promise<GraphItem[]> {
  return (await selectItems(db, opts)).map(toGraphItem);
}
