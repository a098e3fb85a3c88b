// The benchmark suite (`npm run bench`, `npm run bench -- --quick`): runs every scenario of
// issue 10 on PGlite and Postgres, prints one table and writes bench/results.json. Figures
// only: nothing here asserts a wall-clock time. See BENCHMARKS.md for what each figure means.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { type BenchDatabase, type DbKind, openBenchDatabase, postgresReachable } from './lib/db.ts';
import { calibrate } from './lib/stats.ts';
import type { Limits } from './lib/world.ts';
import { type AdoTstuFigures, runAdoTstuScenario } from './scenarios/ado-tstu.ts';
import { type ApiFigures, runApiScenario, WORKSPACE_ROUTES } from './scenarios/api.ts';
import { BODIES, type BodyLimitFigures, runBodiesScenario } from './scenarios/bodies.ts';
import {
  type ForecastFigures,
  type HistoryFigures,
  runForecastScenario,
  runHistoryScenario,
} from './scenarios/forecast.ts';
import { type JiraPointsFigures, runJiraPointsScenario } from './scenarios/jira-points.ts';
import { type OwnerChangeFigures, runOwnerChangeScenario } from './scenarios/owner-change.ts';
import { type PullFigures, runPullScenario } from './scenarios/pull.ts';
import { type RuleBudgetFigures, runRuleBudgetScenario } from './scenarios/rule-budget.ts';
import { runSyncScenario, type SyncFigures } from './scenarios/sync.ts';
import { runWebhookScenario, type WebhookFigures } from './scenarios/webhooks.ts';
import { runWritebackScenario, type WritebackFigures } from './scenarios/writeback.ts';
import { runZeroLatencyScenario } from './scenarios/zero.ts';
import { GOALS, renderTable } from './table.ts';

export interface Profile {
  name: 'quick' | 'full';
  pull: { jiraItems: number; adoItems: number };
  sync: Record<DbKind, { jiraItems: number; adoItems: number }>;
  /** Zero latency, no rate limits, per database: the "items/s end to end" and peak-RSS goals. */
  zeroLatency: Partial<Record<DbKind, { jiraItems: number; adoItems: number }>>;
  writeback: { jiraItems: number; adoItems: number; dbs: DbKind[] };
  webhooks: { eventsPerSec: number; seconds: number; jiraItems: number; adoItems: number; dbs: DbKind[] };
  apiRequests: number;
  /** Items, and hostile items among them, of the rule-budget scenario. */
  ruleBudget: { items: number; hostile: number };
  /** Items, and in-progress items of the owner one item leaves, of the owner-change scenario. */
  ownerChange: { items: number; ownerItems: number; runs: number };
  /** Jira issues of the points-quota scenario (in-process simulator, virtual clock). */
  jiraPoints: { items: number };
}

export const PROFILES: Record<Profile['name'], Profile> = {
  quick: {
    name: 'quick',
    pull: { jiraItems: 5_000, adoItems: 2_500 },
    sync: { pglite: { jiraItems: 1_000, adoItems: 500 }, postgres: { jiraItems: 5_000, adoItems: 2_500 } },
    zeroLatency: {
      postgres: { jiraItems: 10_000, adoItems: 5_000 },
      pglite: { jiraItems: 10_000, adoItems: 5_000 },
    },
    writeback: { jiraItems: 150, adoItems: 75, dbs: ['postgres'] },
    webhooks: { eventsPerSec: 50, seconds: 5, jiraItems: 150, adoItems: 75, dbs: ['postgres'] },
    apiRequests: 20,
    ruleBudget: { items: 2_000, hostile: 4 },
    ownerChange: { items: 5_000, ownerItems: 500, runs: 40 },
    jiraPoints: { items: 2_000 },
  },
  full: {
    name: 'full',
    pull: { jiraItems: 100_000, adoItems: 50_000 },
    sync: { pglite: { jiraItems: 10_000, adoItems: 5_000 }, postgres: { jiraItems: 30_000, adoItems: 15_000 } },
    // The issue's size: 100,000 Jira issues + 50,000 work items.
    zeroLatency: {
      postgres: { jiraItems: 100_000, adoItems: 50_000 },
      pglite: { jiraItems: 100_000, adoItems: 50_000 },
    },
    writeback: { jiraItems: 1_000, adoItems: 500, dbs: ['postgres'] },
    webhooks: { eventsPerSec: 50, seconds: 60, jiraItems: 1_000, adoItems: 500, dbs: ['postgres', 'pglite'] },
    apiRequests: 50,
    ruleBudget: { items: 10_000, hostile: 8 },
    ownerChange: { items: 20_000, ownerItems: 500, runs: 100 },
    jiraPoints: { items: 10_000 },
  },
};

/** The issue's tracker limits: 20 ms latency, Jira burst 100 req/s, Azure DevOps budget ~100 req/s. */
export const TRACKER = { latencyMs: 20, jiraBurst: 100, adoRate: 100 };
/** Client limits set to the trackers' ceilings, so the trackers are the bottleneck, not our politeness. */
export const CLIENT: { jira: Limits; ado: Limits } = {
  jira: { concurrency: 8, requestsPerSecond: 100 },
  ado: { concurrency: 8, requestsPerSecond: 100 },
};

export interface Results {
  profile: Profile['name'];
  startedAt: string;
  durationMs: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memGiB: number;
    node: string;
    platform: string;
    commit: string | null;
    /** stats.ts `calibrate` at the start and the end of the run (ms; lower is faster). */
    calibrationMs: { start: number; end: number | null };
  };
  notes: string[];
  pull: PullFigures[];
  sync: { initial: SyncFigures; incremental: SyncFigures }[];
  zeroLatency: SyncFigures[];
  rules: { db: string; checks: number; checksPerSec: number | null }[];
  api: ApiFigures[];
  /** The PMO workspace's API calls under filters (issue 25), Postgres only. */
  workspace: ApiFigures[];
  writeback: WritebackFigures[];
  webhooks: WebhookFigures[];
  ruleBudget: RuleBudgetFigures[];
  /** Incremental re-evaluation after one owner change (issue 28); absent in older results. */
  ownerChange?: OwnerChangeFigures[];
  /** Jira Cloud's points per full and incremental pull, and a pull under a tight hourly quota; null when not run. */
  jiraPoints: JiraPointsFigures | null;
  /** Oversized bodies refused by `serve` (issue 23); null when not run. */
  bodies: BodyLimitFigures | null;
  /** Azure DevOps full pull under a 200-TSTU/5-min budget, paced and not (issue 24.6); absent when not run. */
  adoTstu?: AdoTstuFigures[];
  /** Monte Carlo forecasts of open epics (issue 26); null when not run. */
  forecast?: ForecastFigures | null;
  /** Status history backfill requests against the minimum (issue 26). */
  history?: HistoryFigures[];
  goals: typeof GOALS;
}

function commit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function withDb<T>(kind: DbKind, f: (db: BenchDatabase) => Promise<T>): Promise<T> {
  const db = await openBenchDatabase(kind);
  try {
    return await f(db);
  } finally {
    await db.close();
  }
}

export async function runBench(
  profile: Profile,
  opts: { only?: string[] /** Items of the sync, API and workspace scenarios, 2:1 Jira:ADO. */; items?: number } = {},
): Promise<Results> {
  const started = new Date();
  const t0 = performance.now();
  const wants = (s: string) => !opts.only || opts.only.includes(s);
  const notes: string[] = [];
  const dbs: DbKind[] = ['pglite'];
  if (await postgresReachable()) dbs.push('postgres');
  else notes.push('Postgres not reachable (BENCH_DATABASE_URL): Postgres scenarios skipped.');
  const results: Results = {
    profile: profile.name,
    startedAt: started.toISOString(),
    durationMs: 0,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      commit: commit(),
      calibrationMs: { start: calibrate(), end: null },
    },
    notes,
    pull: [],
    sync: [],
    zeroLatency: [],
    rules: [],
    api: [],
    workspace: [],
    writeback: [],
    webhooks: [],
    ruleBudget: [],
    jiraPoints: null,
    bodies: null,
    goals: GOALS,
  };

  if (wants('ado-tstu')) {
    const items = profile.name === 'full' ? 50_000 : 5_000;
    log(`Azure DevOps full pull of ${items} under a TSTU budget (virtual time), paced and not`);
    results.adoTstu = await runAdoTstuScenario({ items, concurrency: CLIENT.ado.concurrency });
  }
  if (wants('pull')) {
    log(`pull (connectors only): ${profile.pull.jiraItems} Jira + ${profile.pull.adoItems} ADO`);
    results.pull = await runPullScenario({
      ...profile.pull,
      ...TRACKER,
      jiraLimits: CLIENT.jira,
      adoLimits: CLIENT.ado,
    });
  }
  if (wants('sync') || wants('api') || wants('workspace')) {
    for (const kind of dbs) {
      // The workspace scenario is of Postgres, the database a PMO team runs.
      if (!wants('sync') && !wants('api') && kind !== 'postgres') continue;
      const size = opts.items
        ? { jiraItems: Math.round((opts.items * 2) / 3), adoItems: opts.items - Math.round((opts.items * 2) / 3) }
        : profile.sync[kind];
      log(`sync on ${kind}: ${size.jiraItems} Jira + ${size.adoItems} ADO, initial then 1% changed`);
      await withDb(kind, async (db) => {
        const r = await runSyncScenario(db, { ...size, ...TRACKER, jiraLimits: CLIENT.jira, adoLimits: CLIENT.ado });
        try {
          if (r.incremental) results.sync.push({ initial: r.initial, incremental: r.incremental });
          results.rules.push({ db: kind, checks: r.initial.checks, checksPerSec: r.initial.checksPerSec });
          if (wants('api')) {
            log(`rollup API on ${kind} over ${r.world.jiraKeys.length + r.world.adoIds.length} items`);
            results.api.push(await runApiScenario(db, r.world, profile.apiRequests));
          }
          if (wants('workspace') && kind === 'postgres') {
            log(`workspace API on ${kind} over ${r.world.jiraKeys.length + r.world.adoIds.length} items`);
            // What autovacuum does to a table after a bulk load (and a PMO's database has had):
            // statistics, and the visibility map index-only scans need.
            await db.db.execute(sql`vacuum analyze`);
            results.workspace.push(await runApiScenario(db, r.world, profile.apiRequests, WORKSPACE_ROUTES));
          }
        } finally {
          await r.world.close();
        }
      });
    }
  }
  if (wants('zero')) {
    for (const kind of (['postgres', 'pglite'] as const).filter((k) => dbs.includes(k))) {
      const size = profile.zeroLatency[kind];
      if (!size) continue;
      log(`zero latency, no limits, ${kind}: ${size.jiraItems} Jira + ${size.adoItems} ADO (fresh process)`);
      results.zeroLatency.push(await runZeroLatencyScenario({ db: kind, ...size }));
    }
  }
  if (wants('writeback')) {
    for (const kind of profile.writeback.dbs.filter((d) => dbs.includes(d))) {
      log(
        `write-back and naive baseline on ${kind}: ${profile.writeback.jiraItems} Jira + ${profile.writeback.adoItems} ADO`,
      );
      results.writeback.push(
        await withDb(kind, (db) =>
          runWritebackScenario(db, {
            ...profile.writeback,
            latencyMs: TRACKER.latencyMs,
            jiraLimits: CLIENT.jira,
            adoLimits: CLIENT.ado,
          }),
        ),
      );
    }
  }
  if (wants('webhooks')) {
    for (const kind of profile.webhooks.dbs.filter((d) => dbs.includes(d))) {
      const w = profile.webhooks;
      log(`webhooks on ${kind}: ${w.eventsPerSec}/s for ${w.seconds} s`);
      results.webhooks.push(
        await withDb(kind, (db) =>
          runWebhookScenario(db, {
            ...w,
            latencyMs: TRACKER.latencyMs,
            jiraLimits: CLIENT.jira,
            adoLimits: CLIENT.ado,
          }),
        ),
      );
    }
  }
  if (wants('rule-budget')) {
    const b = profile.ruleBudget;
    for (const kind of dbs) {
      log(`rule budget on ${kind}: ${b.items} items + ${b.hostile} hostile, pathological rules, /healthz probed`);
      results.ruleBudget.push(await withDb(kind, (db) => runRuleBudgetScenario(db, b)));
    }
  }
  if (wants('owner-change')) {
    const o = profile.ownerChange;
    results.ownerChange = [];
    for (const kind of dbs) {
      log(`owner change on ${kind}: ${o.items} items, an owner with ${o.ownerItems} in progress hands one on`);
      const f = await withDb(kind, (db) => runOwnerChangeScenario(db, o));
      log(
        `  evaluated ${f.evaluated} items; p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms over ${f.runs} runs` +
          ` (load ${f.load.join(' → ')}); deferred aggregates p50 ${f.aggregatesP50Ms} ms`,
      );
      log(
        `  phases p50: ${Object.entries(f.phasesP50Ms)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      results.ownerChange.push(f);
    }
  }
  if (wants('jira-points')) {
    log(`Jira points: ${profile.jiraPoints.items} issues, full and incremental, then under a tight hourly quota`);
    results.jiraPoints = await runJiraPointsScenario(profile.jiraPoints);
  }
  if (wants('bodies')) {
    log(
      `oversized bodies: ${BODIES.requests} × ${BODIES.bytesPerRequest / 1e6} MB at once against serve (fresh process)`,
    );
    results.bodies = await runBodiesScenario(BODIES);
  }
  if (wants('forecast')) {
    // The issue's size in both profiles: it is CPU only and takes seconds.
    log('forecast: 5000 open epics × 10000 trials, then one epic re-forecast');
    results.forecast = runForecastScenario({ epics: 5_000, trials: 10_000 });
    const h = profile.name === 'full' ? { jiraItems: 20_000, adoItems: 10_000 } : { jiraItems: 2_500, adoItems: 1_200 };
    log(`history backfill: ${h.jiraItems} Jira + ${h.adoItems} ADO, requests against the minimum`);
    results.history = await runHistoryScenario(h);
  }
  results.machine.calibrationMs.end = calibrate();
  results.durationMs = Math.round(performance.now() - t0);
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const profile = PROFILES[args.includes('--quick') ? 'quick' : 'full'];
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice(7)
    .split(',');
  const out =
    args.find((a) => a.startsWith('--out='))?.slice(6) ?? fileURLToPath(new URL('./results.json', import.meta.url));
  // `--items=150000`: the sync, API and workspace scenarios at that size (issue 25's workspace
  // goals are stated at 150,000 items on Postgres).
  const itemsArg = args.find((a) => a.startsWith('--items='))?.slice(8);
  const items = itemsArg === undefined ? undefined : Number(itemsArg);
  if (items !== undefined && !(Number.isInteger(items) && items >= 3)) {
    process.stderr.write(`--items=${itemsArg}: not a whole number of items ≥ 3; use e.g. --items=150000\n`);
    process.exit(2);
  }
  const results = await runBench(profile, { only, items });
  process.stdout.write(renderTable(results));
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`results written to ${out}\n`);
  process.exit(0);
}
