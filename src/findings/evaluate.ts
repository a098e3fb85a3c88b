// Evaluates rules against stored items and keeps the findings table and its history in step:
// load (all items, or the changed refs and what they affect — see load-items.ts), evaluate in
// memory and plan the lifecycle (rules/pass.ts, rules/plan.ts), write in bulk (store.ts).
// Works on a drizzle transaction too.
import type { Db } from '../../db/client.ts';
import { coversMostItems, letIoRun, type Pipeline, withPipeline } from '../../db/query.ts';
import type { EvaluationChunk } from '../../rules/affected.ts';
import type { CompiledRule } from '../../rules/compile.ts';
import type { Waiver } from '../../rules/config.ts';
import { type EvaluationRun, evaluateItemsSliced } from '../../rules/evaluate.ts';
import { createItemGraph, type GraphItem, type ItemGraph } from '../../rules/graph.ts';
import type { RuleSet } from '../../rules/load.ts';
import {
  chunkable,
  collectErrors,
  createTally,
  errorSummary,
  evaluateAndPlan,
  type FindingCounts,
  type FindingsSummary,
  findingsAfter,
  keptRules,
  planRun,
  projectCounts,
  type RuleErrorSummary,
  type RuleErrors,
  readsRaw,
  reportErrors,
  workloadRules,
} from '../../rules/pass.ts';
import type { FindingsPlan, StoredFinding } from '../../rules/plan.ts';
import { chunks, loadAffected, loadAllItems, loadChunk, planEvaluationChunks } from './load-items.ts';
import { addApplicable, addPlan, countFindings, existingFindings } from './store.ts';

export type { FindingsSummary, RuleErrorSummary } from '../../rules/pass.ts';

export interface EvaluateFindingsOptions {
  /** Refs whose items changed; omitted means every stored item. */
  refs?: string[];
  /** With `refs`: owner ids whose in-progress items are evaluated too (owners changed items left). */
  owners?: readonly string[];
  now: Date;
  waivers: Waiver[];
  /** Plan only: the summary says what would change; nothing is written. */
  dryRun?: boolean;
  /**
   * Reads committed items and findings outside `db`'s transaction (CommitOptions.reader), so a
   * chunked evaluation reads the next chunk while the transaction writes the last.
   */
  reader?: Db;
  /** Items per chunk of a large evaluation (load-items.ts EVALUATION_CHUNK); tests make it small. */
  chunkItems?: number;
  /** Items a chunk evaluates between two turns of the event loop (EVAL_SLICE); tests make it small. */
  sliceItems?: number;
  /**
   * Called for each chunk of a chunked evaluation once its findings are planned and sent, with
   * what the chunk's items look like afterwards: a first sync plans the items' writes from this
   * instead of reading it all back (src/sync/first-sync.ts). The statements it returns are waited
   * for with the chunk's own. Not called when nothing is written (`dryRun`).
   */
  onChunk?(chunk: EvaluatedChunk): Promise<Promise<unknown>[]>;
}

/** A chunk of a chunked evaluation, as its writes leave it (EvaluateFindingsOptions.onChunk). */
export interface EvaluatedChunk {
  graph: ItemGraph;
  /** The refs the chunk evaluated. */
  refs: readonly string[];
  /** Their open and waived findings once the chunk's plan is written. */
  findings: StoredFinding[];
  /** Rules that applied to each evaluated, live item (what item_checks holds for it). */
  applicable: ReadonlyMap<string, number>;
  /** The evaluation's pipeline on `db`: statements sent through it go out beside the chunk's. */
  pipeline: Pipeline;
}

export interface PreparedEvaluation {
  graph: ItemGraph;
  plan: FindingsPlan;
  evaluated: number;
  checks: number;
  /**
   * Rules that applied to each evaluated, live item: the compliance denominator. Items evaluated
   * for their owner's workload alone are not in it: their count did not change.
   */
  applicable: Map<string, number>;
  ruleErrors: RuleErrorSummary[];
  /** Items whose evaluation failed (EvaluationRun.failed). */
  failed: { ref: string; reason: string }[];
}

/** Loads, evaluates and plans without writing: shared by `evaluateFindings` and preview. */
export async function prepareEvaluation(
  db: Db,
  ruleSet: Pick<RuleSet, 'rules' | 'problems' | 'knownIds' | 'log'>,
  opts: EvaluateFindingsOptions & { keep?: (rule: string) => boolean },
): Promise<PreparedEvaluation> {
  let items: GraphItem[];
  let refs: string[];
  let workload: { refs: string[]; rules: CompiledRule[] } | undefined;
  const load = { raw: ruleSet.rules.some(readsRaw) };
  if (opts.refs) {
    // Items reached only through an owner's workload (an owner's 500 items in progress, one of
    // which changed hands) are evaluated with the rules that count it, without their context.
    const rules = workloadRules(ruleSet.rules);
    const affected = await loadAffected(db, opts.refs, { ...load, owners: opts.owners, workload: rules !== null });
    items = affected.items;
    refs = affected.evaluate;
    if (rules && affected.workload.length > 0) workload = { refs: affected.workload, rules };
  } else {
    items = await loadAllItems(db, load);
    refs = items.map((i) => i.ref);
  }
  const graph = createItemGraph(items, opts.now);
  const existing = await existingFindings(db, opts.refs ? refs : undefined);
  if (workload) existing.push(...(await existingFindings(db, workload.refs, workload.rules)));
  const { run, plan, applicable, reevaluated } = await evaluateAndPlan(graph, refs, existing, ruleSet.rules, {
    ...opts,
    keep: opts.keep ?? keptRules(ruleSet),
    workload,
  });
  const errors = collectErrors(new Map(), run.results);
  reportErrors(ruleSet, errors);
  const failed = [...(run.failed ?? []), ...(plan.failed ?? [])];
  return {
    graph,
    plan,
    evaluated: applicable.size + reevaluated,
    checks: run.checks,
    applicable,
    ruleErrors: errorSummary(errors),
    failed,
  };
}

/** Evaluates the rule set and writes the findings lifecycle; see FindingsSummary. */
export async function evaluateFindings(
  db: Db,
  ruleSet: RuleSet,
  opts: EvaluateFindingsOptions,
): Promise<FindingsSummary> {
  if (chunkable(ruleSet) && (opts.refs === undefined || (await coversMostItems(db, opts.refs)))) {
    return evaluateInChunks(db, ruleSet, opts);
  }
  const prepared = await prepareEvaluation(db, ruleSet, opts);
  const changes = prepared.plan.changes;
  const tally = createTally();
  tally.add(changes);
  tally.fail(prepared.failed);
  let counts: FindingCounts;
  if (opts.dryRun) counts = projectCounts(await countFindings(db), changes);
  else {
    await withPipeline(async (pipeline) => {
      addPlan(pipeline, db, prepared.plan, opts.now);
      addApplicable(pipeline, db, prepared.applicable);
    });
    counts = await countFindings(db);
  }
  return tally.summary(counts, prepared.evaluated, prepared.checks, prepared.ruleErrors);
}

/**
 * Items evaluated between two turns of the event loop (see letIoRun): some 10 ms of work. Each
 * turn lets the driver take a step of the chunk writes' protocol (a copy in a savepoint takes four), and with
 * 1,000 items a slice the database waited half the evaluation for them (BENCHMARKS.md, 25).
 */
const EVAL_SLICE = 250;

/**
 * A first or full evaluation, chunk by chunk (load-items.ts `planEvaluationChunks`): each chunk's
 * trees and their linked context are loaded, evaluated and planned, and its writes go out while
 * the next chunk is read and evaluated. The findings each chunk plans are those of its own
 * refs, so the result is the one a single pass over every item would give.
 */
async function evaluateInChunks(db: Db, ruleSet: RuleSet, opts: EvaluateFindingsOptions): Promise<FindingsSummary> {
  const reader = opts.reader ?? db;
  const planned = await planEvaluationChunks(reader, opts.refs, opts.chunkItems, opts.owners);
  const load = { raw: ruleSet.rules.some(readsRaw) };
  const keep = keptRules(ruleSet);
  const tally = createTally();
  let evaluated = 0;
  let checks = 0;
  const errors: RuleErrors = new Map();
  let projected = opts.dryRun ? await countFindings(db) : null;
  const read = (chunk: EvaluationChunk) =>
    Promise.all([loadChunk(reader, chunk, planned, load), existingFindings(reader, chunk.evaluate)]);
  await withPipeline(async (pipeline) => {
    const { chunks: list } = planned;
    const writing: Promise<unknown>[][] = [];
    // Reads go through `reader`: on Postgres another connection, on PGlite the one connection
    // whose copies are single calls. Neither waits for the transaction's copies.
    let next = list.length > 0 ? pipeline.beside(read(list[0]!)) : null;
    for (let i = 0; i < list.length; i++) {
      const chunk = list[i]!;
      const [items, existing] = await next!;
      next = i + 1 < list.length ? pipeline.beside(read(list[i + 1]!)) : null;
      const graph = createItemGraph(items, opts.now, { ownerWork: planned.ownerWork });
      // A slice at a time, letting I/O run between slices: the last chunks' writes go on
      // reaching the database, and the next chunk's rows arriving, while this one is evaluated.
      const run: EvaluationRun = { results: [], checks: 0 };
      for (const slice of chunks(chunk.evaluate, opts.sliceItems ?? EVAL_SLICE)) {
        await letIoRun();
        const part = await evaluateItemsSliced(graph, ruleSet.rules, slice);
        for (const r of part.results) run.results.push(r);
        run.checks += part.checks;
        tally.fail(part.failed);
      }
      const { plan, applicable } = planRun(graph, run, existing, ruleSet.rules, { ...opts, keep });
      collectErrors(errors, run.results);
      tally.fail(plan.failed);
      evaluated += applicable.size;
      checks += run.checks;
      tally.add(plan.changes);
      if (projected) projected = projectCounts(projected, plan.changes);
      else {
        // At most two chunks' writes wait in the driver: they hold their rows' JSON until sent,
        // and a backlog of every chunk's took tens of megabytes while the database caught up.
        const sent = [...addPlan(pipeline, db, plan, opts.now), ...addApplicable(pipeline, db, applicable)];
        if (opts.onChunk)
          sent.push(
            ...(await opts.onChunk({
              graph,
              refs: chunk.evaluate,
              findings: findingsAfter(existing, plan),
              applicable,
              pipeline,
            })),
          );
        writing.push(sent);
        if (writing.length > 2) await Promise.all(writing.shift()!);
      }
    }
  });
  reportErrors(ruleSet, errors);
  return tally.summary(projected ?? (await countFindings(db)), evaluated, checks, errorSummary(errors));
}
