// The rule set on Workers, where there is no disk: the built-in packs are bundled as text at
// build time (wrangler's `[[rules]] type = "Text"` for *.yaml), the organisation's own rules
// come from the PMO_SYNC_RULES_YAML var. Parsing, overrides, duplicates and compilation are
// rules/load.ts's own (`parseRuleText`, `buildRuleSet`).
import { createCelEnvironment } from '../../rules/cel-env.ts';
import { createRuleFunctions } from '../../rules/functions.ts';
import { buildRuleSet, parseRuleText, type RuleProblem, type RuleSet, type SourcedRule } from '../../rules/load.ts';
import pmoStandard from '../../rules/packs/pmo-standard.yaml';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';

/** Built-in packs by name, as bundled text. */
export const BUNDLED_PACKS: Readonly<Record<string, string>> = { 'pmo-standard': pmoStandard };

export interface WorkerRuleOptions {
  config: Config['rules'];
  /** Extra rule file text (PMO_SYNC_RULES_YAML). */
  ownRules?: string;
  log?: Logger;
}

export function loadWorkerRuleSet(opts: WorkerRuleOptions): RuleSet {
  const problems: RuleProblem[] = [];
  const sourced: SourcedRule[] = [];
  const files: string[] = [];
  const knownIds = new Set<string>();
  const inputs = opts.config.packs.map((p) => ({
    file: `rules/packs/${p}.yaml`,
    source: `pack:${p}`,
    text: BUNDLED_PACKS[p],
  }));
  if (opts.ownRules?.trim())
    inputs.push({ file: 'PMO_SYNC_RULES_YAML', source: 'PMO_SYNC_RULES_YAML', text: opts.ownRules });
  for (const f of opts.config.files) {
    problems.push({
      file: f,
      line: 0,
      ruleId: '-',
      message: 'rules.files cannot be read on Workers: put the rules in PMO_SYNC_RULES_YAML',
    });
  }
  for (const { file, source, text } of inputs) {
    files.push(file);
    const read =
      text === undefined
        ? { rules: [], problems: [{ file, line: 0, ruleId: '-', message: 'no such built-in pack in this bundle' }] }
        : parseRuleText(text, file, source);
    problems.push(...read.problems);
    for (const p of read.problems) if (p.ruleId !== '-') knownIds.add(p.ruleId);
    sourced.push(...read.rules);
  }
  return buildRuleSet({
    sourced,
    problems,
    files,
    knownIds,
    env: createCelEnvironment(),
    functions: createRuleFunctions(),
    opts: { config: opts.config, cwd: '/', log: opts.log },
  });
}
