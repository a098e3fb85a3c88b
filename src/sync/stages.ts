// Assembles the sync stages: rule evaluation, rollups, write planning and sending. Kept apart
// from runSync so tests can run a sync with exactly the stages they want.
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { evaluateFindings, loadRuleSet, type RuleSet } from '../../rules/index.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { recomputeRollups } from '../rollups/compute.ts';
import { planWrites } from '../writeback/plan.ts';
import { createWriteWorker } from '../writeback/worker.ts';
import type { SyncStages } from './run.ts';

export interface StageDeps {
  config: Config;
  /** Folder that `rules.files` are relative to: the config file's folder. */
  cwd: string;
  log: Logger;
  database: Database;
  connectors: ReadonlyMap<string, Connector>;
}

export async function buildSyncStages(deps: StageDeps): Promise<SyncStages & { ruleSet: RuleSet }> {
  const { config } = deps;
  // Reports each broken rule once through `log` and skips it; the others still run.
  const ruleSet = loadRuleSet({ config: config.rules, cwd: deps.cwd, log: deps.log });
  return {
    ruleSet,
    evaluate(db, { refs, now }) {
      return evaluateFindings(db, ruleSet, { refs, now, waivers: config.rules.waivers });
    },
    async afterEvaluate(db, { changedRefs, findings, now, dryRun, priority }) {
      const { changedEpics } = await recomputeRollups(db, {
        now,
        programs: config.portfolio.programs,
        thresholds: config.portfolio.health,
        changedRefs,
      });
      let refs: string[];
      if (changedRefs === undefined) {
        const { workItems } = await import('../../db/schema.ts');
        const { isNull } = await import('drizzle-orm');
        refs = (await db.select({ ref: workItems.ref }).from(workItems).where(isNull(workItems.deletedAt))).map(
          (r) => r.ref,
        );
      } else {
        refs = [...new Set([...changedRefs, ...findings.changedRefs, ...changedEpics])];
      }
      return planWrites(db, config, { refs, dryRun, priority });
    },
    async send({ connections }) {
      const worker = createWriteWorker({
        database: deps.database,
        connectors: new Map([...deps.connectors].filter(([id]) => connections.includes(id))),
        log: deps.log,
      });
      const r = await worker.drain();
      return { sent: r.sent, failed: r.failed + r.dead };
    },
  };
}
