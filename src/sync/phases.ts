// Where a sync pass is, for a progress display: each connection's pull (items so far, and the
// total when the tracker tells it up front), then the steps over all connections. Emitted by
// runSync; the CLI draws it (src/cli/progress.ts).

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
