// Turns one validated rule into something evaluation can call millions of times: CEL parsed
// and type-checked once, `{{ expr }}` message placeholders compiled as CEL too, YAML params
// converted to CEL values (integers become CEL ints).
import {
  compileRe2,
  createMeter,
  estimateCost,
  instrument,
  literalPatterns,
  type Meter,
  MODEL_BOUNDS,
  type ParsedProgram,
  RULE_BUDGET,
} from './budget.ts';
import { CEL_FIELDS, type CelEnvironment } from './cel-env.ts';
import type { RuleDef, RuleScope, Severity } from './schema.ts';
import type { RuleFunction, RuleInput, RuleProblem, SourcedRule } from './types.ts';

export interface CompiledRule {
  id: string;
  title: string;
  severity: Severity;
  area: string | undefined;
  rationale: string | undefined;
  source: string;
  file: string;
  line: number;
  /** Content hash of the effective rule (after overrides): stored with each finding. */
  hash: string;
  /** Effective params as CEL values. */
  params: Record<string, unknown>;
  scope: RuleScope | undefined;
  def: RuleDef;
  /** What one evaluation of this rule on one item may spend (budget.ts); reset per item. */
  meter: Meter;
  applies(input: RuleInput): boolean;
  check(input: RuleInput): boolean;
  message(input: RuleInput): string;
}

type Program = (ctx: object) => unknown;

const PLACEHOLDER = /\{\{([^}]+)\}\}/g;

// The CEL type checker accepts `has(item.anything)`, which would then silently be false forever:
// check the field names of has() over the declared variables ourselves.
const HAS_FIELD = /has\(\s*(item|parent|children)\.([A-Za-z_][A-Za-z0-9_]*)\s*\)/g;
const FIELDS_OF: Record<string, readonly string[]> = {
  item: CEL_FIELDS.item,
  parent: CEL_FIELDS.item,
  children: CEL_FIELDS.children,
};

/** `has()` over a field the variable does not have, as a lint message; undefined when fine. */
export function unknownHasField(expr: string): string | undefined {
  for (const m of expr.matchAll(HAS_FIELD)) {
    const [, variable, field] = m;
    if (!FIELDS_OF[variable!]!.includes(field!)) return `${m[0]}: ${variable} has no field "${field}"`;
  }
  return undefined;
}

/** YAML numbers are JS numbers; CEL wants whole numbers as ints (BigInt) so `params.days * 2` works. */
export function toCelValue(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (Array.isArray(v)) return v.map(toCelValue);
  if (v instanceof Date) return v;
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCelValue(x)]));
  }
  return v;
}

/** How a CEL value reads in a message: dates as YYYY-MM-DD, lists comma-separated. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (Array.isArray(v)) return v.map(formatValue).join(', ');
  if (typeof v === 'number') return String(Math.round(v * 100) / 100);
  if (typeof v === 'object') {
    const o = v as { name?: unknown };
    return typeof o.name === 'string' ? o.name : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
  }
  return String(v);
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}

/**
 * Why a checked program cannot run within the budget, or undefined when it can: its worst case
 * at the item model's bounds, and the comprehensions that make it so.
 */
export function budgetProblem(program: ParsedProgram, budget = RULE_BUDGET): string | undefined {
  const est = estimateCost(program);
  if (est.cost <= budget) return undefined;
  const worst = Number.isFinite(est.cost) ? `about ${est.cost.toExponential(1)}` : 'unbounded';
  const over = est.path.length > 0 ? ` (${est.path.join(' × ')})` : '';
  return (
    `cost cannot be bounded within the budget: the worst case is ${worst} steps on an item with ` +
    `${MODEL_BOUNDS.list.toLocaleString('en-US')} entries per list and ${MODEL_BOUNDS.text.toLocaleString('en-US')} characters of text${over}, and a rule may spend ` +
    `${budget.toLocaleString('en-US')} per item; avoid nesting comprehensions over lists or building large lists and text`
  );
}

export function compileRule(
  s: SourcedRule,
  env: CelEnvironment,
  functions: Map<string, RuleFunction>,
  hash: string,
  budget = RULE_BUDGET,
): { rule: CompiledRule } | { problems: RuleProblem[] } {
  const { def } = s;
  const problems: RuleProblem[] = [];
  const problem = (key: string, message: string) =>
    problems.push({ file: s.file, line: s.keyLines[key] ?? s.line, ruleId: def.id, message });
  const meter = createMeter(budget);

  /** Parses, checks, bounds and instruments one expression; undefined (and a problem) when it cannot run. */
  const compileExpr = (expr: string, label: string): { program: Program; type: string } | undefined => {
    try {
      const program = env.parse(expr) as unknown as ParsedProgram;
      const checked = program.check();
      if (!checked.valid) {
        problem(label, `${label}: ${firstLine(checked.error)}`);
        return undefined;
      }
      for (const pattern of literalPatterns(program)) compileRe2(pattern);
      const tooCostly = budgetProblem(program, budget);
      if (tooCostly) {
        problem(label, `${label}: ${tooCostly}`);
        return undefined;
      }
      instrument(program, meter);
      return { program: program as unknown as Program, type: String(checked.type) };
    } catch (e) {
      problem(label, `${label}: ${firstLine(e)}`);
      return undefined;
    }
  };

  const compileBool = (key: 'applies' | 'check', expr: string): Program | undefined => {
    const hasProblem = unknownHasField(expr);
    if (hasProblem) {
      // Still parsed and checked first, so a syntax error is reported as such.
      if (compileExpr(expr, key)) problem(key, `${key}: ${hasProblem}`);
      return undefined;
    }
    const compiled = compileExpr(expr, key);
    if (!compiled) return undefined;
    if (compiled.type !== 'bool' && compiled.type !== 'dyn') {
      problem(key, `${key}: must be true or false, but this expression gives ${compiled.type}`);
      return undefined;
    }
    return compiled.program;
  };

  const applies = compileBool('applies', def.applies);
  let check: Program | undefined;
  let fn: RuleFunction | undefined;
  if (def.function !== undefined) {
    fn = functions.get(def.function);
    if (!fn)
      problem(
        'function',
        `function: no TypeScript rule named "${def.function}" (known: ${[...functions.keys()].join(', ')})`,
      );
  } else if (def.check !== undefined) {
    check = compileBool('check', def.check);
  }

  const parts: (string | Program)[] = [];
  let last = 0;
  for (const m of def.message.matchAll(PLACEHOLDER)) {
    parts.push(def.message.slice(last, m.index));
    const expr = m[1]!.trim();
    const compiled = compileExpr(expr, 'message');
    if (compiled) parts.push(compiled.program);
    else {
      // Name the placeholder in the problem compileExpr just reported.
      const last = problems[problems.length - 1];
      if (last) last.message = last.message.replace(/^message: /, `message: {{${expr}}}: `);
    }
    last = m.index + m[0].length;
  }
  parts.push(def.message.slice(last));

  if (problems.length > 0 || !applies || (!check && !fn)) return { problems };
  const celCheck = check;
  const celApplies = applies;
  const rule: CompiledRule = {
    id: def.id,
    title: def.title,
    severity: def.severity,
    area: def.area,
    rationale: def.rationale,
    source: s.source,
    file: s.file,
    line: s.line,
    hash,
    params: toCelValue(def.params) as Record<string, unknown>,
    scope: def.scope,
    def,
    meter,
    applies: fn
      ? (input) => celApplies(input.ctx) === true && fn.applies(input)
      : (input) => celApplies(input.ctx) === true,
    check: fn ? (input) => fn.check(input) : (input) => celCheck!(input.ctx) === true,
    message(input) {
      let out = '';
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else {
          try {
            out += formatValue(p(input.ctx));
          } catch {
            // A placeholder over an absent field reads as blank rather than losing the finding.
          }
        }
      }
      return out;
    },
  };
  return { rule };
}
