// Initial and incremental sync through the whole pipeline (pull → store → rules → rollups →
// write planning), against simulators with the latency and rate limits (or none, for
// the zero-latency goal). The simulators run in a child process, as remote trackers would, so
// items/s and peak RSS are the pipeline's own. Write-back is planned but not sent here
// (dry-run): sending is measured apart, in writeback.ts, at a size the write path can finish in
// the time budget.
import type { SyncProgress } from '../../src/sync/phases.ts';
import type { SyncSummary } from '../../src/sync/summary.ts';
import type { BenchDatabase } from '../lib/db.ts';
import type { SimCounts } from '../lib/sim-process.ts';
import { round, sampleRss } from '../lib/stats.ts';
import { type Limits, type RemoteWorld, startRemoteWorld } from '../lib/world.ts';

export const JIRA_PAGE = 100;
export const ADO_BATCH = 200;
export const WIQL_CAP = 20_000;

export interface TrackerFigures {
  items: number;
  requests: number;
  minimum: number;
  ratio: number | null;
  throttled: number;
  /** 429 answers the simulator sent (its own count, independent of the client's). */
  sim429: number;
}

export interface SyncFigures {
  db: string;
  jiraItems: number;
  adoItems: number;
  latencyMs: number;
  wallMs: number;
  itemsPerSec: number;
  /** End-to-end items/s as a share of what the rate limits allow (requests/s × items per request). */
  ceilingShare: { jira: number | null; ado: number | null };
  jira: TrackerFigures;
  ado: TrackerFigures;
  stageMs: { pullAndStore: number; evaluate: number; rollupsAndPlan: number };
  checks: number;
  checksPerSec: number | null;
  findingsOpen: number;
  writesPlanned: number;
  /** The pipeline's process (the simulators run in a child process). */
  peakRssMiB: number;
  /** The pipeline's process when the sync started (modules, earlier scenarios' leftovers). */
  startRssMiB: number;
  /** The simulators' child process, measured apart. */
  simulatorPeakRssMiB: number;
  /**
   * CPU time of the pipeline's process during the sync (user + system). Steadier than wall time
   * when the machine's speed drifts between runs; PGlite's work is in it, Postgres's is not.
   */
  pipelineCpuMs: number;
}

export interface SyncScenarioOptions {
  jiraItems: number;
  adoItems: number;
  latencyMs: number;
  /** Jira burst per endpoint (req/s); null: none. */
  jiraBurst: number | null;
  /** Azure DevOps budget in requests/s (TSTU-like leaky bucket); null: none. */
  adoRate: number | null;
  jiraLimits: Limits;
  adoLimits: Limits;
}

/** Jira minimum: one search page per 100 issues, one changelog bulk-fetch per 1000 issues needing history. */
export function jiraMinimum(items: number, withHistory: number): number {
  return Math.ceil(items / JIRA_PAGE) + Math.ceil(withHistory / 1000);
}

/** Azure DevOps minimum: WIQL slices of 20,000 ids, then one workitemsbatch per 200. */
export function adoMinimum(items: number): number {
  return Math.max(1, Math.ceil(items / WIQL_CAP)) + Math.ceil(items / ADO_BATCH);
}

/**
 * Time spent in the pass's evaluate step and in its roll-up-and-plan steps, read off the phases
 * runSync announces (each phase runs until the next one is announced).
 */
function stepClock() {
  const t = { evaluate: 0, afterEvaluate: 0 };
  let at: { phase: SyncProgress['phase']; ms: number } | null = null;
  const onProgress = (e: SyncProgress) => {
    if (e.connection !== null) return;
    const ms = performance.now();
    if (at?.phase === 'evaluate') t.evaluate += ms - at.ms;
    if (at?.phase === 'roll up') t.afterEvaluate += ms - at.ms;
    at = { phase: e.phase, ms };
  };
  return Object.assign(t, { onProgress });
}

export function figuresFrom(
  s: SyncSummary,
  o: {
    wallMs: number;
    jiraMin: number;
    adoMin: number;
    rss: number;
    startRss: number;
    cpuMs: number;
    db: string;
    latencyMs: number;
    sim: SimCounts;
  },
  stage: { evaluate: number; afterEvaluate: number },
  limits: { jiraRps: number | null; adoRps: number | null },
): SyncFigures {
  const j = s.connections.find((c) => c.id === 'jira-main')!;
  const a = s.connections.find((c) => c.id === 'ado-main')!;
  const perSec = (n: number) => (n / o.wallMs) * 1000;
  return {
    db: o.db,
    jiraItems: j.itemsPulled,
    adoItems: a.itemsPulled,
    latencyMs: o.latencyMs,
    wallMs: Math.round(o.wallMs),
    itemsPerSec: Math.round(perSec(j.itemsPulled + a.itemsPulled)),
    ceilingShare: {
      jira: limits.jiraRps ? round(perSec(j.itemsPulled) / (limits.jiraRps * JIRA_PAGE), 3) : null,
      ado: limits.adoRps ? round(perSec(a.itemsPulled) / (limits.adoRps * ADO_BATCH), 3) : null,
    },
    jira: {
      items: j.itemsPulled,
      requests: j.requests,
      minimum: o.jiraMin,
      ratio: o.jiraMin ? round(j.requests / o.jiraMin, 3) : null,
      throttled: j.throttled,
      sim429: o.sim.jira.sim429,
    },
    ado: {
      items: a.itemsPulled,
      requests: a.requests,
      minimum: o.adoMin,
      ratio: o.adoMin ? round(a.requests / o.adoMin, 3) : null,
      throttled: a.throttled,
      sim429: o.sim.ado.sim429,
    },
    stageMs: {
      pullAndStore: Math.round(o.wallMs - stage.evaluate - stage.afterEvaluate),
      evaluate: Math.round(stage.evaluate),
      rollupsAndPlan: Math.round(stage.afterEvaluate),
    },
    checks: s.findings.checks,
    checksPerSec: stage.evaluate > 0 ? Math.round((s.findings.checks / stage.evaluate) * 1000) : null,
    findingsOpen: s.findings.open,
    writesPlanned: s.writes.planned,
    peakRssMiB: o.rss,
    startRssMiB: o.startRss,
    simulatorPeakRssMiB: o.sim.peakRssMiB,
    pipelineCpuMs: Math.round(o.cpuMs),
  };
}

/** Initial sync, then incremental with 1% of items changed by people. Leaves the world open for the API scenario. */
export async function runSyncScenario(
  database: BenchDatabase,
  o: SyncScenarioOptions & {
    /** false: the initial sync only (the zero-latency goal has no incremental part). */
    incremental?: boolean;
  },
): Promise<{ world: RemoteWorld; initial: SyncFigures; incremental: SyncFigures | null }> {
  const world = await startRemoteWorld(database, {
    jiraItems: o.jiraItems,
    adoItems: o.adoItems,
    jiraFaults: {
      latencyMs: o.latencyMs,
      burst: o.jiraBurst ? { limit: o.jiraBurst, windowMs: 1000, retryAfterSec: 1 } : null,
    },
    adoLatencyMs: o.latencyMs,
    adoBudget: o.adoRate ? { limit: o.adoRate * 10, windowMs: 10_000, mode: 'block', retryAfterSeconds: 1 } : null,
    jiraLimits: o.jiraLimits,
    adoLimits: o.adoLimits,
  });
  try {
    const limits = { jiraRps: o.jiraBurst, adoRps: o.adoRate };
    const stage = stepClock();
    // One sync, timed; the simulators' process dying mid-sync fails the scenario, not the figures.
    const measured = async (jiraMin: number, adoMin: number): Promise<SyncFigures> => {
      await world.sims.resetCounts();
      stage.evaluate = 0;
      stage.afterEvaluate = 0;
      const startRss = Math.round(process.memoryUsage.rss() / 2 ** 20);
      const rss = sampleRss();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const summary = await Promise.race([
        world.sync({ dryRun: true, onProgress: stage.onProgress }),
        world.sims.failure,
      ]);
      const wallMs = performance.now() - t0;
      const peak = rss.stop();
      const cpu = process.cpuUsage(cpu0);
      const sim = await world.sims.counts();
      return figuresFrom(
        summary,
        {
          wallMs,
          jiraMin,
          adoMin,
          rss: peak,
          startRss,
          cpuMs: (cpu.user + cpu.system) / 1000,
          db: database.kind,
          latencyMs: o.latencyMs,
          sim,
        },
        stage,
        limits,
      );
    };
    // Items whose `started`/`resolved` need the changelog: everything that ever left "To Do".
    const initial = await measured(jiraMinimum(world.jiraKeys.length, world.jiraDone), adoMinimum(world.adoIds.length));
    if (o.incremental === false) return { world, initial, incremental: null };
    // 1% of items changed by a person: assignee toggled (a rule outcome changes, so writes are planned).
    const changed = await world.sims.changeShare(100, 7);
    const incremental = await measured(
      jiraMinimum(changed.jiraKeys.length, changed.jiraDone),
      adoMinimum(changed.adoIds.length),
    );
    return { world, initial, incremental };
  } catch (e) {
    await world.close();
    throw e;
  }
}
