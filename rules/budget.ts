// The cost budget of CEL rules. Rules are written by people and run on items anyone can edit:
// a 3 KB rule of nested comprehensions blocked the event loop for 48 s, another built lists
// until the heap was gone. @marcbachmann/cel-js (8.x) has structural parse limits but no cost
// tracking, so this module adds both halves of what cel-go calls a cost budget:
//   - a static estimate of a checked expression at the item model's bounds (lists of
//     MODEL_BOUNDS.list entries, text of MODEL_BOUNDS.text characters): `rules lint` rejects a
//     rule whose worst case exceeds the budget (nested comprehensions over links × labels,
//     text doubled through cel.bind, …);
//   - a runtime meter: every node of a compiled expression is wrapped to charge one unit per
//     evaluation plus the size of the values an operation reads or builds, and to stop the
//     evaluation once the budget is spent. An item beyond the model's bounds then costs that
//     rule an error on that item, never the process.
// `matches` runs on RE2 (linear time, the syntax CEL specifies) instead of JavaScript's
// backtracking RegExp, where one pattern over a hostile title could take minutes.
import { RE2JS } from 're2js';

/** Cost units one rule may spend on one item (applies, check and message together). */
export const RULE_BUDGET = 500_000;

/**
 * Sizes the static estimate assumes: what a large but real item holds. Larger items are
 * possible (thousands of links on a hub epic); the runtime meter covers them.
 */
export const MODEL_BOUNDS = { list: 1_000, text: 10_000, map: 100 } as const;

/**
 * Characters of text that cost one unit to read (a comparison, `contains`, a regex), and the
 * factor by which building text costs more: what a rule builds is memory held, and text
 * doubled through cel.bind must run out of budget long before it runs out of heap.
 */
const TEXT_PER_UNIT = 64;
const BUILD_FACTOR = 16;

export class RuleBudgetError extends Error {
  constructor(limit: number) {
    super(
      `cost budget exceeded: the rule needed more than ${limit.toLocaleString('en-US')} steps on this item ` +
        '(nested comprehensions or large lists/text); it was stopped',
    );
    this.name = 'RuleBudgetError';
  }
}

/** Counts what one evaluation spends; one per compiled rule, reset per item. */
export interface Meter {
  limit: number;
  used: number;
  exceeded: boolean;
  /**
   * Thrown by every node once the budget is spent. One instance: cel-js's quantifiers catch an
   * error per element and go on to the next, and a new Error (with its stack) per element of
   * a list of 400,000 took seconds.
   */
  error: RuleBudgetError;
}

export function createMeter(limit = RULE_BUDGET): Meter {
  return { limit, used: 0, exceeded: false, error: new RuleBudgetError(limit) };
}

export function resetMeter(m: Meter): void {
  m.used = 0;
  m.exceeded = false;
}

function charge(m: Meter, units: number): void {
  m.used += units;
  if (m.used > m.limit) {
    m.exceeded = true;
    throw m.error;
  }
}

/** What a value costs to read: text by length, lists and maps by entries (building: × BUILD_FACTOR for text). */
export function sizeOf(v: unknown): number {
  if (typeof v === 'string') return Math.ceil(v.length / TEXT_PER_UNIT);
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (v instanceof Uint8Array) return Math.ceil(v.length / TEXT_PER_UNIT);
  return 0;
}

// ---- The parts of cel-js's AST this module reads (lib/parser.js ASTNode, lib/operators.js) ----

type Evaluate = (ev: Evaluator, ast: CelNode, ctx: unknown) => unknown;
interface Evaluator {
  run(ast: CelNode, ctx: unknown): unknown;
}
interface CelType {
  name: string;
  kind: string;
  valueType?: CelType;
}
interface Macro {
  args?: unknown;
  evaluate?: Evaluate;
  /** cel.bind(var, val, exp) */
  var?: string;
  val?: CelNode;
  exp?: CelNode;
}
interface CelNode {
  op: string;
  args: unknown;
  start: number;
  end: number;
  readonly input: string;
  readonly meta: { evaluate: Evaluate; alternate?: CelNode; macro?: Macro };
  checkedType?: CelType;
  evaluate: Evaluate;
}
interface ComprehensionArgs {
  /** Checked before each element; false ends the loop (`exists` once one matched). */
  condition?: (accu: unknown) => boolean;
  iterable: CelNode;
  init: CelNode;
  step: CelNode;
  iterVarName: string;
  kind?: string;
}

/** A parsed cel-js program: what `Environment.parse` returns. */
export interface ParsedProgram {
  (ctx: object): unknown;
  ast: unknown;
  check(): { valid: boolean; type?: string; error?: unknown };
}

/** A node with the size of its last value, for the operation that reads it. */
type Sized = CelNode & { lastSize: number; lastText: boolean };

function isNode(x: unknown): x is CelNode {
  return typeof x === 'object' && x !== null && typeof (x as CelNode).op === 'string' && 'meta' in (x as object);
}

/** Operations whose work grows with the size of their operands. */
const READS_OPERANDS = new Set(['in', '==', '!=', '<', '<=', '>', '>=', '+', 'call', 'rcall', 'list', 'map']);
/**
 * Comparisons and membership: their cost grows with lists and maps walked element by element,
 * not with text (a native comparison that stops at the first difference and builds nothing).
 */
const COMPARISONS = new Set(['in', '==', '!=', '<', '<=', '>', '>=']);
/** Operations that build a new value (text, list) of their result's size. */
const BUILDS_RESULT = new Set(['+', 'call', 'rcall', 'list', 'map']);

/** The nodes an operation evaluates directly, for operand sizes. */
function operands(node: CelNode): CelNode[] {
  const a = node.args;
  switch (node.op) {
    case 'call':
      return ((a as unknown[])[1] as CelNode[]).filter(isNode);
    case 'rcall': {
      const [, receiver, args] = a as [string, CelNode, CelNode[]];
      return [receiver, ...args].filter(isNode);
    }
    case 'map':
      return (a as [CelNode, CelNode][]).flat().filter(isNode);
    default:
      return Array.isArray(a) ? a.filter(isNode) : isNode(a) ? [a] : [];
  }
}

/** Every node reachable from `root`, macro expansions included. */
function allNodes(root: CelNode): CelNode[] {
  const out: CelNode[] = [];
  const seen = new Set<CelNode>();
  const visit = (x: unknown): void => {
    if (isNode(x)) {
      if (seen.has(x)) return;
      seen.add(x);
      out.push(x);
      visit(x.args);
      visit(x.meta.alternate);
      const macro = x.meta.macro;
      if (macro) {
        visit(macro.args);
        visit(macro.val);
        visit(macro.exp);
      }
      return;
    }
    if (Array.isArray(x)) for (const y of x) visit(y);
    else if (x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      const c = x as Partial<ComprehensionArgs>;
      visit(c.iterable);
      visit(c.init);
      visit(c.step);
    }
  };
  visit(root);
  return out;
}

/** How a node evaluates itself (what ASTNode.prototype.evaluate would dispatch to). */
function innerEvaluate(node: CelNode): Evaluate {
  const { alternate, macro, evaluate } = node.meta;
  if (alternate) return (ev, _ast, ctx) => alternate.evaluate(ev, alternate, ctx);
  if (macro?.evaluate) {
    const run = macro.evaluate;
    return (ev, _ast, ctx) => run(ev, macro as unknown as CelNode, ctx);
  }
  return evaluate;
}

const REGEX_CACHE_MAX = 64;

/** `string.matches(string)` on RE2, compiled patterns kept per program. */
function re2Matches(node: CelNode, meter: Meter): Evaluate | undefined {
  const [name, receiver, args] = node.args as [unknown, unknown, unknown[]];
  if (name !== 'matches' || !isNode(receiver) || !Array.isArray(args) || args.length !== 1 || !isNode(args[0])) {
    return undefined;
  }
  const pattern = args[0];
  const cache = new Map<string, RE2JS>();
  return (ev, _ast, ctx) => {
    const text = ev.run(receiver, ctx);
    const re = ev.run(pattern, ctx);
    if (typeof text !== 'string' || typeof re !== 'string') {
      throw new Error(`found no matching overload for '${typeof text}.matches(${typeof re})'`);
    }
    let compiled = cache.get(re);
    if (!compiled) {
      compiled = compileRe2(re);
      if (cache.size >= REGEX_CACHE_MAX) cache.clear();
      cache.set(re, compiled);
    }
    // RE2 is linear in the text, with a factor that grows with the pattern.
    charge(meter, sizeOf(text) * Math.max(1, Math.ceil(re.length / 32)));
    return compiled.test(text);
  };
}

/** A pattern compiled with RE2; an invalid one throws with RE2's reason. */
export function compileRe2(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (e) {
    throw new Error(`invalid regular expression ${JSON.stringify(pattern)} (RE2 syntax): ${(e as Error).message}`);
  }
}

/**
 * Wraps every node of a checked program so that its evaluations spend `meter`. Call after
 * `program.check()` (checking sets the evaluation functions the wrappers call) and before the
 * first evaluation.
 */
export function instrument(program: ParsedProgram, meter: Meter): void {
  for (const node of allNodes(program.ast as CelNode)) {
    if (node.op === 'comprehension') {
      // A quantifier catches each element's error and goes on to the next: once the budget is
      // spent, its loop must end instead of visiting the rest of a list of any length.
      const c = node.args as ComprehensionArgs;
      const condition = c.condition;
      c.condition = condition ? (accu) => !meter.exceeded && condition(accu) : () => !meter.exceeded;
    }
    const passThrough = node.meta.alternate !== undefined || node.meta.macro !== undefined;
    const inner = (node.op === 'rcall' && !passThrough && re2Matches(node, meter)) || innerEvaluate(node);
    const reads = !passThrough && READS_OPERANDS.has(node.op) ? operands(node) : [];
    const builds = !passThrough && BUILDS_RESULT.has(node.op);
    const compares = COMPARISONS.has(node.op);
    const sized = node as Sized;
    sized.lastSize = 0;
    sized.lastText = false;
    node.evaluate = (ev, ast, ctx) => {
      // Once spent, every node stops at once: cel-js turns errors inside `||`, `&&` and
      // quantifiers into values, and the evaluation must not go on around them.
      charge(meter, 1);
      for (const r of reads) (r as Sized).lastSize = 0;
      const out = inner(ev, ast, ctx);
      const size = sizeOf(out);
      const text = typeof out === 'string';
      sized.lastSize = size;
      sized.lastText = text;
      let units = builds ? (text ? size * BUILD_FACTOR : size) : 0;
      for (const r of reads) {
        const operand = r as Sized;
        if (!(compares && operand.lastText)) units += operand.lastSize;
      }
      if (units > 0) charge(meter, units);
      return out;
    };
  }
}

// ---- Static estimate ----

export interface CostEstimate {
  /** Worst-case units at the model's bounds (may be Infinity). */
  cost: number;
  /** Size of the value (list entries, text units) at the model's bounds. */
  size: number;
  /** The comprehension nesting that dominates the cost, outermost first. */
  path: string[];
}

function typeSize(t: CelType | undefined): number {
  switch (t?.kind) {
    case 'list':
      return MODEL_BOUNDS.list;
    case 'map':
      return MODEL_BOUNDS.map;
    case 'bytes':
      return Math.ceil(MODEL_BOUNDS.text / TEXT_PER_UNIT);
    case 'dyn':
      return Math.max(MODEL_BOUNDS.list, Math.ceil(MODEL_BOUNDS.text / TEXT_PER_UNIT));
    default:
      return t?.name === 'string' ? Math.ceil(MODEL_BOUNDS.text / TEXT_PER_UNIT) : 0;
  }
}

function source(node: CelNode): string {
  const text = node.input.slice(node.start, node.end).replace(/\s+/g, ' ');
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

const pick = (ests: CostEstimate[]): string[] =>
  ests.reduce<CostEstimate | undefined>((a, b) => (!a || b.cost > a.cost ? b : a), undefined)?.path ?? [];

/** Worst-case cost of a checked program at the model's bounds. */
export function estimateCost(program: ParsedProgram): CostEstimate {
  return estimateNode(program.ast as CelNode, new Map());
}

function estimateNode(node: CelNode, scope: Map<string, number>): CostEstimate {
  const { alternate, macro } = node.meta;
  if (alternate) return estimateNode(alternate, scope);
  if (macro) {
    if (macro.var !== undefined && macro.val && macro.exp) {
      // cel.bind(var, val, exp): the variable is as large as its value.
      const val = estimateNode(macro.val, scope);
      const inner = new Map(scope).set(macro.var, val.size);
      const exp = estimateNode(macro.exp, inner);
      return { cost: 1 + val.cost + exp.cost, size: exp.size, path: pick([val, exp]) };
    }
    const parts = (Array.isArray(macro.args) ? macro.args : []).filter(isNode).map((a) => estimateNode(a, scope));
    return { cost: 1 + parts.reduce((s, p) => s + p.cost, 0), size: 0, path: pick(parts) };
  }
  switch (node.op) {
    case 'value':
      return { cost: 1, size: sizeOf(node.args), path: [] };
    case 'id': {
      const bound = scope.get(node.args as string);
      return { cost: 1, size: bound ?? typeSize(node.checkedType), path: [] };
    }
    case 'accuValue':
    case 'accuInc':
      return { cost: 1, size: typeSize(node.checkedType), path: [] };
    case 'comprehension': {
      const c = node.args as ComprehensionArgs;
      const it = estimateNode(c.iterable, scope);
      const init = estimateNode(c.init, scope);
      // The iteration variable hides an outer one of the same name; its size is its type's.
      const inner = new Map(scope);
      inner.delete(c.iterVarName);
      const step = estimateNode(c.step, inner);
      const n = it.size;
      const cost = 1 + it.cost + init.cost + n * (step.cost + 1);
      const size = node.checkedType?.kind === 'list' ? n : typeSize(node.checkedType);
      const here = `${source(c.iterable)} (≤ ${n.toLocaleString('en-US')})`;
      return { cost, size, path: [here, ...step.path] };
    }
    case '?:': {
      const [cond, left, right] = (node.args as CelNode[]).map((a) => estimateNode(a, scope)) as [
        CostEstimate,
        CostEstimate,
        CostEstimate,
      ];
      return {
        cost: 1 + cond.cost + Math.max(left.cost, right.cost),
        size: Math.max(left.size, right.size),
        path: pick([cond, left, right]),
      };
    }
    case '.':
    case '.?': {
      const obj = estimateNode((node.args as [CelNode])[0], scope);
      return { cost: 1 + obj.cost, size: typeSize(node.checkedType), path: obj.path };
    }
    default: {
      const kids = operands(node).map((a) => estimateNode(a, scope));
      let cost = 1 + kids.reduce((s, k) => s + k.cost, 0);
      if (COMPARISONS.has(node.op)) {
        const nodes = operands(node);
        cost += kids.reduce((s, k, i) => s + (nodes[i]?.checkedType?.name === 'string' ? 0 : k.size), 0);
      } else if (READS_OPERANDS.has(node.op)) cost += kids.reduce((s, k) => s + k.size, 0);
      let size = typeSize(node.checkedType);
      if (node.op === '+') size = kids.reduce((s, k) => s + k.size, 0);
      else if (node.op === 'list' || node.op === 'map') size = kids.length;
      else if (node.op === 'rcall' || node.op === 'call') size = callResultSize(node, kids, size);
      if (BUILDS_RESULT.has(node.op)) cost += node.checkedType?.name === 'string' ? size * BUILD_FACTOR : size;
      if (node.op === 'rcall' && (node.args as [string])[0] === 'matches' && kids.length === 2) {
        const pattern = (node.args as [string, CelNode, CelNode[]])[2][0];
        const patternLength = pattern?.op === 'value' ? String(pattern.args).length : MODEL_BOUNDS.text;
        cost += kids[0]!.size * Math.max(1, Math.ceil(patternLength / 32));
      }
      return { cost, size, path: pick(kids) };
    }
  }
}

/** Size of what a function returns, from the sizes of what it is given. */
function callResultSize(node: CelNode, kids: CostEstimate[], typed: number): number {
  const name = (node.args as [string])[0];
  const receiver = kids[0]?.size ?? 0;
  switch (name) {
    case 'split':
      // At most one piece per character.
      return receiver * TEXT_PER_UNIT;
    case 'join':
    case 'lowerAscii':
    case 'upperAscii':
    case 'trim':
    case 'substring':
    case 'string':
    case 'bytes':
      return Math.max(receiver, name === 'join' ? typed : 0);
    default:
      return typed;
  }
}

/** The literal patterns a program passes to `matches`, to check their RE2 syntax at lint. */
export function literalPatterns(program: ParsedProgram): string[] {
  const out: string[] = [];
  for (const node of allNodes(program.ast as CelNode)) {
    if (node.op !== 'rcall' || (node.args as [string])[0] !== 'matches') continue;
    const pattern = (node.args as [string, CelNode, CelNode[]])[2]?.[0];
    if (pattern?.op === 'value' && typeof pattern.args === 'string') out.push(pattern.args);
  }
  return out;
}
