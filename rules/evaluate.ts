// Pure rule evaluation over an item graph: no database, no clock. The DB layer (src/findings/),
// preview, the rule test runner and the benchmark all go through `evaluateItems`.
import { RuleBudgetError, resetMeter } from './budget.ts';
import type { CompiledRule } from './compile.ts';
import { EMPTY_ITEM, type GraphItem, type ItemGraph, toCelForecast } from './graph.ts';
import type { CelContext, RuleInput } from './types.ts';

export type { CelContext } from './types.ts';

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
    forecast: toCelForecast(it?.forecast),
    now: graph.now,
    params: {},
  };
}

/**
 * One rule on one item, within the rule's cost budget (budget.ts): a rule that spends it is an
 * error for this item, whatever its expressions returned on the way out.
 */
export function evaluateRule(
  rule: CompiledRule,
  input: RuleInput,
): { outcome: Outcome; message?: string; error?: string } {
  resetMeter(rule.meter);
  let result: { outcome: Outcome; message?: string; error?: string };
  try {
    input.ctx.params = rule.params;
    if (!rule.applies(input)) result = { outcome: 'skip' };
    else if (rule.check(input)) result = { outcome: 'pass' };
    else result = { outcome: 'fail', message: rule.message(input) };
  } catch (e) {
    result = { outcome: 'error', error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
  // cel-js turns errors inside `||`, `&&` and quantifiers into values, so a spent budget is
  // read from the meter, not from what reached here.
  if (rule.meter.exceeded) return { outcome: 'error', error: new RuleBudgetError(rule.meter.limit).message };
  return result;
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
    const input = inputFor(graph, ref);
    if ('reason' in input) {
      failed.push({ ref, reason: input.reason });
      continue;
    }
    results.push(res);
    for (const rule of rules) {
      checks++;
      if (!inScope(rule, it)) continue;
      record(res, rule.id, evaluateRule(rule, input));
    }
  }
  return failed.length > 0 ? { results, checks, failed } : { results, checks };
}

/** The context rules read for `ref`, or why one item's data could not make one (the others go on). */
function inputFor(graph: ItemGraph, ref: string): RuleInput | { reason: string } {
  try {
    return { ref, ctx: contextFor(graph, ref), graph };
  } catch (e) {
    // A parent chain deeper than the stack, say.
    return { reason: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
  }
}

function record(res: ItemResult, ruleId: string, r: ReturnType<typeof evaluateRule>): void {
  if (r.outcome === 'pass' || r.outcome === 'fail') res.applicable++;
  if (r.outcome === 'fail') res.fails.set(ruleId, r.message ?? '');
  else if (r.outcome === 'error') res.errors.set(ruleId, r.error ?? '');
}

export interface SliceOptions {
  /** Longest stretch of evaluation between two turns of the event loop (20 ms). */
  sliceMs?: number;
  /** Lets the event loop run; tests count the calls. */
  pause?: () => Promise<void>;
  /** Milliseconds, monotonic; tests pass their own. */
  clock?: () => number;
}

const nextTurn = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * evaluateItems that gives the event loop a turn whenever it has run for `sliceMs`, checked
 * after every rule on every item: each of those is bounded by the rule budget, so `/healthz`
 * and webhooks keep being answered while any rule set evaluates, however large the change.
 */
export async function evaluateItemsSliced(
  graph: ItemGraph,
  rules: readonly CompiledRule[],
  refs: Iterable<string>,
  opts: SliceOptions = {},
): Promise<EvaluationRun> {
  const sliceMs = opts.sliceMs ?? 20;
  const pause = opts.pause ?? nextTurn;
  const clock = opts.clock ?? (() => performance.now());
  const results: ItemResult[] = [];
  let checks = 0;
  const failed: { ref: string; reason: string }[] = [];
  let since = clock();
  for (const ref of refs) {
    const res: ItemResult = { ref, fails: new Map(), errors: new Map(), applicable: 0 };
    const it = graph.get(ref);
    if (!it || it.deletedAt) {
      results.push(res);
      continue;
    }
    const input = inputFor(graph, ref);
    if ('reason' in input) {
      failed.push({ ref, reason: input.reason });
      continue;
    }
    results.push(res);
    for (const rule of rules) {
      checks++;
      if (!inScope(rule, it)) continue;
      record(res, rule.id, evaluateRule(rule, input));
      if (clock() - since >= sliceMs) {
        await pause();
        since = clock();
      }
    }
  }
  return failed.length > 0 ? { results, checks, failed } : { results, checks };
}
