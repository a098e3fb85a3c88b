// Types the rule engine's modules share (loading, compiling, evaluating, TypeScript rules), kept
// apart so none of those modules imports another only for its types.
import type { CelChildren, CelForecast, CelItem, CelLink } from './cel-env.ts';
import type { ItemGraph } from './graph.ts';
import type { RuleDef } from './schema.ts';

export interface CelContext {
  item: CelItem;
  parent: CelItem;
  children: CelChildren;
  links: CelLink[];
  forecast: CelForecast;
  now: Date;
  params: Record<string, unknown>;
}

export interface RuleInput {
  ref: string;
  ctx: CelContext;
  graph: ItemGraph;
}

export interface RuleFunction {
  id: string;
  description: string;
  applies(input: RuleInput): boolean;
  check(input: RuleInput): boolean;
  /** Refs whose result may change when `ref` changes, beyond its ancestors and links. */
  affects?(graph: ItemGraph, ref: string): string[];
}

export interface RuleProblem {
  file: string;
  line: number;
  ruleId: string;
  message: string;
}

/** One rule as read from its file, before overrides and compilation. */
export interface SourcedRule {
  def: RuleDef;
  file: string;
  /** Display name: `pack:pmo-standard` or the path relative to cwd. */
  source: string;
  line: number;
  /** Line of each top-level key, so a bad `check` is reported where it is written. */
  keyLines: Record<string, number>;
}
