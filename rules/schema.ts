// What a rule file and a rule test file may contain, validated with zod. A rule file is a YAML
// list of rules; its test cases live beside it in `<name>.tests.yaml`.
import { z } from 'zod';
import { KINDS } from '../src/core/work-item.ts';

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

const text = z.string().trim().min(1);

export const RuleScope = z.strictObject({
  connections: z.array(text).optional(),
  projects: z.array(text).optional(),
  kinds: z.array(z.enum(KINDS)).optional(),
});
export type RuleScope = z.infer<typeof RuleScope>;

export const RuleDef = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes, like "epic-target-date"'),
    title: text,
    severity: z.enum(SEVERITIES),
    /** Free text grouping for `rules list` and the docs (`required-fields`, `schedule`, …). */
    area: text.optional(),
    /** Why the PMO asks for this: shown in the docs and by `rules list --json`. */
    rationale: text.optional(),
    applies: text.default('true'),
    check: text.optional(),
    /** Id of a TypeScript rule function, for rules CEL cannot express well. */
    function: text.optional(),
    message: text,
    params: z.record(z.string(), z.unknown()).default({}),
    scope: RuleScope.optional(),
    enabled: z.boolean().default(true),
  })
  .refine((r) => (r.check === undefined) !== (r.function === undefined), {
    error: 'a rule needs exactly one of "check" (a CEL expression) or "function" (a registered TypeScript rule)',
  });
export type RuleDef = z.infer<typeof RuleDef>;

/** A work item in a test case: every field optional, filled from a neutral default item. */
export const TestItem = z.record(z.string(), z.unknown());

export const TestLink = z.strictObject({
  type: z.enum(['blocks', 'blocked_by', 'depends_on', 'relates', 'duplicates', 'cross_tracker']),
  relation: z.enum(['blocks', 'blocked_by', 'depends_on', 'relates', 'duplicates']).optional(),
  /** The linked item; omit to link to an item that is not stored. */
  item: TestItem.optional(),
  /** Mark the linked item deleted from its tracker. */
  deleted: z.boolean().optional(),
});

export const RuleTestCase = z.strictObject({
  rule: text,
  name: text,
  /** `fail` opens a finding; `pass` and `skip` (the rule does not apply) do not. */
  expect: z.enum(['pass', 'fail', 'skip']),
  item: TestItem.default({}),
  parent: TestItem.optional(),
  /** Descendants; each is a child of the item unless it names its own `parent` ref. */
  children: z.array(TestItem).default([]),
  links: z.array(TestLink).default([]),
  /** Any other stored items (same owner, items that link here…), with their own refs. */
  others: z.array(TestItem).default([]),
  now: z.string().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  /** For `fail`: the message the team would read, when the case wants to pin it. */
  message: text.optional(),
});
export type RuleTestCase = z.infer<typeof RuleTestCase>;
