// `pmo-sync rules list|lint|test|preview`: the rule author's tools. All but preview work with no
// config file at all (the built-in packs); rule files named in the config are read relative to
// the config file's folder.
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { createCelEnvironment } from '../../../rules/cel-env.ts';
import { createRuleFunctions } from '../../../rules/functions.ts';
import {
  buildRuleSet,
  formatProblem,
  loadRuleSet,
  type RuleProblem,
  type RuleSet,
  type RulesConfigInput,
  readRuleFile,
} from '../../../rules/load.ts';
import { readTestFile, runRuleTests, testFileFor } from '../../../rules/testing.ts';
import type { Waiver } from '../../config/schema.ts';
import { PmoSyncError } from '../../core/errors.ts';
import { previewRuleFile } from '../../findings/preview.ts';
import { count } from '../../util/plural.ts';
import { type CliContext, Exit } from '../context.ts';

/** Rule files with problems: exit code 2, like any other bad configuration. */
export class RuleProblemsError extends PmoSyncError {
  override readonly exitCode = 2;
  constructor(problems: number) {
    super(`${count(problems, 'problem')} in rule files (listed above)`);
    this.name = 'RuleProblemsError';
  }
}

/** Rule test cases that did not give the expected outcome: a runtime failure, exit code 1. */
export class RuleTestsFailedError extends PmoSyncError {
  constructor(failed: number, total: number) {
    super(`${failed} of ${count(total, 'rule test case')} failed`);
    this.name = 'RuleTestsFailedError';
  }
}

interface RulesSetup {
  config: RulesConfigInput;
  cwd: string;
  configFile: string | undefined;
  waivers: Waiver[];
}

function setup(ctx: CliContext): RulesSetup {
  const loaded = ctx.config();
  if (!loaded) return { config: { packs: ['pmo-standard'] }, cwd: ctx.io.cwd, configFile: undefined, waivers: [] };
  return {
    config: loaded.config.rules,
    cwd: dirname(loaded.file),
    configFile: loaded.file,
    waivers: loaded.config.rules.waivers,
  };
}

function activeRuleSet(s: RulesSetup): RuleSet {
  return loadRuleSet({ config: s.config, cwd: s.cwd, configFile: s.configFile });
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function printProblems(ctx: CliContext, problems: RuleProblem[], cwd: string): void {
  for (const p of problems) ctx.io.stdout(`${formatProblem(p, cwd)}\n`);
}

export function registerRules(program: Command, ctx: CliContext): void {
  const rules = program.command('rules').description('governance rules: list, lint, test, preview');

  rules
    .command('list')
    .description('list active rules with severity and source')
    .option('--json', 'print JSON')
    .action(
      ctx.action((o: { json?: boolean }) => {
        const s = setup(ctx);
        const set = activeRuleSet(s);
        if (o.json) {
          const out = {
            rules: set.rules.map((r) => ({
              id: r.id,
              title: r.title,
              severity: r.severity,
              area: r.area ?? null,
              rationale: r.rationale ?? null,
              source: r.source,
              params: r.def.params,
              scope: r.scope ?? null,
            })),
            disabled: set.disabled,
            problems: set.problems,
          };
          ctx.io.stdout(`${JSON.stringify(out, null, 2)}\n`);
          return Exit.ok;
        }
        const w = Math.max(4, ...set.rules.map((r) => r.id.length));
        ctx.io.stdout(`${pad('RULE', w)}  SEVERITY  ${pad('AREA', 16)}${pad('SOURCE', 20)}TITLE\n`);
        for (const r of set.rules) {
          ctx.io.stdout(
            `${pad(r.id, w)}  ${pad(r.severity, 8)}  ${pad(r.area ?? '-', 16)}${pad(r.source, 20)}${r.title}\n`,
          );
        }
        ctx.io.stdout(`\n${count(set.rules.length, 'active rule')}`);
        if (set.disabled.length > 0)
          ctx.io.stdout(`, ${set.disabled.length} disabled (${set.disabled.map((d) => d.id).join(', ')})`);
        ctx.io.stdout('\n');
        if (set.problems.length > 0) {
          ctx.io.stdout(`${count(set.problems.length, 'rule problem')}: run \`pmo-sync rules lint\`\n`);
        }
        return Exit.ok;
      }),
    );

  rules
    .command('lint')
    .description('check rule files (default: the packs and files the config names)')
    .argument('[files...]', 'rule files to check instead')
    .action(
      ctx.action((files: string[]) => {
        const s = setup(ctx);
        let problems: RuleProblem[];
        let ruleFiles: string[];
        let rules: number;
        if (files.length > 0) {
          ruleFiles = files.map((f) => resolve(ctx.io.cwd, f));
          const reads = ruleFiles.map((f) => readRuleFile(f, f));
          const set = buildRuleSet({
            sourced: reads.flatMap((r) => r.rules),
            problems: reads.flatMap((r) => r.problems),
            files: ruleFiles,
            knownIds: new Set(),
            env: createCelEnvironment(),
            functions: createRuleFunctions(),
            opts: { config: { ...s.config, overrides: {}, waivers: [] }, cwd: ctx.io.cwd },
          });
          problems = set.problems;
          rules = set.rules.length;
        } else {
          const set = activeRuleSet(s);
          problems = set.problems;
          ruleFiles = set.files;
          rules = set.rules.length;
        }
        for (const f of ruleFiles) problems.push(...readTestFile(testFileFor(f)).problems);
        printProblems(ctx, problems, ctx.io.cwd);
        if (problems.length > 0) throw new RuleProblemsError(problems.length);
        ctx.io.stdout(`${count(rules, 'rule')} in ${count(ruleFiles.length, 'file')}: no problems\n`);
        return Exit.ok;
      }),
    );

  rules
    .command('test')
    .description('run the test cases declared beside rules (<file>.tests.yaml)')
    .option('--json', 'print JSON')
    .action(
      ctx.action((o: { json?: boolean }) => {
        const s = setup(ctx);
        const set = activeRuleSet(s);
        const { results, problems } = runRuleTests(set);
        const failed = results.filter((r) => !r.ok);
        if (o.json) ctx.io.stdout(`${JSON.stringify({ results, problems }, null, 2)}\n`);
        else {
          printProblems(ctx, problems, ctx.io.cwd);
          for (const r of results) {
            const where = formatProblem({ file: r.file, line: r.line, ruleId: r.rule, message: r.name }, ctx.io.cwd);
            const ok = r.actual === 'inactive' ? `skip  ${r.rule}: ${r.name} (disabled)` : `ok    ${r.rule}: ${r.name}`;
            ctx.io.stdout(r.ok ? `${ok}\n` : `FAIL  ${where}: ${r.reason}\n`);
          }
          const tested = new Set(results.map((r) => r.rule));
          const untested = set.rules.filter((r) => !tested.has(r.id)).map((r) => r.id);
          const skipped = results.filter((r) => r.actual === 'inactive' && r.ok).length;
          ctx.io.stdout(
            `\n${results.length - failed.length - skipped} passed, ${failed.length} failed, ${skipped} skipped, ${count(results.length, 'case')}\n`,
          );
          if (untested.length > 0) ctx.io.stdout(`rules without test cases: ${untested.join(', ')}\n`);
        }
        if (problems.length > 0) throw new RuleProblemsError(problems.length);
        if (failed.length > 0) throw new RuleTestsFailedError(failed.length, results.length);
        return Exit.ok;
      }),
    );

  rules
    .command('preview')
    .description(
      'evaluate a changed rule file against the stored items: which findings would open and close (writes nothing)',
    )
    .argument('<file>', 'the rule file')
    .option('--json', 'print JSON')
    .action(
      ctx.action(async (file: string, o: { json?: boolean }) => {
        const s = setup(ctx);
        const { db } = await ctx.database();
        const result = await previewRuleFile(db, {
          file: resolve(ctx.io.cwd, file),
          config: s.config,
          cwd: s.cwd,
          now: new Date(),
          waivers: s.waivers,
        });
        if (o.json) {
          ctx.io.stdout(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          printProblems(ctx, result.problems, ctx.io.cwd);
          const line = (verb: string, c: { ref: string; rule: string; severity: string; message: string }) =>
            ctx.io.stdout(`${verb}  ${c.ref}  ${c.rule} (${c.severity}): ${c.message}\n`);
          for (const c of result.wouldOpen) line('open   ', c);
          for (const c of result.wouldWaive) line('waive  ', c);
          for (const c of result.wouldResolve) line('resolve', c);
          for (const c of result.wouldChangeMessage) line('update ', c);
          ctx.io.stdout(
            `\n${count(result.rules.length, 'rule')} over ${count(result.evaluated, 'item')} (${count(result.checks, 'check')}): ` +
              `${result.wouldOpen.length} would open, ${result.wouldResolve.length} would resolve, ` +
              `${result.wouldWaive.length} would be waived, ${result.wouldChangeMessage.length} would change message` +
              (result.removed.length > 0 ? `; removed rules: ${result.removed.join(', ')}` : '') +
              '\n',
          );
        }
        if (result.problems.length > 0) throw new RuleProblemsError(result.problems.length);
        return Exit.ok;
      }),
    );
}
