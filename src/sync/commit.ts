// The one place where stored changes become findings, rollups and planned writes, in one
// transaction (the transactional outbox). Sync passes and webhook processing both end here.
import type { Db } from '../../db/client.ts';
import { storableText } from '../../db/storable.ts';
import { hasDryRunPlans } from '../writeback/plan.ts';
import {
  anyQuarantined,
  type QuarantinedItem,
  type QuarantineStage,
  recordQuarantine,
  releaseQuarantine,
} from './quarantine.ts';
import type { SyncStages } from './stages-types.ts';
import { queuedChanges, queueForEvaluation, settleQueued } from './store.ts';
import { emptyFindings, type FindingsSummary } from './summary.ts';

export interface CommitOptions {
  /** Refs that changed; undefined re-evaluates everything (a full pass). */
  refs: string[] | undefined;
  now: Date;
  dryRun: boolean;
  priority?: number;
  /** See SyncStages.afterEvaluate. */
  deferAggregates?: boolean;
  /**
   * A connection pool outside the transaction (Postgres only). A large evaluation reads its
   * next items and findings through it while the transaction writes the last ones: both were
   * committed before the transaction began, and it writes only findings of refs already read.
   */
  reader?: Db;
  /**
   * Connections whose pull failed in this pass: their queued changes are neither evaluated nor
   * settled (on a full pass they are evaluated, and still left queued). A failed read leaves
   * part of such a connection stale beside what it did store, so a finding worked out now could
   * rest on items it would have refreshed; the next pass that reads the connection through
   * evaluates them on fresh data.
   */
  hold?: readonly string[];
}

export interface CommitResult {
  findings: FindingsSummary;
  planned: number;
  skippedUnchanged: number;
  /** Items whose evaluation or planning failed in this commit (the others' went through). */
  quarantined: QuarantinedItem[];
}

/**
 * Changes at least this large are evaluated between two memory-reducing collections: the pull
 * that stored them, then the evaluation, each leave tens of megabytes of the heap's freed pages
 * resident (SyncStages.releaseMemory).
 */
export const RELEASE_MEMORY_AT = 20_000;

export async function commitChanges(db: Db, stages: SyncStages, opts: CommitOptions): Promise<CommitResult> {
  const result: CommitResult = { findings: emptyFindings(), planned: 0, skippedUnchanged: 0, quarantined: [] };
  if (!stages.evaluate && !stages.afterEvaluate) return result;
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    // Items stored by an earlier pass that died before this point are evaluated now. A pass
    // settles only the queue as it stood when it began: an item another writer stores meanwhile
    // may be read before its new content, and its queue row must outlive this pass in case
    // that writer dies before its own commit evaluates it (store.ts settleQueued).
    const { refs, owners, settle } = await passRefs(tx, opts.refs, opts.hold ?? []);
    // Nothing changed: an enforce pass still has a dry run's plans to take (takeDryRunPlans).
    if (refs !== undefined && refs.length === 0 && (opts.dryRun || !(await hasDryRunPlans(tx)))) return;
    const large = refs === undefined || refs.length >= RELEASE_MEMORY_AT;
    if (large) stages.releaseMemory?.();
    if (stages.evaluate)
      result.findings = await stages.evaluate(tx, {
        refs,
        owners,
        now: opts.now,
        reader: opts.reader,
        plan: { dryRun: opts.dryRun, priority: opts.priority, deferAggregates: opts.deferAggregates },
      });
    if (large) stages.releaseMemory?.();
    if (stages.afterEvaluate) {
      const w = await stages.afterEvaluate(tx, {
        changedRefs: refs,
        findings: result.findings,
        now: opts.now,
        dryRun: opts.dryRun,
        priority: opts.priority,
        deferAggregates: opts.deferAggregates,
        reader: opts.reader,
      });
      result.planned = w.planned;
      result.skippedUnchanged = w.skippedUnchanged;
      result.quarantined.push(...failures('plan', w.quarantined));
    }
    result.quarantined.unshift(...failures('evaluate', result.findings.quarantined));
    await settleQuarantine(tx, refs, result.quarantined);
    await settleQueued(tx, settle.refs, settle.versions);
  });
  return result;
}

const failures = (stage: QuarantineStage, items: readonly { ref: string; reason: string }[] = []): QuarantinedItem[] =>
  items.map((f) => ({ ref: f.ref, stage, reason: storableText(f.reason) }));

/**
 * Quarantines the items this commit failed to evaluate or plan, and queues them again: their row
 * is written by this transaction, so settleQueued (which settles only rows the pass began with)
 * leaves it for the next pass. The other `evaluate` and `plan` rows of the pass's refs (all rows
 * on a full pass) are removed: those items got through.
 */
async function settleQuarantine(tx: Db, refs: string[] | undefined, failed: QuarantinedItem[]): Promise<void> {
  if (failed.length === 0 && !(await anyQuarantined(tx, ['evaluate', 'plan']))) return;
  for (const stage of ['evaluate', 'plan'] as const) {
    const keep = failed.filter((f) => f.stage === stage).map((f) => f.ref);
    await releaseQuarantine(tx, stage, refs, keep);
  }
  if (failed.length === 0) return;
  await recordQuarantine(tx, failed);
  await queueForEvaluation(tx, [...new Set(failed.map((f) => f.ref))]);
}

/**
 * The refs a pass evaluates (undefined: every item), the previous owners whose work in progress
 * it re-evaluates too, and the queue rows it settles afterwards: `given` and whatever the queue
 * holds. Every queued ref is among the refs, so the snapshot's own
 * copies of them are not kept. A function of its own because a suspended async function keeps its
 * locals alive, used again or not: the snapshot's list held 150,000 strings through a first
 * sync's evaluation.
 */
async function passRefs(
  tx: Db,
  given: string[] | undefined,
  hold: readonly string[],
): Promise<{
  refs: string[] | undefined;
  owners: string[] | undefined;
  settle: { refs: string[]; versions: string[] };
}> {
  const queued = await queuedChanges(tx);
  const held = hold.length === 0 ? null : (ref: string) => hold.includes(ref.slice(0, ref.indexOf(':')));
  // A held connection's queue rows keep their reach too: nothing of them is settled.
  const queue = held ? await queuedChanges(tx, hold) : queued;
  // The places queued items left are evaluated as if changed: a previous parent's aggregates
  // and a dropped link's target read the item no more (store.ts ItemReach).
  let refs = given === undefined ? undefined : [...new Set([...given, ...queue.refs, ...queue.reach.refs])];
  if (refs && held) refs = refs.filter((r) => !held(r));
  const owners = given === undefined || queue.reach.owners.length === 0 ? undefined : queue.reach.owners;
  const settle = refs ?? (held ? queued.refs.filter((r) => !held(r)) : queued.refs);
  return { refs, owners, settle: { refs: settle, versions: queued.versions } };
}
