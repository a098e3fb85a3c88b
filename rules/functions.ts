// Rules that CEL cannot express well because they look across many items: WIP per owner and
// dependency cycles. A rule file refers to one with `function: <id>`; it gets the same input as
// a CEL rule plus the item graph, and answers the same two questions (applies? holds?).
import type { ItemGraph } from './graph.ts';
import type { RuleFunction, RuleInput } from './types.ts';

export type { RuleFunction, RuleInput } from './types.ts';

const WORK_KINDS = new Set(['story', 'bug', 'task', 'subtask']);
const BLOCKING = new Set(['blocked_by', 'depends_on']);

function num(v: unknown, fallback: number): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  return fallback;
}

function kindsParam(v: unknown): Set<string> {
  return Array.isArray(v) ? new Set(v.map(String)) : WORK_KINDS;
}

// Counts per graph, owner and kinds: every in-progress item of a busy owner asks the same
// question, and counting the owner's items each time made a full evaluation quadratic in the
// size of the largest owner's workload.
const wipCounts = new WeakMap<ItemGraph, Map<string, number>>();

/** In-progress work items of the item's owner, counting the item itself. */
export function ownerWip(input: RuleInput): number {
  const owner = input.ctx.item.owner;
  if (!owner) return 0;
  const kindsValue = input.ctx.params.kinds;
  const key = `${owner.id}\u0000${Array.isArray(kindsValue) ? kindsValue.map(String).sort().join('\u0001') : '*'}`;
  let counts = wipCounts.get(input.graph);
  if (!counts) {
    counts = new Map();
    wipCounts.set(input.graph, counts);
  }
  const known = counts.get(key);
  if (known !== undefined) return known;
  const kinds = kindsParam(kindsValue);
  let n = 0;
  for (const it of input.graph.ownerItems(owner.id)) if (kinds.has(it.kind)) n++;
  counts.set(key, n);
  return n;
}

const wipPerOwner: RuleFunction = {
  id: 'wip-per-owner',
  description: 'in-progress work items per owner ≤ params.limit (params.kinds: which kinds count)',
  applies: ({ ctx }) =>
    ctx.item.statusCategory === 'in_progress' &&
    ctx.item.owner !== undefined &&
    kindsParam(ctx.params.kinds).has(ctx.item.kind ?? ''),
  check: (input) => ownerWip(input) <= num(input.ctx.params.limit, 3),
  affects(graph, ref) {
    const owner = graph.get(ref)?.owner;
    return owner ? graph.ownerItems(owner.id).map((i) => i.ref) : [];
  },
};

/** True when following blocked_by/depends_on links from `ref` comes back to `ref`. */
export function inDependencyCycle(graph: ItemGraph, ref: string): boolean {
  const seen = new Set<string>();
  const stack = [ref];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    for (const l of graph.celLinks(cur)) {
      if (!BLOCKING.has(l.relation) || !l.found) continue;
      if (l.ref === ref) return true;
      if (!seen.has(l.ref)) {
        seen.add(l.ref);
        stack.push(l.ref);
      }
    }
  }
  return false;
}

const dependencyCycle: RuleFunction = {
  id: 'dependency-cycle',
  description: 'the item is not part of a cycle of blocked_by/depends_on links',
  applies: ({ ctx }) => ctx.item.open === true && ctx.links.some((l) => BLOCKING.has(l.relation)),
  check: ({ graph, ref }) => !inDependencyCycle(graph, ref),
};

/** Ids of the built-in TypeScript rules (they never read `item.raw`). */
export const BUILT_IN_FUNCTIONS: ReadonlySet<string> = new Set(['wip-per-owner', 'dependency-cycle']);

/**
 * Built-in TypeScript rules whose result on an item follows its owner's workload (every
 * in-progress item of that owner) besides the item itself: an item that changes owner moves it
 * for every other item of the owners it leaves and joins.
 */
export const WORKLOAD_FUNCTIONS: ReadonlySet<string> = new Set(['wip-per-owner']);

/** The TypeScript rules a rule file may name with `function:`; extra ones can be passed in. */
export function createRuleFunctions(extra: RuleFunction[] = []): Map<string, RuleFunction> {
  return new Map([wipPerOwner, dependencyCycle, ...extra].map((f) => [f.id, f]));
}
