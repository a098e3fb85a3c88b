// One evaluation pass's findings, as plain data: which stored findings a pass may touch, the
// evaluation of refs over an item graph and the plan of their findings (plan.ts), what the
// pass adds up to (FindingsSummary), the counts a plan would leave. No database: src/findings/
// loads the items and stored findings, calls these, and writes the plan.
import type { CompiledRule } from './compile.ts';
import type { Waiver } from './config.ts';
import { type EvaluationRun, evaluateItemsSliced, type ItemResult } from './evaluate.ts';
import { BUILT_IN_FUNCTIONS, WORKLOAD_FUNCTIONS } from './functions.ts';
import type { ItemGraph } from './graph.ts';
import type { RuleSet } from './load.ts';
import { type FindingChange, type FindingsPlan, planFindings, type StoredFinding } from './plan.ts';

export interface FindingsSummary {
  /** Items evaluated. */
  evaluated: number;
  /** Item-rule checks made. */
  checks: number;
  /** Open findings in the database after this pass. */
  open: number;
  /** Findings that opened (or re-opened) in this pass. */
  opened: number;
  /** Findings resolved in this pass. */
  resolved: number;
  /** Waived findings in the database after this pass. */
  waived: number;
  /** Open findings by rule, database-wide. */
  byRule: Record<string, number>;
  /** Refs whose findings changed (status, message or severity): their write-back is due. */
  changedRefs: string[];
  /**
   * Rules that failed on some items in this pass (an error, or their cost budget spent): how
   * often and the first error. Their findings on those items are left as they were.
   */
  ruleErrors: RuleErrorSummary[];
  /** Items whose evaluation failed (EvaluationRun.failed): their findings were left as they were. */
  quarantined?: { ref: string; reason: string }[];
}

export interface RuleErrorSummary {
  rule: string;
  items: number;
  firstRef: string;
  error: string;
}

/** Open and waived findings, database-wide (countFindings), or as a plan leaves them. */
export interface FindingCounts {
  open: number;
  waived: number;
  /** Open findings by rule, sorted by rule id. */
  byRule: Record<string, number>;
}

/** The findings of `existing`'s refs once `plan` is written: open and waived ones only. */
export function findingsAfter(existing: readonly StoredFinding[], plan: FindingsPlan): StoredFinding[] {
  const byId = new Map<number, StoredFinding>();
  for (const f of existing) byId.set(f.id, f);
  for (const f of plan.updates) byId.set(f.id, f);
  const out: StoredFinding[] = [];
  for (const f of byId.values()) if (f.status === 'open' || f.status === 'waived') out.push(f);
  for (const f of plan.inserts) if (f.status === 'open' || f.status === 'waived') out.push({ ...f, id: 0 });
  return out;
}

/** Whether a rule may read the tracker's raw JSON; TypeScript rules are assumed to. */
export function readsRaw(rule: CompiledRule): boolean {
  const d = rule.def;
  return d.function !== undefined
    ? !BUILT_IN_FUNCTIONS.has(d.function)
    : /\braw\b/.test(`${d.applies} ${d.check ?? ''} ${d.message}`);
}

export type RuleErrors = Map<string, { count: number; ref: string; error: string }>;

/** Adds the rules that threw in `results` to `byRule`: how often, and the first error. */
export function collectErrors(byRule: RuleErrors, results: readonly ItemResult[]): RuleErrors {
  for (const r of results) {
    for (const [rule, error] of r.errors) {
      const seen = byRule.get(rule);
      if (seen) seen.count++;
      else byRule.set(rule, { count: 1, ref: r.ref, error });
    }
  }
  return byRule;
}

/**
 * One warning per rule that threw, with how often and the first error, not one per item; kept
 * on the rule set too, where `GET /api/v1/rules` shows it (load.ts describeRules).
 */
export function reportErrors(
  ruleSet: Pick<RuleSet, 'log'> & Partial<Pick<RuleSet, 'errors'>>,
  byRule: RuleErrors,
): void {
  const at = new Date().toISOString();
  for (const [rule, e] of byRule) {
    ruleSet.errors?.set(rule, { items: e.count, firstRef: e.ref, error: e.error, at });
    ruleSet.log?.warn({ rule, items: e.count, firstRef: e.ref }, `rule ${rule} failed on ${e.count} items: ${e.error}`);
  }
}

export function errorSummary(byRule: RuleErrors): RuleErrorSummary[] {
  return [...byRule]
    .map(([rule, e]) => ({ rule, items: e.count, firstRef: e.ref, error: e.error }))
    .sort((a, b) => a.rule.localeCompare(b.rule));
}

/** Rules whose stored findings this evaluation must leave alone. */
export function keptRules(ruleSet: Pick<RuleSet, 'rules' | 'problems' | 'knownIds'>): (rule: string) => boolean {
  const broken = new Set(ruleSet.problems.map((p) => p.ruleId));
  // A file that could not be read at all hides which rules it held: leave every unknown rule's
  // findings alone rather than resolve them all because of a typo.
  const fileBroken = broken.has('-');
  const active = new Set(ruleSet.rules.map((r) => r.id));
  return (rule) => !active.has(rule) && (broken.has(rule) || (fileBroken && !ruleSet.knownIds.has(rule)));
}

/**
 * The rules an item is evaluated with when nothing but its owner's workload changed (another
 * item of that owner changed, left or arrived): the built-in ones that count an owner's items.
 * Every other rule reads only the item, its parent, children, links and forecast, none of which
 * changed. Null when a rule set cannot be split so: a TypeScript rule other than the built-in
 * ones may read anything, and a workload rule whose own CEL (`applies`, message) reads more than
 * the item would need context such items are evaluated without.
 */
export function workloadRules(rules: readonly CompiledRule[]): CompiledRule[] | null {
  if (!chunkable({ rules })) return null;
  const out = rules.filter((r) => r.def.function !== undefined && WORKLOAD_FUNCTIONS.has(r.def.function));
  const beyondItem = /\b(parent|children|links|forecast|raw)\b/;
  return out.some((r) => beyondItem.test(`${r.def.applies} ${r.def.message}`)) ? null : out;
}

/**
 * Evaluates `refs` over `graph` and plans their findings against the `existing` ones.
 * `workload`: refs evaluated with those rules alone (workloadRules); `existing` holds only
 * their findings of those rules, so the plan leaves the others as they are, and `applicable`
 * leaves them out (their count of applicable rules did not change).
 */
export async function evaluateAndPlan(
  graph: ItemGraph,
  refs: Iterable<string>,
  existing: readonly StoredFinding[],
  rules: readonly CompiledRule[],
  opts: {
    now: Date;
    waivers: Waiver[];
    keep: (rule: string) => boolean;
    workload?: { refs: readonly string[]; rules: readonly CompiledRule[] };
  },
) {
  // Sliced: the event loop keeps turning however many items a webhook burst affects.
  const run = await evaluateItemsSliced(graph, rules, refs);
  const w = opts.workload;
  if (w && w.refs.length > 0) {
    const part = await evaluateItemsSliced(graph, w.rules, w.refs);
    for (const r of part.results) run.results.push(r);
    run.checks += part.checks;
    if (part.failed) run.failed = [...(run.failed ?? []), ...part.failed];
  }
  const planned = planRun(graph, run, existing, rules, opts);
  let reevaluated = 0;
  if (w)
    for (const ref of w.refs) {
      if (planned.applicable.delete(ref)) reevaluated++;
    }
  return { ...planned, reevaluated };
}

/** Plans an evaluation's findings against the `existing` ones (see evaluateAndPlan). */
export function planRun(
  graph: ItemGraph,
  run: EvaluationRun,
  existing: readonly StoredFinding[],
  rules: readonly CompiledRule[],
  opts: { now: Date; waivers: Waiver[]; keep: (rule: string) => boolean },
) {
  const plan = planFindings({
    results: run.results,
    existing,
    rules,
    item: (ref) => graph.get(ref),
    waivers: opts.waivers,
    now: opts.now,
    keep: opts.keep,
  });
  // Rules that applied to each evaluated, live item: the compliance denominator. An item whose
  // findings could not be planned keeps its count too.
  const failed = new Set(plan.failed?.map((f) => f.ref));
  const applicable = new Map<string, number>();
  for (const r of run.results) {
    const it = graph.get(r.ref);
    if (it && !it.deletedAt && !failed.has(r.ref)) applicable.set(r.ref, r.applicable);
  }
  return { run, plan, applicable };
}

/** What a pass's findings changes add up to, for the summary (FindingsSummary). */
export function createTally() {
  const tally = { opened: 0, resolved: 0, changedRefs: new Set<string>() };
  const failed: { ref: string; reason: string }[] = [];
  return {
    fail(items: readonly { ref: string; reason: string }[] = []): void {
      for (const f of items) failed.push(f);
    },
    add(changes: readonly FindingChange[]): void {
      for (const c of changes) {
        tally.changedRefs.add(c.ref);
        if (c.kind === 'opened' || c.kind === 'reopened') tally.opened++;
        else if (c.kind === 'resolved') tally.resolved++;
      }
    },
    summary(counts: FindingCounts, evaluated: number, checks: number, ruleErrors: RuleErrorSummary[]): FindingsSummary {
      return {
        ruleErrors,
        evaluated,
        checks,
        open: counts.open,
        opened: tally.opened,
        resolved: tally.resolved,
        waived: counts.waived,
        byRule: counts.byRule,
        changedRefs: [...tally.changedRefs].sort(),
        ...(failed.length > 0 ? { quarantined: failed } : {}),
      };
    },
  };
}

/** The counts a plan would leave behind, from the counts before it. */
export function projectCounts(before: FindingCounts, changes: readonly FindingChange[]): FindingCounts {
  const byRule = { ...before.byRule };
  let { open, waived } = before;
  for (const c of changes) {
    if (c.from === c.to) continue;
    if (c.from === 'open') {
      open--;
      byRule[c.rule] = (byRule[c.rule] ?? 1) - 1;
      if (byRule[c.rule] === 0) delete byRule[c.rule];
    }
    if (c.from === 'waived') waived--;
    if (c.to === 'open') {
      open++;
      byRule[c.rule] = (byRule[c.rule] ?? 0) + 1;
    }
    if (c.to === 'waived') waived++;
  }
  return { open, waived, byRule: Object.fromEntries(Object.entries(byRule).sort(([a], [b]) => a.localeCompare(b))) };
}

/**
 * Whether an evaluation may run over part of the store at a time. TypeScript rules other than
 * the built-in ones get the whole item graph: they may look at any item.
 */
export function chunkable(ruleSet: { rules: readonly CompiledRule[] }): boolean {
  return ruleSet.rules.every((r) => r.def.function === undefined || BUILT_IN_FUNCTIONS.has(r.def.function));
}
