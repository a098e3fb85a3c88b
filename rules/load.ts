// Reads rule files (built-in packs and the organisation's own), validates them with zod,
// type-checks and compiles every CEL expression once, and applies the config's overrides.
// A bad rule never stops the others: it becomes a `RuleProblem` with file, line and rule id.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Logger } from '../src/core/log.ts';
import { type CelEnvironment, createCelEnvironment } from './cel-env.ts';
import { type CompiledRule, compileRule } from './compile.ts';
import type { RulesConfig } from './config.ts';
import { createRuleFunctions, type RuleFunction } from './functions.ts';
import { RuleDef } from './schema.ts';
import type { RuleProblem, SourcedRule } from './types.ts';

/** The built-in packs' folder; a function, so runtimes without files never touch import.meta.url. */
export function packsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), 'packs');
}

export type { RuleProblem, SourcedRule } from './types.ts';

export interface RuleSet {
  rules: CompiledRule[];
  /** Rules switched off by `enabled: false` in the file or an override. */
  disabled: { id: string; source: string }[];
  problems: RuleProblem[];
  /** Every rule id seen, active, disabled or broken: findings of a broken rule are left alone. */
  knownIds: Set<string>;
  files: string[];
  env: CelEnvironment;
  functions: Map<string, RuleFunction>;
  /** Where evaluation reports rules that throw on items. */
  log: Logger | undefined;
  /** The last error of each rule that failed on items (or spent its cost budget), by rule id. */
  errors: Map<string, RuleErrorReport>;
}

export interface RuleErrorReport {
  /** Items it failed on in that evaluation pass. */
  items: number;
  firstRef: string;
  error: string;
  /** When that pass ran. */
  at: string;
}

export type RulesConfigInput = z.input<typeof RulesConfig>;

export interface LoadOptions {
  config: RulesConfigInput;
  cwd: string;
  log?: Logger;
  /** Shown as the file of problems found in overrides and waivers. */
  configFile?: string;
  /** TypeScript rules beyond the built-in ones. */
  functions?: RuleFunction[];
}

export function packFile(name: string): string {
  return join(packsDir(), `${name}.yaml`);
}

/** Reads one rule file; problems are returned, never thrown. */
export function readRuleFile(file: string, source: string): { rules: SourcedRule[]; problems: RuleProblem[] } {
  if (!existsSync(file)) return { rules: [], problems: [{ file, line: 0, ruleId: '-', message: 'file not found' }] };
  return parseRuleText(readFileSync(file, 'utf8'), file, source);
}

/** One rule file's text → validated rules with their lines; problems returned, never thrown. */
export function parseRuleText(
  text: string,
  file: string,
  source: string,
): { rules: SourcedRule[]; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const lineOf = (n: Node | null | undefined) => (n?.range ? lc.linePos(n.range[0]).line : 0);
  for (const e of doc.errors) {
    problems.push({ file, line: lc.linePos(e.pos[0]).line, ruleId: '-', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (doc.errors.length > 0) return { rules: [], problems };
  const root = doc.contents;
  if (root === null) return { rules: [], problems };
  if (!isSeq(root)) {
    problems.push({ file, line: lineOf(root), ruleId: '-', message: 'a rule file is a YAML list of rules' });
    return { rules: [], problems };
  }
  const rules: SourcedRule[] = [];
  for (const node of root.items) {
    const raw = (node as Node).toJSON() as unknown;
    const id = isMap(node) && typeof node.get('id') === 'string' ? String(node.get('id')) : '-';
    const parsed = RuleDef.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const at = issue.path.length > 0 && isMap(node) ? node.getIn(issue.path as string[], true) : node;
        const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        problems.push({
          file,
          line: lineOf((at as Node | undefined) ?? (node as Node)),
          ruleId: id,
          message: `${where}${issue.message}`,
        });
      }
      continue;
    }
    const keyLines: Record<string, number> = {};
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = (pair.key as Node & { value?: unknown })?.toJSON?.();
        keyLines[String(k)] = lineOf((pair.value as Node) ?? (pair.key as Node));
      }
    }
    rules.push({ def: parsed.data, file, source, line: lineOf(node as Node), keyLines });
  }
  return { rules, problems };
}

/** Every rule file the config names, built-in packs first. */
export function ruleFiles(config: RulesConfigInput, cwd: string): { file: string; source: string }[] {
  const packs = (config.packs ?? ['pmo-standard']).map((p) => ({ file: packFile(p), source: `pack:${p}` }));
  const own = (config.files ?? []).map((f) => {
    const file = resolve(cwd, f);
    return { file, source: relative(cwd, file) || f };
  });
  return [...packs, ...own];
}

export function ruleHash(def: RuleDef): string {
  const canonical = JSON.stringify({
    applies: def.applies,
    check: def.check ?? null,
    function: def.function ?? null,
    message: def.message,
    severity: def.severity,
    params: def.params,
    scope: def.scope ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/**
 * The active rule set for a config: packs + files, overrides applied, expressions compiled.
 * Never throws on a bad rule; see `problems`.
 */
export function loadRuleSet(opts: LoadOptions): RuleSet {
  const { config, cwd } = opts;
  const env = createCelEnvironment();
  const functions = createRuleFunctions(opts.functions);
  const problems: RuleProblem[] = [];
  const sourced: SourcedRule[] = [];
  const files: string[] = [];
  const knownIds = new Set<string>();
  for (const { file, source } of ruleFiles(config, cwd)) {
    files.push(file);
    const read = readRuleFile(file, source);
    problems.push(...read.problems);
    for (const p of read.problems) if (p.ruleId !== '-') knownIds.add(p.ruleId);
    sourced.push(...read.rules);
  }
  return buildRuleSet({ sourced, problems, files, knownIds, env, functions, opts });
}

interface BuildInput {
  sourced: SourcedRule[];
  problems: RuleProblem[];
  files: string[];
  knownIds: Set<string>;
  env: CelEnvironment;
  functions: Map<string, RuleFunction>;
  opts: LoadOptions;
}

/** Overrides, duplicate detection and compilation over rules already read. */
export function buildRuleSet(input: BuildInput): RuleSet {
  const { sourced, problems, files, knownIds, env, functions, opts } = input;
  const overrides = opts.config.overrides ?? {};
  const configFile = opts.configFile ?? 'pmo-sync.yaml';
  const seen = new Map<string, SourcedRule>();
  const rules: CompiledRule[] = [];
  const disabled: RuleSet['disabled'] = [];
  for (const s of sourced) {
    const id = s.def.id;
    knownIds.add(id);
    const first = seen.get(id);
    if (first) {
      problems.push({
        file: s.file,
        line: s.line,
        ruleId: id,
        message: `duplicate rule id (already defined in ${first.source} line ${first.line}); this one is skipped`,
      });
      continue;
    }
    seen.set(id, s);
    const o = overrides[id];
    const def: RuleDef = {
      ...s.def,
      severity: o?.severity ?? s.def.severity,
      params: { ...s.def.params, ...(o?.params ?? {}) },
      scope: o?.scope ?? s.def.scope,
      enabled: o?.enabled ?? s.def.enabled,
    };
    if (!def.enabled) {
      disabled.push({ id, source: s.source });
      continue;
    }
    const compiled = compileRule({ ...s, def }, env, functions, ruleHash(def));
    if ('problems' in compiled) problems.push(...compiled.problems);
    else rules.push(compiled.rule);
  }
  for (const id of Object.keys(overrides)) {
    if (!seen.has(id) && !knownIds.has(id)) {
      problems.push({
        file: configFile,
        line: 0,
        ruleId: id,
        message: 'rules.overrides names a rule that does not exist',
      });
    }
  }
  for (const w of opts.config.waivers ?? []) {
    if (w.rule !== '*' && !knownIds.has(w.rule)) {
      problems.push({
        file: configFile,
        line: 0,
        ruleId: w.rule,
        message: 'rules.waivers names a rule that does not exist',
      });
    }
  }
  for (const p of problems)
    opts.log?.warn({ file: p.file, line: p.line, rule: p.ruleId }, `rule problem: ${p.message}`);
  return { rules, disabled, problems, knownIds, files, env, functions, log: opts.log, errors: new Map() };
}

/** `file:line: rule-id: problem`, the lint output format. */
export function formatProblem(p: RuleProblem, cwd: string): string {
  const file = p.file.startsWith('/') ? relative(cwd, p.file) || p.file : p.file;
  return `${file}:${p.line}: ${p.ruleId}: ${p.message}`;
}

/**
 * The active rules as the API lists them (`GET /api/v1/rules`), on every runtime, with the last
 * error each one met on items in this process (a rule over its cost budget says so here).
 */
export function describeRules(ruleSet: Pick<RuleSet, 'rules'> & Partial<Pick<RuleSet, 'errors'>>) {
  return ruleSet.rules.map((r) => ({
    id: r.id,
    title: r.title,
    severity: r.severity,
    area: r.area ?? null,
    // Why the rule exists and what it asks (its message template): the workspace shows both
    // beside each finding as the rule's text and how to fix it.
    rationale: r.rationale ?? null,
    message: r.message,
    source: r.source,
    lastError: ruleSet.errors?.get(r.id) ?? null,
  }));
}
