// Assembles the sync stages from what this build has: rule evaluation once the rules engine
// is present, rollups and write planning once they are. Kept apart from runSync so tests can
// run a sync with exactly the stages they want.
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { SyncStages } from './run.ts';

export async function buildSyncStages(_opts: { config: Config; cwd: string; log: Logger }): Promise<SyncStages> {
  return {};
}
