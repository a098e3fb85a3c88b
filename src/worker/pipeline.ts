// The sync pipeline on Workers: the rule set handed in (bundled, not read from disk) and no
// inline sending: planned writes stay in the outbox and a `writes` queue message sends them in
// their own invocation, with its own subrequest budget and retries.
import type { RuleSet } from '../../rules/load.ts';
import type { Config } from '../config/schema.ts';
import { createSyncPipeline, type SyncPipeline } from '../sync/pipeline.ts';
import type { Env } from './env.ts';

export interface WorkerPipelineDeps {
  config: Config;
  ruleSet: RuleSet;
  env: Pick<Env, 'EVENTS'>;
}

export function buildWorkerPipeline(deps: WorkerPipelineDeps): SyncPipeline {
  return createSyncPipeline({
    config: deps.config,
    ruleSet: deps.ruleSet,
    async send({ connections }) {
      await deps.env.EVENTS.send({ type: 'writes', connections });
      // Queued, not sent: the consumer's write worker reports what it sends.
      return { sent: 0, failed: 0 };
    },
  });
}
