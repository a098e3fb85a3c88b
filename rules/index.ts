// The rule engine's public surface: load a rule set from config, evaluate it into findings,
// preview a changed rule file, run rule test cases. Everything else in rules/ is internal.
export { CEL_FIELDS, CelChildren, CelItem, CelLink, CelPerson, createCelEnvironment } from './cel-env.ts';
export type { CompiledRule } from './compile.ts';
export { type CelContext, contextFor, evaluateItems, evaluateRule, inScope, type Outcome } from './evaluate.ts';
export {
  countFindings,
  type EvaluateFindingsOptions,
  evaluateFindings,
  type FindingsSummary,
  type PreparedEvaluation,
  prepareEvaluation,
} from './findings.ts';
export { createRuleFunctions, type RuleFunction, type RuleInput } from './functions.ts';
export { createItemGraph, type GraphItem, type ItemGraph, toCelItem } from './graph.ts';
export { type ItemLoadOptions, loadAffected, loadAllItems } from './items.ts';
export {
  formatProblem,
  type LoadOptions,
  loadRuleSet,
  packFile,
  packsDir,
  parseRuleText,
  type RuleProblem,
  type RuleSet,
  readRuleFile,
} from './load.ts';
export { type FindingChange, type FindingsPlan, planFindings, type StoredFinding } from './plan.ts';
export { type PreviewOptions, type PreviewResult, previewRuleFile } from './preview.ts';
export { RuleDef, RuleTestCase, SEVERITIES, type Severity } from './schema.ts';
export { type RuleTestResult, readTestFile, runRuleTests, runTestCase, testFileFor } from './testing.ts';
export { type ActiveWaiver, findWaiver, WAIVE_LABEL_PREFIX } from './waivers.ts';
