// The sync stages on Workers: the same evaluation, rollups and write planning as
// src/sync/stages.ts, with the rule set handed in (bundled, not read from disk) and no inline
// `send`: planned writes are left in the outbox and a `writes` queue message sends them in
// their own invocation, with its own subrequest budget and retries.
import { isNull } from 'drizzle-orm';
import { workItems } from '../../db/schema.ts';
import { evaluateFindings } from '../../rules/findings.ts';
import type { RuleSet } from '../../rules/load.ts';
import type { Config } from '../config/schema.ts';
import { recomputeRollups } from '../rollups/compute.ts';
import type { SyncStages } from '../sync/run.ts';
import { planWrites } from '../writeback/plan.ts';
import type { Env } from './env.ts';

export interface WorkerStageDeps {
  config: Config;
  ruleSet: RuleSet;
  env: Pick<Env, 'EVENTS'>;
}

export function buildWorkerStages(deps: WorkerStageDeps): SyncStages & { ruleSet: RuleSet } {
  const { config, ruleSet } = deps;
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
      const refs =
        changedRefs === undefined
          ? (await db.select({ ref: workItems.ref }).from(workItems).where(isNull(workItems.deletedAt))).map(
              (r) => r.ref,
            )
          : [...new Set([...changedRefs, ...findings.changedRefs, ...changedEpics])];
      return planWrites(db, config, { refs, dryRun, priority });
    },
    async send({ connections }) {
      await deps.env.EVENTS.send({ type: 'writes', connections });
      // Queued, not sent: the consumer's write worker reports what it sends.
      return { sent: 0, failed: 0 };
    },
  };
}
