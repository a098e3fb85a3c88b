// Assembles the sync stages: rule evaluation, rollups, write planning and sending. Kept apart
// from runSync so tests can run a sync with exactly the stages they want. The stages are the
// same on every runtime; only where the rules come from and how writes are sent differ.
import { isNull } from 'drizzle-orm';
import type { Connector } from '../../connectors/types.ts';
import type { Database, Db } from '../../db/client.ts';
import { workItems } from '../../db/schema.ts';
import { loadRuleSet, type RuleSet } from '../../rules/load.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { type EvaluateFindingsOptions, evaluateFindings, type FindingsSummary } from '../findings/evaluate.ts';
import { forecastStage } from '../forecast/stage.ts';
import { recomputeRollups } from '../rollups/compute.ts';
import { CONTAINER_KINDS } from '../rollups/sql.ts';
import { releaseFreedMemory } from '../util/memory.ts';
import {
  createItemPlanner,
  ownChange,
  PLAN_CHUNK,
  type PlanItem,
  type PlanResult,
  planWrites,
  takeDryRunPlans,
} from '../writeback/plan.ts';
import { createWriteWorker } from '../writeback/worker.ts';
import type { SyncStages } from './stages-types.ts';

/** The stages over a compiled rule set; `send` says how planned writes leave the outbox. */
export function createSyncStages(deps: {
  config: Config;
  ruleSet: RuleSet;
  send?: SyncStages['send'];
  releaseMemory?: SyncStages['releaseMemory'];
  beforeEvaluate?: SyncStages['beforeEvaluate'];
}): SyncStages & { ruleSet: RuleSet } {
  const { config, ruleSet } = deps;
  /** Writes an evaluation planned itself, by the summary it returned (see prePlanner). */
  const prePlanned = new WeakMap<FindingsSummary, PrePlanned>();
  return {
    ruleSet,
    async evaluate(db, { refs, owners, now, reader, plan }) {
      const pre = plan && prePlanner(config, db, reader ?? db, plan, refs);
      const summary = await evaluateFindings(db, ruleSet, {
        refs,
        owners,
        now,
        reader,
        waivers: config.rules.waivers,
        onChunk: pre?.onChunk,
      });
      if (pre) prePlanned.set(summary, pre);
      return summary;
    },
    async afterEvaluate(db, { changedRefs, findings, now, dryRun, priority, deferAggregates, reader }) {
      // Items whose findings changed move their epics' finding counts and compliance too, and
      // they need not be below a changed item: one owner's finished work resolves the
      // work-in-progress findings of their items under other epics. One set of them serves the
      // rollups and the planning: a first sync's are 150,000 refs, and every copy as a set or
      // a spread list was megabytes more at the end of the pass.
      const touched = changedRefs && new Set(changedRefs);
      if (touched) for (const ref of findings.changedRefs) touched.add(ref);
      const { changedEpics } = await recomputeRollups(db, {
        now,
        programs: config.portfolio.programs,
        thresholds: config.portfolio.health,
        changedRefs: touched && [...touched],
        aggregates: !deferAggregates,
      });
      const pre = prePlanned.get(findings);
      // An enforce pass sends what earlier dry runs planned (takeDryRunPlans): their refs are
      // planned again here, on the current state. A full pass plans every item anyway.
      const carried = dryRun ? [] : await takeDryRunPlans(db);
      let candidates: Iterable<string>;
      if (touched === undefined) {
        candidates = (await db.select({ ref: workItems.ref }).from(workItems).where(isNull(workItems.deletedAt))).map(
          (r) => r.ref,
        );
      } else {
        for (const ref of changedEpics) touched.add(ref);
        for (const ref of carried) touched.add(ref);
        candidates = touched;
      }
      const refs: string[] = [];
      for (const ref of candidates) if (!pre?.refs.has(ref)) refs.push(ref);
      const planned = await planWrites(db, config, { refs, dryRun, priority, triggers: changedRefs, reader });
      if (!pre) return planned;
      const quarantined = [...(pre.result.quarantined ?? []), ...(planned.quarantined ?? [])];
      return {
        planned: planned.planned + pre.result.planned,
        skippedUnchanged: planned.skippedUnchanged + pre.result.skippedUnchanged,
        ...(quarantined.length > 0 ? { quarantined } : {}),
      };
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
    releaseMemory: deps.releaseMemory,
    beforeEvaluate: deps.beforeEvaluate,
  };
}

interface PrePlanned {
  /** Refs whose writes are planned: afterEvaluate leaves them out. */
  refs: Set<string>;
  result: PlanResult;
  onChunk: NonNullable<EvaluateFindingsOptions['onChunk']>;
}

/**
 * A large evaluation (a first sync) plans the writes of items without a rollup — everything but
 * initiatives, epics and features — from each chunk's own results as it goes, instead of the
 * planner reading 150,000 items and their findings back after the rollups. Their writes depend
 * on nothing the rollups compute, and their `changedAt` is their own last change in so large a
 * pass (planWrites). Containers, and everything when aggregates are deferred, are left to
 * afterEvaluate.
 */
export function prePlanner(
  config: Config,
  db: Db,
  reader: Db,
  plan: { dryRun: boolean; priority?: number; deferAggregates?: boolean },
  refs: string[] | undefined,
): PrePlanned | undefined {
  if (plan.deferAggregates || (refs !== undefined && refs.length <= PLAN_CHUNK)) return undefined;
  const planner = createItemPlanner(config, { dryRun: plan.dryRun, priority: plan.priority, changedAt: ownChange });
  const planned = new Set<string>();
  return {
    refs: planned,
    result: planner.result,
    async onChunk({ graph, refs: evaluated, findings, applicable, pipeline }) {
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
      const stored = await planner.readStored(
        reader,
        items.map((i) => i.ref),
      );
      // The planner looks findings up by the items' refs: those of the containers are passed by.
      const rows = await planner.plan(items, findings, new Map(), stored);
      for (const i of items) planned.add(i.ref);
      // With no write of these items waiting, the rows are copied in. On Postgres this
      // evaluation reads through `reader`, never `db`, so the copy holds up none of its reads;
      // PGlite's copy is a single call.
      return planner.insert(pipeline, db, rows, {
        copy: stored[1].length === 0,
        refs: items.map((i) => i.ref),
      });
    },
  };
}

const CONTAINERS: ReadonlySet<string> = new Set(CONTAINER_KINDS);

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
    beforeEvaluate: deps.config.forecast.enabled
      ? (db, opts) => forecastStage(db, { ...opts, config: deps.config, connectors: deps.connectors, log: deps.log })
      : undefined,
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
