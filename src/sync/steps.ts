// The steps of a pass between the store and the send, each a plain function over the pass's
// transaction: take the queue, evaluate, roll up, plan, settle. run.ts calls them in this order
// (commitChanges); first-sync.ts calls the same ones for a large change set.
import { isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { workItems } from '../../db/schema.ts';
import { storableText } from '../../db/storable.ts';
import { type EvaluateFindingsOptions, evaluateFindings } from '../findings/evaluate.ts';
import { recomputeRollups } from '../rollups/compute.ts';
import { type PlanResult, planWrites, takeDryRunPlans } from '../writeback/plan.ts';
import type { SyncPipeline } from './pipeline.ts';
import {
  anyQuarantined,
  type QuarantinedItem,
  type QuarantineStage,
  recordQuarantine,
  releaseQuarantine,
} from './quarantine.ts';
import { queuedChanges, queueForEvaluation, settleQueued } from './store.ts';
import type { FindingsSummary } from './summary.ts';

/** What a pass evaluates, and the queue rows it settles once committed. */
export interface Pass {
  /** The refs evaluated; undefined: every stored item (a full pass). */
  refs: string[] | undefined;
  /** Owners whose in-progress items are re-evaluated too: owners the changed items left. */
  owners: string[] | undefined;
  settle: { refs: string[]; versions: string[] };
}

/**
 * The refs a pass evaluates: `given` (undefined: every item), whatever the evaluation queue
 * holds (items stored by a pass or a webhook batch that died before its commit), and the places
 * queued items left (a previous parent, a dropped link's target, a previous owner: store.ts
 * ItemReach). A connection in `hold` failed its pull in this pass: its queued changes are
 * neither evaluated nor settled (on a full pass they are evaluated, and still left queued), so
 * no finding is worked out from items a failed read would have refreshed.
 *
 * A pass settles only the queue as it stood when it began: an item another writer stores
 * meanwhile may be read before its new content, and its queue row must outlive this pass in
 * case that writer dies before its own commit evaluates it (store.ts settleQueued).
 *
 * A function of its own because a suspended async function keeps its locals alive, used again
 * or not: the queue snapshot of a first sync is 150,000 strings held through its evaluation.
 */
export async function takeQueue(tx: Db, given: string[] | undefined, hold: readonly string[]): Promise<Pass> {
  const queued = await queuedChanges(tx);
  const held = hold.length === 0 ? null : (ref: string) => hold.includes(ref.slice(0, ref.indexOf(':')));
  // A held connection's queue rows keep their reach too: nothing of them is settled.
  const queue = held ? await queuedChanges(tx, hold) : queued;
  let refs = given === undefined ? undefined : [...new Set([...given, ...queue.refs, ...queue.reach.refs])];
  if (refs && held) refs = refs.filter((r) => !held(r));
  const owners = given === undefined || queue.reach.owners.length === 0 ? undefined : queue.reach.owners;
  const settle = refs ?? (held ? queued.refs.filter((r) => !held(r)) : queued.refs);
  return { refs, owners, settle: { refs: settle, versions: queued.versions } };
}

/** Evaluate: the rules over the pass's refs and the items whose findings depend on them. */
export function evaluate(
  tx: Db,
  pipeline: SyncPipeline,
  pass: Pass,
  opts: { now: Date; reader?: Db; onChunk?: EvaluateFindingsOptions['onChunk'] },
): Promise<FindingsSummary> {
  return evaluateFindings(tx, pipeline.ruleSet, {
    refs: pass.refs,
    owners: pass.owners,
    now: opts.now,
    reader: opts.reader,
    waivers: pipeline.config.rules.waivers,
    onChunk: opts.onChunk,
  });
}

/**
 * Roll up: the rollups of the epics above what changed and above every item whose findings
 * changed (one owner's finished work resolves WIP findings under other epics), then the
 * project, program and portfolio rollups unless `deferAggregates` (refreshAggregates does them).
 * Returns the refs whose writes may have changed: those items and the epics whose rollup moved;
 * undefined on a full pass (every item). One set serves the rollups and the planning: a first
 * sync's holds 150,000 refs, and each copy was megabytes more at the end of the pass.
 */
export async function rollUp(
  tx: Db,
  pipeline: SyncPipeline,
  opts: { refs: string[] | undefined; findings: FindingsSummary; now: Date; deferAggregates?: boolean },
): Promise<Set<string> | undefined> {
  const touched = opts.refs && new Set(opts.refs);
  if (touched) for (const ref of opts.findings.changedRefs) touched.add(ref);
  const { changedEpics } = await recomputeRollups(tx, {
    now: opts.now,
    programs: pipeline.config.portfolio.programs,
    thresholds: pipeline.config.portfolio.health,
    changedRefs: touched && [...touched],
    aggregates: !opts.deferAggregates,
  });
  if (touched) for (const ref of changedEpics) touched.add(ref);
  return touched;
}

/** The project, program and portfolio rollups over every stored item (the webhook path's deferred ones). */
export async function refreshAggregates(tx: Db, pipeline: SyncPipeline, now: Date): Promise<void> {
  await recomputeRollups(tx, {
    now,
    programs: pipeline.config.portfolio.programs,
    thresholds: pipeline.config.portfolio.health,
    changedRefs: [],
    aggregates: true,
  });
}

/**
 * Plan: the desired comment, labels and fields of each candidate (undefined: every live item)
 * against what was applied and what waits, into the outbox. An enforce pass also plans again,
 * on the current state, the items earlier dry runs planned (takeDryRunPlans), so it sends what
 * they showed. `skip` holds refs already planned (first-sync.ts); `triggers` the pass's own refs.
 */
export async function plan(
  tx: Db,
  pipeline: SyncPipeline,
  opts: {
    candidates: Set<string> | undefined;
    skip?: ReadonlySet<string>;
    triggers: string[] | undefined;
    dryRun: boolean;
    priority?: number;
    reader?: Db;
  },
): Promise<PlanResult> {
  const carried = opts.dryRun ? [] : await takeDryRunPlans(tx);
  let candidates: Iterable<string>;
  if (opts.candidates === undefined) {
    candidates = (await tx.select({ ref: workItems.ref }).from(workItems).where(isNull(workItems.deletedAt))).map(
      (r) => r.ref,
    );
  } else {
    for (const ref of carried) opts.candidates.add(ref);
    candidates = opts.candidates;
  }
  const refs: string[] = [];
  for (const ref of candidates) if (!opts.skip?.has(ref)) refs.push(ref);
  return planWrites(tx, pipeline.config, {
    refs,
    dryRun: opts.dryRun,
    priority: opts.priority,
    triggers: opts.triggers,
    reader: opts.reader,
  });
}

/**
 * Settle: quarantines the items the pass failed to evaluate or plan and queues them again (their
 * row is written by this transaction, so settleQueued leaves it for the next pass); removes the
 * other `evaluate` and `plan` quarantine rows of the pass's refs (those items got through); and
 * settles the queue rows the pass began with.
 */
export async function settle(tx: Db, pass: Pass, failed: QuarantinedItem[]): Promise<void> {
  if (failed.length > 0 || (await anyQuarantined(tx, ['evaluate', 'plan']))) {
    for (const stage of ['evaluate', 'plan'] as const) {
      const keep = failed.filter((f) => f.stage === stage).map((f) => f.ref);
      await releaseQuarantine(tx, stage, pass.refs, keep);
    }
    if (failed.length > 0) {
      await recordQuarantine(tx, failed);
      await queueForEvaluation(tx, [...new Set(failed.map((f) => f.ref))]);
    }
  }
  await settleQueued(tx, pass.settle.refs, pass.settle.versions);
}

/** Items a step could not work out, as quarantine rows of that step. */
export const failures = (
  stage: QuarantineStage,
  items: readonly { ref: string; reason: string }[] = [],
): QuarantinedItem[] => items.map((f) => ({ ref: f.ref, stage, reason: storableText(f.reason) }));
