// Runs the test cases declared beside rule files (`<name>.tests.yaml`): each case is a small
// world — an item, its parent, children, linked and other items — and the outcome it expects.
// Used by `pmo-sync rules test` and by the vitest suite, so both agree on what "passes" means.
import { existsSync, readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { ItemLink, WorkItem } from '../src/model/work-item.ts';
import { toCelValue } from './compile.ts';
import { contextFor, evaluateRule, type Outcome } from './evaluate.ts';
import { createItemGraph, type GraphItem } from './graph.ts';
import type { RuleProblem, RuleSet } from './load.ts';
import { RuleTestCase } from './schema.ts';

export const DEFAULT_TEST_NOW = '2026-06-01T12:00:00Z';

export interface LoadedTestCase extends RuleTestCase {
  file: string;
  line: number;
}

export interface RuleTestResult {
  file: string;
  line: number;
  rule: string;
  name: string;
  expected: RuleTestCase['expect'];
  actual: Outcome | 'inactive';
  message?: string;
  ok: boolean;
  /** Why it failed, in one line. */
  reason?: string;
}

export function testFileFor(ruleFile: string): string {
  return ruleFile.replace(/\.ya?ml$/, '') + '.tests.yaml';
}

/** Reads a test file; bad cases are returned as problems, the good ones still run. */
export function readTestFile(file: string): { cases: LoadedTestCase[]; problems: RuleProblem[] } {
  if (!existsSync(file)) return { cases: [], problems: [] };
  const lc = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lc, prettyErrors: false });
  const problems: RuleProblem[] = doc.errors.map((e) => ({
    file,
    line: lc.linePos(e.pos[0]).line,
    ruleId: '-',
    message: `YAML: ${e.message.split('\n')[0]}`,
  }));
  const cases: LoadedTestCase[] = [];
  const root = doc.contents as { items?: { range?: [number, number, number]; toJSON(): unknown }[] } | null;
  for (const node of root?.items ?? []) {
    const line = node.range ? lc.linePos(node.range[0]).line : 0;
    const raw = node.toJSON() as Record<string, unknown>;
    const parsed = RuleTestCase.safeParse(raw);
    if (parsed.success) cases.push({ ...parsed.data, file, line });
    else {
      const issue = parsed.error.issues[0];
      problems.push({
        file,
        line,
        ruleId: typeof raw?.rule === 'string' ? raw.rule : '-',
        message: `test case: ${issue?.path.join('.')}: ${issue?.message}`,
      });
    }
  }
  return { cases, problems };
}

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** A complete work item from the few fields a test case gives. */
export function testItem(partial: Record<string, unknown>, defaultRef: string, now: Date): GraphItem {
  const ref = String(partial.ref ?? (partial.key ? `t:${String(partial.key)}` : defaultRef));
  const colon = ref.indexOf(':');
  const dayBefore = new Date(now.getTime() - 86_400_000).toISOString();
  const person = (v: unknown) =>
    v === null || v === undefined
      ? null
      : typeof v === 'string'
        ? { id: v, name: v }
        : (v as { id: string; name: string });
  const base: WorkItem = {
    ref,
    connection: String(partial.connection ?? ref.slice(0, colon)),
    tracker: (partial.tracker as WorkItem['tracker']) ?? 'jira',
    key: String(partial.key ?? ref.slice(colon + 1)),
    project: String(partial.project ?? 'TEST'),
    kind: (partial.kind as WorkItem['kind']) ?? 'story',
    type: String(partial.type ?? partial.kind ?? 'story'),
    title: String(partial.title ?? 'Test item'),
    status: String(partial.status ?? partial.statusCategory ?? 'todo'),
    statusCategory: (partial.statusCategory as WorkItem['statusCategory']) ?? 'todo',
    assignee: person(partial.assignee),
    owner: person(partial.owner),
    priority: str(partial.priority),
    labels: (partial.labels as string[]) ?? [],
    created: str(partial.created) ?? dayBefore,
    updated: str(partial.updated) ?? dayBefore,
    started: str(partial.started),
    resolved: str(partial.resolved),
    start: str(partial.start),
    due: str(partial.due),
    points: (partial.points as number) ?? null,
    estimateHours: (partial.estimateHours as number) ?? null,
    remainingHours: (partial.remainingHours as number) ?? null,
    parent: str(partial.parent),
    links: (partial.links as ItemLink[]) ?? [],
    iteration: null,
    fields: (partial.fields as Record<string, unknown>) ?? {},
    url: '',
    revision: '1',
    raw: null,
  };
  const f = partial.forecast as Record<string, unknown> | undefined;
  const forecast = f
    ? {
        status: String(f.status ?? 'forecast'),
        confidence: String(f.confidence ?? 'high'),
        unit: String(f.unit ?? 'items'),
        remaining: Number(f.remaining ?? 1),
        p50: str(f.p50)?.slice(0, 10) ?? null,
        p85: str(f.p85)?.slice(0, 10) ?? null,
        p95: str(f.p95)?.slice(0, 10) ?? null,
        onTimeProbability: f.onTimeProbability === undefined ? null : Number(f.onTimeProbability),
      }
    : null;
  return { ...base, deletedAt: partial.deleted === true ? now.toISOString() : null, forecast };
}

/** The world of one test case: the item under test first. */
export function testWorld(tc: RuleTestCase, now: Date): GraphItem[] {
  const itemPartial: Record<string, unknown> = { ...tc.item };
  const world: GraphItem[] = [];
  if (tc.parent) {
    const parent = testItem(tc.parent, 't:PARENT-1', now);
    itemPartial.parent ??= parent.ref;
    world.push(parent);
  }
  const links: ItemLink[] = [...((itemPartial.links as ItemLink[]) ?? [])];
  tc.links.forEach((l, i) => {
    const target = l.item ? testItem(l.item, `t:LINK-${i + 1}`, now) : null;
    const ref = target?.ref ?? `t:MISSING-${i + 1}`;
    links.push({ type: l.type, target: ref, relation: l.relation ?? null });
    if (target) world.push(l.deleted ? { ...target, deletedAt: now.toISOString() } : target);
  });
  itemPartial.links = links;
  const item = testItem(itemPartial, 't:ITEM-1', now);
  tc.children.forEach((c, i) => {
    world.push(testItem({ parent: item.ref, ...c }, `t:CHILD-${i + 1}`, now));
  });
  tc.others.forEach((o, i) => {
    world.push(testItem(o, `t:OTHER-${i + 1}`, now));
  });
  return [item, ...world];
}

/** Runs one case against the rule set; a rule the config switched off reports `inactive`. */
export function runTestCase(ruleSet: RuleSet, tc: LoadedTestCase): RuleTestResult {
  const base = { file: tc.file, line: tc.line, rule: tc.rule, name: tc.name, expected: tc.expect };
  const rule = ruleSet.rules.find((r) => r.id === tc.rule);
  if (!rule) {
    // A rule the config switched off is not a failure of its tests; an unknown or broken one is.
    const disabled = ruleSet.disabled.some((d) => d.id === tc.rule);
    return disabled
      ? { ...base, actual: 'inactive', ok: true, reason: 'skipped: the rule is disabled' }
      : { ...base, actual: 'inactive', ok: false, reason: 'the rule is unknown or has problems (run rules lint)' };
  }
  const now = new Date(tc.now ?? DEFAULT_TEST_NOW);
  const world = testWorld(tc, now);
  const graph = createItemGraph(world, now);
  const ref = world[0]!.ref;
  const effective = tc.params
    ? { ...rule, params: { ...rule.params, ...(toCelValue(tc.params) as Record<string, unknown>) } }
    : rule;
  const r = evaluateRule(effective, { ref, ctx: contextFor(graph, ref), graph });
  let ok = r.outcome === tc.expect;
  let reason = ok ? undefined : `expected ${tc.expect}, got ${r.outcome}${r.error ? ` (${r.error})` : ''}`;
  if (ok && tc.message !== undefined && r.message !== tc.message) {
    ok = false;
    reason = `expected message ${JSON.stringify(tc.message)}, got ${JSON.stringify(r.message)}`;
  }
  return {
    ...base,
    actual: r.outcome,
    ok,
    ...(r.message ? { message: r.message } : {}),
    ...(reason ? { reason } : {}),
  };
}

/** Every case in the test files beside the rule set's files. */
export function runRuleTests(ruleSet: RuleSet): { results: RuleTestResult[]; problems: RuleProblem[] } {
  const results: RuleTestResult[] = [];
  const problems: RuleProblem[] = [];
  for (const file of ruleSet.files) {
    const read = readTestFile(testFileFor(file));
    problems.push(...read.problems);
    for (const tc of read.cases) results.push(runTestCase(ruleSet, tc));
  }
  return { results, problems };
}
