// Assembles the sync stages: rule evaluation, rollups, write planning and sending. Kept apart
// from runSync so tests can run a sync with exactly the stages they want. The stages are the
// same on every runtime; only where the rules come from and how writes are sent differ.
import { isNull } from 'drizzle-orm';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { workItems } from '../../db/schema.ts';
import { evaluateFindings } from '../../rules/findings.ts';
import { loadRuleSet, type RuleSet } from '../../rules/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { recomputeRollups } from '../rollups/compute.ts';
import { planWrites } from '../writeback/plan.ts';
import { createWriteWorker } from '../writeback/worker.ts';
import type { SyncStages } from './run.ts';

/** The stages over a compiled rule set; `send` says how planned writes leave the outbox. */
export function createSyncStages(deps: {
  config: Config;
  ruleSet: RuleSet;
  send?: SyncStages['send'];
}): SyncStages & { ruleSet: RuleSet } {
  const { config, ruleSet } = deps;
  return {
    ruleSet,
    evaluate(db, { refs, now, reader }) {
      return evaluateFindings(db, ruleSet, { refs, now, reader, waivers: config.rules.waivers });
    },
    async afterEvaluate(db, { changedRefs, findings, now, dryRun, priority, deferAggregates, reader }) {
      const { changedEpics } = await recomputeRollups(db, {
        now,
        programs: config.portfolio.programs,
        thresholds: config.portfolio.health,
        // Items whose findings changed move their epics' finding counts and compliance too, and
        // they need not be below a changed item: one owner's finished work resolves the
        // work-in-progress findings of their items under other epics.
        changedRefs: changedRefs && [...new Set([...changedRefs, ...findings.changedRefs])],
        aggregates: !deferAggregates,
      });
      const refs =
        changedRefs === undefined
          ? (await db.select({ ref: workItems.ref }).from(workItems).where(isNull(workItems.deletedAt))).map(
              (r) => r.ref,
            )
          : [...new Set([...changedRefs, ...findings.changedRefs, ...changedEpics])];
      return planWrites(db, config, { refs, dryRun, priority, triggers: changedRefs, reader });
    },
    async refreshAggregates(db, { now }) {
      await recomputeRollups(db, {
        now,
        programs: config.portfolio.programs,
        thresholds: config.portfolio.health,
        changedRefs: [],
        aggregates: true,
      });
    },
    send: deps.send,
  };
}

export interface StageDeps {
  config: Config;
  /** Folder that `rules.files` are relative to: the config file's folder. */
  cwd: string;
  log: Logger;
  database: Database;
  connectors: ReadonlyMap<string, Connector>;
}

/** Node: rules read from their files, writes sent in-process by a write worker. */
export async function buildSyncStages(deps: StageDeps): Promise<SyncStages & { ruleSet: RuleSet }> {
  // Reports each broken rule once through `log` and skips it; the others still run.
  const ruleSet = loadRuleSet({ config: deps.config.rules, cwd: deps.cwd, log: deps.log });
  return createSyncStages({
    config: deps.config,
    ruleSet,
    async send({ connections }) {
      const worker = createWriteWorker({
        database: deps.database,
        connectors: new Map([...deps.connectors].filter(([id]) => connections.includes(id))),
        log: deps.log,
      });
      const r = await worker.drain();
      return { sent: r.sent, failed: r.failed + r.dead };
    },
  });
}
