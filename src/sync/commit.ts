// The one place where stored changes become findings, rollups and planned writes, in one
// transaction (the transactional outbox). Sync passes and webhook processing both end here.
import type { Db } from '../../db/client.ts';
import type { SyncStages } from './run.ts';
import { type QueueSnapshot, queuedChanges, settleQueued } from './store.ts';
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
}

export interface CommitResult {
  findings: FindingsSummary;
  planned: number;
  skippedUnchanged: number;
}

/**
 * Changes at least this large are evaluated between two memory-reducing collections: the pull
 * that stored them, then the evaluation, each leave tens of megabytes of the heap's freed pages
 * resident (SyncStages.releaseMemory).
 */
export const RELEASE_MEMORY_AT = 20_000;

export async function commitChanges(db: Db, stages: SyncStages, opts: CommitOptions): Promise<CommitResult> {
  const result: CommitResult = { findings: emptyFindings(), planned: 0, skippedUnchanged: 0 };
  if (!stages.evaluate && !stages.afterEvaluate) return result;
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    // Items stored by an earlier pass that died before this point are evaluated now. A pass
    // settles only the queue as it stood when it began: an item another writer stores meanwhile
    // may be read before its new content, and its queue row must outlive this pass in case
    // that writer dies before its own commit evaluates it (store.ts settleQueued).
    let queued: QueueSnapshot | null = await queuedChanges(tx);
    const refs = opts.refs === undefined ? undefined : [...new Set([...opts.refs, ...queued.refs])];
    // Every queued ref is among `refs`, so the snapshot's own copies of them need not be kept
    // through the evaluation (settleQueued).
    const settle = { refs: refs ?? queued.refs, versions: queued.versions };
    // A suspended async function keeps its locals alive, used again or not: the snapshot's
    // list held 150,000 strings of its own through a first sync's evaluation.
    queued = null;
    if (refs !== undefined && refs.length === 0) return;
    const large = refs === undefined || refs.length >= RELEASE_MEMORY_AT;
    if (large) stages.releaseMemory?.();
    if (stages.evaluate)
      result.findings = await stages.evaluate(tx, {
        refs,
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
    }
    await settleQueued(tx, settle.refs, settle.versions);
  });
  return result;
}
