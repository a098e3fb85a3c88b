// The path of a large change set (a first sync, a full pass): the same steps as any commit
// (steps.ts), arranged so that 150,000 items fit the first-sync memory goal.
// - The heap's freed pages go back to the system before and after the evaluation: the pull,
//   then the evaluation, each leave tens of megabytes of them resident.
// - The evaluation runs in chunks (src/findings/evaluate.ts), and on Postgres reads the next
//   chunk through a second connection outside the transaction while the transaction writes the
//   last one (`reader`).
// - The writes of items without a rollup are planned from each chunk's own results as it goes,
//   instead of the planner reading every item and its findings back after the rollups.
import type { Db } from '../../db/client.ts';
import { CONTAINER_KINDS } from '../rollups/sql.ts';
import { createItemPlanner, ownChange, PLAN_CHUNK, type PlanItem, type PlanResult } from '../writeback/plan.ts';
import type { SyncPipeline } from './pipeline.ts';
import { evaluate, type Pass, plan, rollUp } from './steps.ts';
import type { FindingsSummary } from './summary.ts';

/** A change set larger than one planning chunk takes this path; every full pass does. */
export function isLargeChange(refs: readonly string[] | undefined): boolean {
  return refs === undefined || refs.length > PLAN_CHUNK;
}

export interface LargeChangeOptions {
  now: Date;
  dryRun: boolean;
  priority?: number;
  /** A connection outside the transaction, for reading committed rows (Postgres); see CommitOptions. */
  reader?: Db;
  onPhase?(phase: 'evaluate' | 'roll up', total: number | null): void | Promise<void>;
}

/** Evaluates, rolls up and plans a large change set in `tx`; see the file's head. */
export async function commitLargeChange(
  tx: Db,
  pipeline: SyncPipeline,
  pass: Pass,
  opts: LargeChangeOptions,
): Promise<{ findings: FindingsSummary; planned: PlanResult }> {
  pipeline.releaseMemory();
  await opts.onPhase?.('evaluate', pass.refs?.length ?? null);
  const pre = prePlanner(pipeline, tx, opts);
  const findings = await evaluate(tx, pipeline, pass, { now: opts.now, reader: opts.reader, onChunk: pre.onChunk });
  pipeline.releaseMemory();
  await opts.onPhase?.('roll up', pass.refs?.length ?? null);
  const touched = await rollUp(tx, pipeline, { refs: pass.refs, findings, now: opts.now });
  const rest = await plan(tx, pipeline, {
    candidates: touched,
    skip: pre.planned,
    triggers: pass.refs,
    dryRun: opts.dryRun,
    priority: opts.priority,
    reader: opts.reader,
  });
  const quarantined = [...(pre.result.quarantined ?? []), ...(rest.quarantined ?? [])];
  return {
    findings,
    planned: {
      planned: rest.planned + pre.result.planned,
      skippedUnchanged: rest.skippedUnchanged + pre.result.skippedUnchanged,
      ...(quarantined.length > 0 ? { quarantined } : {}),
    },
  };
}

const CONTAINERS: ReadonlySet<string> = new Set(CONTAINER_KINDS);

/**
 * Plans, from each evaluated chunk, the writes of its items that have no rollup: everything but
 * initiatives, epics and features. Their writes depend on nothing the rollups compute, and their
 * `changedAt` is their own last change in so large a pass (planWrites). The containers are left
 * to the plan step, which skips the refs collected in `planned`.
 */
export function prePlanner(pipeline: SyncPipeline, tx: Db, opts: LargeChangeOptions) {
  const reader = opts.reader ?? tx;
  const planner = createItemPlanner(pipeline.config, {
    dryRun: opts.dryRun,
    priority: opts.priority,
    changedAt: ownChange,
  });
  const planned = new Set<string>();
  const onChunk: NonNullable<Parameters<typeof evaluate>[3]['onChunk']> = async ({
    graph,
    refs: evaluated,
    findings,
    applicable,
    pipeline: statements,
  }) => {
    const items: PlanItem[] = [];
    for (const ref of evaluated) {
      const it = graph.get(ref);
      const checks = applicable.get(ref);
      if (!it || it.deletedAt || checks === undefined || CONTAINERS.has(it.kind)) continue;
      items.push({
        ref,
        connection: it.connection,
        kind: it.kind,
        labels: it.labels,
        ruleChecks: checks,
        updated: it.updated,
      });
    }
    if (items.length === 0) return [];
    const refs = items.map((i) => i.ref);
    const stored = await planner.readStored(reader, refs);
    // The planner looks findings up by the items' refs: those of the containers are passed by.
    const rows = await planner.plan(items, findings, new Map(), stored);
    for (const ref of refs) planned.add(ref);
    // With no write of these items waiting, the rows are copied in. On Postgres the evaluation
    // reads through `reader`, never `tx`, so the copy holds up none of its reads; PGlite's copy
    // is a single call.
    return planner.insert(statements, tx, rows, { copy: stored[1].length === 0, refs });
  };
  return { planned, result: planner.result, onChunk };
}
