// The rule set on Workers, where there is no disk: the built-in packs are bundled as text at
// build time (wrangler's `[[rules]] type = "Text"` for *.yaml), the organisation's own rules
// come from the PMO_SYNC_RULES_YAML var. Parsing mirrors rules/load.ts `readRuleFile` over text;
// overrides, duplicates and compilation are rules/load.ts's own `buildRuleSet`.
import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { createCelEnvironment } from '../../rules/cel-env.ts';
import { createRuleFunctions } from '../../rules/functions.ts';
import { buildRuleSet, type RuleProblem, type RuleSet, type SourcedRule } from '../../rules/load.ts';
import pmoStandard from '../../rules/packs/pmo-standard.yaml';
import { RuleDef } from '../../rules/schema.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';

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
    const id = isMap(node) && typeof node.get('id') === 'string' ? String(node.get('id')) : '-';
    const parsed = RuleDef.safeParse((node as Node).toJSON());
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        problems.push({ file, line: lineOf(node as Node), ruleId: id, message: `${where}${issue.message}` });
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
