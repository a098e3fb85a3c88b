// Pure rule evaluation over an item graph: no database, no clock. The DB layer (findings.ts),
// preview, the rule test runner and the benchmark all go through `evaluateItems`.
import type { CelChildren, CelItem, CelLink } from './cel-env.ts';
import type { CompiledRule } from './compile.ts';
import type { RuleInput } from './functions.ts';
import { EMPTY_ITEM, type GraphItem, type ItemGraph } from './graph.ts';

export interface CelContext {
  item: CelItem;
  parent: CelItem;
  children: CelChildren;
  links: CelLink[];
  now: Date;
  params: Record<string, unknown>;
}

export type Outcome = 'pass' | 'fail' | 'skip' | 'error';

export interface ItemResult {
  ref: string;
  /** Failed rules and the message the team will read. */
  fails: Map<string, string>;
  /** Rules that threw on this item: their findings are left as they are. */
  errors: Map<string, string>;
  /** Rules that applied (passed or failed): the denominator of the item's compliance score. */
  applicable: number;
}

export interface EvaluationRun {
  results: ItemResult[];
  /** Item-rule pairs looked at (scope, applies and, where it applies, check). */
  checks: number;
  /**
   * Items whose evaluation failed outside any one rule (building their context threw): they have
   * no result, so their findings stay as they are, and the sync quarantines them.
   */
  failed?: { ref: string; reason: string }[];
}

export function inScope(rule: CompiledRule, it: GraphItem): boolean {
  const s = rule.scope;
  if (!s) return true;
  if (s.connections && !s.connections.includes(it.connection)) return false;
  if (s.kinds && !s.kinds.includes(it.kind)) return false;
  if (s.projects && !s.projects.includes(it.project) && !s.projects.includes(`${it.connection}:${it.project}`)) {
    return false;
  }
  return true;
}

/** The CEL context of one item; `params` is swapped per rule. */
export function contextFor(graph: ItemGraph, ref: string): CelContext {
  const it = graph.get(ref);
  return {
    item: graph.celItem(ref),
    parent: it?.parent ? graph.celItem(it.parent) : EMPTY_ITEM,
    children: graph.celChildren(ref),
    links: graph.celLinks(ref),
    now: graph.now,
    params: {},
  };
}

/** One rule on one item. */
export function evaluateRule(
  rule: CompiledRule,
  input: RuleInput,
): { outcome: Outcome; message?: string; error?: string } {
  try {
    input.ctx.params = rule.params;
    if (!rule.applies(input)) return { outcome: 'skip' };
    if (rule.check(input)) return { outcome: 'pass' };
    return { outcome: 'fail', message: rule.message(input) };
  } catch (e) {
    return { outcome: 'error', error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

/** Evaluates `rules` on each of `refs` (deleted or unknown refs give empty results). */
export function evaluateItems(graph: ItemGraph, rules: readonly CompiledRule[], refs: Iterable<string>): EvaluationRun {
  const results: ItemResult[] = [];
  let checks = 0;
  const failed: { ref: string; reason: string }[] = [];
  for (const ref of refs) {
    const res: ItemResult = { ref, fails: new Map(), errors: new Map(), applicable: 0 };
    const it = graph.get(ref);
    if (!it || it.deletedAt) {
      results.push(res);
      continue;
    }
    let input: RuleInput;
    try {
      input = { ref, ctx: contextFor(graph, ref), graph };
    } catch (e) {
      // One item's data broke its context (a parent chain deeper than the stack): the others go on.
      failed.push({ ref, reason: e instanceof Error ? e.message.split('\n')[0]! : String(e) });
      continue;
    }
    results.push(res);
    for (const rule of rules) {
      checks++;
      if (!inScope(rule, it)) continue;
      const r = evaluateRule(rule, input);
      if (r.outcome === 'pass' || r.outcome === 'fail') res.applicable++;
      if (r.outcome === 'fail') res.fails.set(rule.id, r.message ?? '');
      else if (r.outcome === 'error') res.errors.set(rule.id, r.error ?? '');
    }
  }
  return failed.length > 0 ? { results, checks, failed } : { results, checks };
}
