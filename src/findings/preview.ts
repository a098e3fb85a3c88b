// `pmo-sync rules preview FILE`: what a changed rule file would do to the findings if it were
// deployed — which would open, close, be waived or change message — computed against the
// stored items with the same planner the sync uses, writing nothing.
import { relative, resolve } from 'node:path';
import type { Db } from '../../db/client.ts';
import { createCelEnvironment } from '../../rules/cel-env.ts';
import type { Waiver } from '../../rules/config.ts';
import { createRuleFunctions, type RuleFunction } from '../../rules/functions.ts';
import { buildRuleSet, loadRuleSet, type RuleProblem, type RulesConfigInput, readRuleFile } from '../../rules/load.ts';
import type { FindingChange } from '../../rules/plan.ts';
import { prepareEvaluation } from './evaluate.ts';

export interface PreviewOptions {
  file: string;
  config: RulesConfigInput;
  cwd: string;
  now: Date;
  waivers: Waiver[];
  functions?: RuleFunction[];
}

export interface PreviewResult {
  file: string;
  /** Rules of the file that compiled and were evaluated. */
  rules: string[];
  /** Rules with stored findings that no file defines any more: those findings would resolve. */
  removed: string[];
  problems: RuleProblem[];
  evaluated: number;
  checks: number;
  wouldOpen: FindingChange[];
  wouldResolve: FindingChange[];
  wouldWaive: FindingChange[];
  wouldChangeMessage: FindingChange[];
}

export async function previewRuleFile(db: Db, opts: PreviewOptions): Promise<PreviewResult> {
  const file = resolve(opts.cwd, opts.file);
  const read = readRuleFile(file, relative(opts.cwd, file) || opts.file);
  const candidate = buildRuleSet({
    sourced: read.rules,
    problems: [...read.problems],
    files: [file],
    knownIds: new Set(read.rules.map((r) => r.def.id)),
    env: createCelEnvironment(),
    functions: createRuleFunctions(opts.functions),
    opts: { config: { ...opts.config, waivers: [] }, cwd: opts.cwd },
  });
  // Findings of rules that other files own are not this file's business; every other stored
  // finding whose rule the changed file no longer has would be resolved by the next sync.
  const current = loadRuleSet({ config: opts.config, cwd: opts.cwd });
  const others = new Set(current.rules.filter((r) => r.file !== file).map((r) => r.id));
  for (const p of current.problems) if (p.file !== file) others.add(p.ruleId);
  const brokenHere = new Set(candidate.problems.filter((p) => p.file === file).map((p) => p.ruleId));
  const newIds = new Set(candidate.rules.map((r) => r.id));
  const prepared = await prepareEvaluation(db, candidate, {
    now: opts.now,
    waivers: opts.waivers,
    keep: (rule) => !newIds.has(rule) && (others.has(rule) || brokenHere.has(rule)),
  });
  const changes = prepared.plan.changes;
  return {
    file,
    rules: [...newIds],
    removed: [...new Set(changes.filter((c) => c.kind === 'resolved' && !newIds.has(c.rule)).map((c) => c.rule))],
    problems: candidate.problems.filter((p) => p.file === file),
    evaluated: prepared.evaluated,
    checks: prepared.checks,
    wouldOpen: changes.filter((c) => c.kind === 'opened' || c.kind === 'reopened'),
    wouldResolve: changes.filter((c) => c.kind === 'resolved'),
    wouldWaive: changes.filter((c) => c.kind === 'waived'),
    wouldChangeMessage: changes.filter((c) => c.kind === 'updated'),
  };
}
