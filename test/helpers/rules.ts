// The built-in pmo-standard pack alone, as a rule set: what tests of the sync steps evaluate.
import { loadRuleSet, type RuleSet } from '../../rules/load.ts';

export function standardRuleSet(): RuleSet {
  return loadRuleSet({ config: { packs: ['pmo-standard'], files: [], overrides: {} }, cwd: process.cwd() });
}
