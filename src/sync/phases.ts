// Where a sync pass is, for a progress display: each connection's pull (items so far, and the
// total when the tracker tells it up front), then the stages over all connections. Emitted by
// runSync; the CLI draws it (src/cli/progress.ts).
import type { SyncStages } from './stages-types.ts';

/**
 * A connection's phases, in order: `pull` (pages arrive and are stored behind it), `store` (the
 * pull is read; the last batches are written, and the deletion sweep runs when asked), then
 * `done`, `failed` or `skipped`. The pass's own phases follow: `evaluate`, `roll up` (rollups
 * and the plan of writes), `write` (sending them), and `done` once the pass is recorded.
 */
export type SyncPhase = 'pull' | 'store' | 'done' | 'failed' | 'skipped' | 'evaluate' | 'roll up' | 'write';

export interface SyncProgress {
  /** The connection, or null for a phase over all connections. */
  connection: string | null;
  phase: SyncPhase;
  /** Items pulled so far (a connection's phases); 0 for the pass's phases. */
  done: number;
  /** Items expected: a connection's pull total when the tracker tells it, the items evaluate reads. */
  total: number | null;
}

/** The stages, each announcing its phase before it runs; the same object when nobody listens. */
export function withPhaseEvents(stages: SyncStages, emit: ((e: SyncProgress) => void) | undefined): SyncStages {
  if (!emit) return stages;
  const phase = (p: SyncPhase, total: number | null = null) => emit({ connection: null, phase: p, done: 0, total });
  const { evaluate, afterEvaluate, send } = stages;
  return {
    ...stages,
    evaluate: evaluate
      ? (db, opts) => {
          phase('evaluate', opts.refs?.length ?? null);
          return evaluate.call(stages, db, opts);
        }
      : undefined,
    afterEvaluate: afterEvaluate
      ? (db, opts) => {
          phase('roll up', opts.changedRefs?.length ?? null);
          return afterEvaluate.call(stages, db, opts);
        }
      : undefined,
    send: send
      ? (opts) => {
          phase('write');
          return send.call(stages, opts);
        }
      : undefined,
  };
}
