// Azure DevOps full pull under a realistic TSTU budget (issue 24.6): 50,000 work items read by the
// connector against the simulator's global consumption limit — 200 TSTUs in a sliding five-minute
// window (Microsoft's documented threshold), blocking (429) past it, so any request over budget
// shows as a 429 instead of a delay. Once with pacing (the default: X-RateLimit-Remaining /
// -Limit / -Reset and X-RateLimit-Delay / Retry-After), once without, as the baseline.
//
// The budget's minutes run on virtual time (connectors/azure-devops/testing.ts `virtualTime`): the connector's
// sleeps and the simulator's clock share one clock that jumps to the next wake-up once the
// simulator is quiet, so a pull that takes ~5 virtual minutes runs in seconds. Requests take no
// virtual time, which is the harshest case for the budget (no latency spreads them out).
//
// TSTU costs are not published per request (Microsoft shows them only on the usage page), so the
// model charges 1 TSTU per workitemsbatch of 200 items, 2 per WIQL query and 0.25 per metadata or
// discovery call: a full pull of 50,000 items then needs ~260 TSTUs, more than one window's 200.
//
// Run alone: node scripts/node24.mjs node_modules/tsx/dist/cli.mjs bench/scenarios/ado-tstu.ts --items=50000
import { pathToFileURL } from 'node:url';
import { createAdoConnector } from '../../connectors/azure-devops/index.ts';
import { startAdoSimulator, type ThrottleBudget } from '../../connectors/azure-devops/simulator/index.ts';
import { adoConfig, virtualTime } from '../../connectors/azure-devops/testing.ts';
import { benchLogger } from '../lib/world.ts';

export interface AdoTstuFigures {
  pacing: boolean;
  items: number;
  requests: number;
  /** Answers of 429 the simulator sent (the goal: 0 with pacing). */
  sim429: number;
  /** Responses that made the connector slow down (paced, delayed, Retry-After). */
  throttled: number;
  tstuSpent: number;
  tstuBudget: string;
  /** Virtual minutes the pull took, and the least the budget allows for its TSTUs. */
  virtualMinutes: number;
  minimumMinutes: number;
  wallMs: number;
}

export const TSTU_BUDGET: ThrottleBudget = {
  limit: 200,
  windowMs: 5 * 60_000,
  mode: 'block',
  retryAfterSeconds: 10,
  costPerRequest: 0.25,
  costs: { 'POST wit/workitemsbatch': 1, 'POST wit/wiql': 2 },
};

export async function runAdoTstuScenario(o: { items: number; concurrency: number }): Promise<AdoTstuFigures[]> {
  const out: AdoTstuFigures[] = [];
  for (const pacing of [true, false]) {
    let now = () => Date.parse('2026-03-02T10:00:00Z');
    const sim = await startAdoSimulator({ now: () => now() });
    const clock = virtualTime(sim);
    now = clock.now;
    sim.seedPortfolio({
      process: 'Agile',
      project: 'Payments',
      // 1 + 3 + 12 + 24 = 40 work items per epic.
      epics: Math.ceil(o.items / 40),
      featuresPerEpic: 3,
      storiesPerFeature: 4,
      tasksPerStory: 2,
      seed: 24,
      limit: o.items,
    });
    const connector = createAdoConnector(
      {
        config: adoConfig({
          scope: { projects: ['Payments'] },
          limits: { concurrency: o.concurrency, requestsPerSecond: 1000, maxRetryAfterSeconds: 600 },
        }),
        log: benchLogger(),
        resolveRef: () => null,
        baseUrl: sim.url,
      },
      {
        client: {
          now: clock.now,
          sleep: clock.sleep,
          slowdownBelow: pacing ? undefined : 0,
          retry: { maxRetries: 50, baseDelayMs: 1000 },
        },
      },
    );
    sim.configure({ budget: TSTU_BUDGET });
    let items = 0;
    const t0 = performance.now();
    try {
      await connector.pull({
        cursor: null,
        onPage: async (page) => {
          items += page.length;
        },
      });
    } finally {
      await connector.close();
    }
    const log = sim.requestLog();
    const tstu = log
      .filter((r) => r.status !== 429)
      .reduce((sum, r) => sum + (TSTU_BUDGET.costs?.[r.label] ?? TSTU_BUDGET.costPerRequest ?? 1), 0);
    const perMinute = TSTU_BUDGET.limit / (TSTU_BUDGET.windowMs / 60_000);
    out.push({
      pacing,
      items,
      requests: log.length,
      sim429: log.filter((r) => r.status === 429).length,
      throttled: connector.stats().throttled,
      tstuSpent: Math.round(tstu * 100) / 100,
      tstuBudget: `${TSTU_BUDGET.limit} per ${TSTU_BUDGET.windowMs / 60_000} min`,
      virtualMinutes: Math.round(((log.at(-1)?.at ?? clock.start) - clock.start) / 600) / 100,
      // The first window's 200 are free at once; the rest drain at 40 a minute.
      minimumMinutes: Math.round((Math.max(0, tstu - TSTU_BUDGET.limit) / perMinute) * 100) / 100,
      wallMs: Math.round(performance.now() - t0),
    });
    await sim.close();
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const items = Number(process.argv.find((a) => a.startsWith('--items='))?.slice(8) ?? 50_000);
  const concurrency = Number(process.argv.find((a) => a.startsWith('--concurrency='))?.slice(14) ?? 8);
  const figures = await runAdoTstuScenario({ items, concurrency });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
