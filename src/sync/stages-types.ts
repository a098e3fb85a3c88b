// What a sync pass runs after it has stored the trackers' changes: the stages runSync and the
// webhook processor are given (src/sync/stages.ts assembles them). A file of its own, so the
// modules that take stages need not import the pass that calls them.
import type { Db } from '../../db/client.ts';
import type { PlanResult } from '../writeback/plan.ts';
import type { FindingsSummary, WritesSummary } from './summary.ts';

export interface SyncStages {
  /**
   * Evaluates rules for the changed refs (all stored items when `refs` is undefined). `reader`,
   * when given, is a connection outside `db`'s transaction for reading committed items and
   * findings while the transaction writes (see CommitOptions.reader).
   */
  evaluate?(
    db: Db,
    opts: {
      refs: string[] | undefined;
      /**
       * Owner ids whose in-progress items are re-evaluated besides what `refs` reach: owners the
       * changed items left (store.ts ItemReach). Ignored on a full pass.
       */
      owners?: string[];
      now: Date;
      reader?: Db;
      /** How `afterEvaluate` will plan writes: a large evaluation may plan some of them itself. */
      plan?: { dryRun: boolean; priority?: number; deferAggregates?: boolean };
    },
  ): Promise<FindingsSummary>;
  /**
   * Recomputes rollups and plans writes after evaluation, in the same transaction as the
   * findings (the transactional outbox). `changedRefs` is undefined on a full pass.
   */
  afterEvaluate?(
    db: Db,
    opts: {
      changedRefs: string[] | undefined;
      findings: FindingsSummary;
      now: Date;
      dryRun: boolean;
      priority?: number;
      /** Leave project, program and portfolio rollups for `refreshAggregates` (epics are always done). */
      deferAggregates?: boolean;
      /** See `evaluate`: reads rows the transaction does not write (applied state, earlier plans). */
      reader?: Db;
    },
  ): Promise<Pick<WritesSummary, 'planned' | 'skippedUnchanged'> & Pick<PlanResult, 'quarantined'>>;
  /**
   * Runs after the pull is stored and before evaluation, outside its transaction (it may call
   * the trackers): status histories and forecasts. Returns refs whose evaluation it changed.
   */
  beforeEvaluate?(db: Db, opts: { changedRefs: string[] | undefined; now: Date }): Promise<string[]>;
  /** Recomputes the project, program and portfolio rollups over every stored item. */
  refreshAggregates?(db: Db, opts: { now: Date }): Promise<void>;
  /** Sends planned writes once the plan is committed (never in dry-run). */
  send?(opts: { connections: string[] }): Promise<Pick<WritesSummary, 'sent' | 'failed'>>;
  /**
   * Returns memory the stage before no longer holds to the system (Node: src/util/memory.ts).
   * Called around the evaluation of a large change set only: it costs a full collection.
   */
  releaseMemory?(): void;
}
