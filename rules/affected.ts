// What a change to stored items can affect, and how a large evaluation splits into chunks of
// whole item trees: walks over item shapes and links held in memory, no database. The loads
// that fill them are src/findings/load-items.ts.
import type { GraphItem } from './graph.ts';

/**
 * Items a walk along dependency links visits at most to find what a change can put into or
 * take out of a cycle. A change whose component is larger leaves the farthest items to the
 * next full pass; real dependency graphs are far smaller.
 */
export const CYCLE_REACH = 5000;

/** Items a chunk holds at most, unless one tree is larger (a tree is never split). */
export const EVALUATION_CHUNK = 5000;

/** Link types a dependency cycle runs through. */
export const BLOCKING_TYPES = new Set(['blocks', 'blocked_by', 'depends_on', 'required_by', 'cross_tracker']);

/** One slice of a large evaluation: whole item trees, and which of their items to evaluate. */
export interface EvaluationChunk {
  /** Every item of the chunk's trees (their `parent` and `children` never leave the chunk). */
  members: string[];
  /** Refs to evaluate; may name refs that are not stored (their findings resolve). */
  evaluate: string[];
}

/** The same walk over links held in memory (`blocking`: neighbours both ways). */
export function blockingReachInMemory(
  blocking: ReadonlyMap<string, readonly string[]>,
  start: Iterable<string>,
): string[] {
  const reached = new Set(start);
  const out: string[] = [];
  let frontier = [...reached];
  while (frontier.length > 0 && reached.size < CYCLE_REACH) {
    const next: string[] = [];
    for (const ref of frontier) {
      for (const n of blocking.get(ref) ?? []) {
        if (reached.has(n) || reached.size >= CYCLE_REACH) continue;
        reached.add(n);
        out.push(n);
        next.push(n);
      }
    }
    frontier = next;
  }
  return out;
}

/** What expanding a change set needs to know of a stored item. */
export interface ItemShape {
  ref: string;
  parent: string | null;
  owner: string | null;
  /** Not deleted and in progress: part of its owner's WIP. */
  active: boolean;
  /** Targets of its outward links. */
  links: readonly string[];
}

export const shapeOf = (it: GraphItem): ItemShape => ({
  ref: it.ref,
  parent: it.parent,
  owner: it.owner?.id ?? null,
  active: !it.deletedAt && it.statusCategory === 'in_progress',
  links: it.links.map((l) => l.target),
});

/** The same expansion as loadAffected, over the shapes of every stored item, in one pass. */
export function affectedInMemory(
  all: readonly ItemShape[],
  changed: readonly string[],
  leftOwners: readonly string[] = [],
  blocking?: ReadonlyMap<string, readonly string[]>,
): Set<string> {
  const changedSet = new Set(changed);
  const targets = new Set(changed);
  // A first sync changes every stored item: ancestors, children, linkers and owners' work are
  // all among them already, and only link targets never stored can add to the set.
  if (changedSet.size >= all.length && all.every((i) => changedSet.has(i.ref))) {
    for (const it of all) for (const t of it.links) targets.add(t);
    return targets;
  }
  if (blocking) for (const r of blockingReachInMemory(blocking, changed)) targets.add(r);
  const byRef = new Map(all.map((i) => [i.ref, i]));
  for (const ref of changed) {
    // Ancestors (cycle-safe: a ref already targeted stops the climb).
    let p = byRef.get(ref)?.parent;
    while (p && !targets.has(p)) {
      targets.add(p);
      p = byRef.get(p)?.parent;
    }
    for (const t of byRef.get(ref)?.links ?? []) targets.add(t);
  }
  const owners = new Set(changed.map((r) => byRef.get(r)?.owner).filter((o): o is string => !!o));
  for (const o of leftOwners) owners.add(o);
  for (const it of all) {
    if (it.parent && changedSet.has(it.parent)) targets.add(it.ref);
    if (it.links.some((t) => changedSet.has(t))) targets.add(it.ref);
    if (it.active && it.owner && owners.has(it.owner)) targets.add(it.ref);
  }
  return targets;
}

/**
 * Every stored item (`parentOf`: ref to parent) grouped into chunks of whole trees of at most
 * `maxItems` items (a larger tree is one chunk), each with the refs of `evaluate` among its
 * members; `evaluate` null evaluates every item. Refs of `evaluate` that are not stored go in
 * the last chunk.
 */
export function treeChunks(
  parentOf: ReadonlyMap<string, string | null>,
  evaluate: ReadonlySet<string> | null,
  maxItems = EVALUATION_CHUNK,
): EvaluationChunk[] {
  // Each item's tree is named by its top: the highest ancestor stored, or the smallest ref of
  // a parent cycle (the same whichever member the climb starts from).
  const rootOf = new Map<string, string>();
  const topOf = (ref: string): string => {
    const known = rootOf.get(ref);
    if (known) return known;
    const path = [ref];
    let root: string | undefined;
    for (;;) {
      const cur = path[path.length - 1]!;
      const p = parentOf.get(cur);
      if (!p || !parentOf.has(p)) {
        root = cur;
        break;
      }
      const seen = rootOf.get(p);
      if (seen) {
        root = seen;
        break;
      }
      // Parent chains are a few levels deep: a scan of the path beats a set per item.
      const at = path.indexOf(p);
      if (at >= 0) {
        root = path.slice(at).reduce((a, b) => (b < a ? b : a));
        break;
      }
      path.push(p);
    }
    for (const r of path) rootOf.set(r, root);
    return root;
  };
  const trees = new Map<string, string[]>();
  for (const ref of parentOf.keys()) pushTo(trees, topOf(ref), ref);

  const chunks: EvaluationChunk[] = [];
  let current: EvaluationChunk = { members: [], evaluate: [] };
  for (const members of trees.values()) {
    const wanted = evaluate ? members.filter((r) => evaluate.has(r)) : members;
    if (wanted.length === 0) continue;
    if (current.members.length > 0 && current.members.length + members.length > maxItems) {
      chunks.push(current);
      current = { members: [], evaluate: [] };
    }
    current.members.push(...members);
    current.evaluate.push(...wanted);
  }
  // Refs that are not stored (a link to an item never synced) resolve whatever they had.
  for (const ref of evaluate ?? []) if (!parentOf.has(ref)) current.evaluate.push(ref);
  if (current.evaluate.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The refs a chunk's evaluation reads: its members, the items linked to them either way, and
 * every item a dependency cycle through them could pass (the blocking links' closure).
 */
export function chunkRefs(
  chunk: EvaluationChunk,
  links: { linked: ReadonlyMap<string, readonly string[]>; blocking: ReadonlyMap<string, readonly string[]> },
): string[] {
  const members = new Set(chunk.members);
  const context = new Set<string>();
  for (const ref of members) for (const n of links.linked.get(ref) ?? []) if (!members.has(n)) context.add(n);
  let frontier = [...members, ...context];
  const reached = new Set(frontier);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const ref of frontier) {
      for (const n of links.blocking.get(ref) ?? []) {
        if (reached.has(n)) continue;
        reached.add(n);
        context.add(n);
        next.push(n);
      }
    }
    frontier = next;
  }
  return [...members, ...context];
}

export function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}
