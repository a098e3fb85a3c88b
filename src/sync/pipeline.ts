// What a sync pass runs after the pull, as one object: the rule set the evaluation applies,
// the configuration the rollups and the planner read, the history step that feeds forecasts,
// and how planned writes leave the outbox. runSync (run.ts) and the webhook processor take it;
// the steps themselves are plain functions (steps.ts) that run.ts calls in order.
import type { Connector } from '../../connectors/types.ts';
import type { Database, Db } from '../../db/client.ts';
import { loadRuleSet, type RuleSet } from '../../rules/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { forecastStage } from '../forecast/stage.ts';
import { releaseFreedMemory } from '../util/memory.ts';
import { createWriteWorker } from '../writeback/worker.ts';
import type { WritesSummary } from './summary.ts';

/**
 * Reads the trackers' status histories and refreshes the forecasts, after the pull is stored and
 * before the evaluation, outside its transaction (it calls the trackers). `changedRefs` is
 * undefined on a full pass. Returns refs whose evaluation it changed.
 */
export type HistoryStep = (db: Db, opts: { changedRefs: string[] | undefined; now: Date }) => Promise<string[]>;

/** Sends the planned writes of these connections once the plan is committed. */
export type SendWrites = (opts: { connections: string[] }) => Promise<Pick<WritesSummary, 'sent' | 'failed'>>;

export interface SyncPipeline {
  readonly config: Config;
  readonly ruleSet: RuleSet;
  /** Status histories and forecasts; null when forecasts are off. */
  readonly history: HistoryStep | null;
  /** How planned writes leave the outbox: a write worker in-process (Node), a queue message (Workers). */
  readonly send: SendWrites;
  /**
   * Returns to the system the heap pages a large pull or evaluation freed (Node:
   * src/util/memory.ts); a no-op where the runtime has no such call. It costs a full collection,
   * so only a large change set's path calls it (first-sync.ts).
   */
  readonly releaseMemory: () => void;
}

/** Writes stay in the outbox: whoever drains it later sends them. */
export const keepInOutbox: SendWrites = async () => ({ sent: 0, failed: 0 });

export function createSyncPipeline(deps: {
  config: Config;
  ruleSet: RuleSet;
  history?: HistoryStep | null;
  send?: SendWrites;
  releaseMemory?: () => void;
}): SyncPipeline {
  return {
    config: deps.config,
    ruleSet: deps.ruleSet,
    history: deps.history ?? null,
    send: deps.send ?? keepInOutbox,
    releaseMemory: deps.releaseMemory ?? (() => {}),
  };
}

export interface NodePipelineDeps {
  config: Config;
  /** Folder that `rules.files` are relative to: the config file's folder. */
  cwd: string;
  log: Logger;
  database: Database;
  connectors: ReadonlyMap<string, Connector>;
}

/** Node: rules read from their files, writes sent in-process by a write worker. */
export async function buildSyncPipeline(deps: NodePipelineDeps): Promise<SyncPipeline> {
  // Reports each broken rule once through `log` and skips it; the others still run.
  const ruleSet = loadRuleSet({ config: deps.config.rules, cwd: deps.cwd, log: deps.log });
  return createSyncPipeline({
    config: deps.config,
    ruleSet,
    history: deps.config.forecast.enabled
      ? (db, opts) => forecastStage(db, { ...opts, config: deps.config, connectors: deps.connectors, log: deps.log })
      : null,
    async send({ connections }) {
      const worker = createWriteWorker({
        database: deps.database,
        connectors: new Map([...deps.connectors].filter(([id]) => connections.includes(id))),
        log: deps.log,
      });
      const r = await worker.drain();
      return { sent: r.sent, failed: r.failed + r.dead };
    },
    releaseMemory: () => void releaseFreedMemory(),
  });
}
