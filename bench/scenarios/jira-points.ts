// Jira Cloud's 2026 points quota: what a full and an incremental pull of the Jira connector
// cost in points (1 per request, +1 per core object read, +2 per identity object, writes 1),
// beside the theoretical minimum for the same data — every issue read once in pages of 100,
// and the status history of those that need it in requests of 1,000 — and a full pull under an
// hourly quota too small for it, started half an hour before the reset: it must finish across
// the reset without a second 429. The connector and the simulator share one virtual clock, so
// the hour passes in milliseconds; nothing here depends on wall-clock time.
import { createJiraConnector } from '../../connectors/jira/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { createVirtualClock } from '../../connectors/jira/virtual-clock.ts';
import type { RefResolver } from '../../connectors/types.ts';
import { JiraConnection } from '../../src/config/schema.ts';
import { benchLogger } from '../lib/world.ts';

export interface JiraPointsFigures {
  items: number;
  full: { points: number; minimum: number; ratio: number; requests: number };
  incremental: {
    changed: number;
    points: number;
    minimum: number;
    ratio: number;
    requests: number;
    byEndpoint: Record<string, number>;
  };
  tightQuota: {
    pointsPerHour: number;
    /** 429s the simulator answered during the run (the goal: at most one). */
    sim429: number;
    quotaPauses: number;
    nearLimitSlowdowns: number;
    /** The run began before the hourly reset and ended after it. */
    crossedReset: boolean;
    itemsPulled: number;
    virtualMinutes: number;
  };
}

const START = Date.parse('2026-03-02T10:30:00Z');
const RESET = Date.parse('2026-03-02T11:00:00Z');
const noRefs: RefResolver = () => null;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

async function seeded(items: number, now: () => number): Promise<JiraSimulator> {
  const sim = await startJiraSimulator({ now, seed: 7 });
  // ~1 epic + 9 stories + 2 bugs + 9 subtasks = 21 issues per epic.
  const epics = Math.max(1, Math.round(items / 21));
  sim.seedPortfolio({
    projects: ['PAY', 'WEB'],
    epics,
    storiesPerEpic: 9,
    bugsPerEpic: 2,
    subtasksPerStory: 1,
    seed: 3,
  });
  return sim;
}

function connector(sim: JiraSimulator, clock: ReturnType<typeof createVirtualClock>) {
  const config = JiraConnection.parse({
    id: 'jira-main',
    kind: 'jira',
    baseUrl: sim.url,
    auth: { email: 'pmo-bot@example.com', apiToken: 'bench-token' },
    scope: { projects: ['PAY', 'WEB'] },
    limits: { concurrency: 8, requestsPerSecond: 100 },
  });
  return createJiraConnector({ config, log: benchLogger(), resolveRef: noRefs }, clock.tuning);
}

/**
 * The least a pull of these issues can cost: each issue read once (1 point each) in pages of
 * 100 (1 point each), plus the history objects of the issues that need one, 1,000 issues per
 * request. Field discovery (once per connector) counts as its one request and its objects.
 */
function minimum(sim: JiraSimulator, issues: number, discovery: boolean): number {
  const by = sim.pointsByEndpoint();
  const counts = sim.requestCounts();
  const historyObjects = (by['POST changelog/bulkfetch'] ?? 0) - (counts['POST changelog/bulkfetch'] ?? 0);
  const historyMin = historyObjects > 0 ? historyObjects + Math.ceil(historyObjects / 1000) : 0;
  // Discovery is needed once per connector: on a later pull, re-reading the fields is waste.
  return Math.ceil(issues / 100) + issues + historyMin + (discovery ? (by['GET field'] ?? 0) : 0);
}

async function pullAll(c: ReturnType<typeof connector>, cursor: string | null) {
  let items = 0;
  const r = await c.pull({
    cursor,
    onPage: async (page) => {
      items += page.length;
    },
  });
  return { items, cursor: r.cursor };
}

export async function runJiraPointsScenario(o: { items: number }): Promise<JiraPointsFigures> {
  // Full and incremental, with no quota in force: the figure is the pull's own cost.
  const clock = createVirtualClock(START);
  const sim = await seeded(o.items, clock.now);
  const jira = connector(sim, clock);
  let items = 0;
  let full: JiraPointsFigures['full'];
  let incremental: JiraPointsFigures['incremental'];
  try {
    sim.resetCounts();
    const first = await pullAll(jira, null);
    items = first.items;
    const fullPoints = sim.pointsSpent();
    const fullMin = minimum(sim, first.items, true);
    full = {
      points: fullPoints,
      minimum: fullMin,
      ratio: round(fullPoints / fullMin, 3),
      requests: sim.totalRequests(),
    };

    clock.advance(10 * 60_000);
    const keys = sim.store.all().map((i) => i.key);
    const changed = Math.max(1, Math.round(keys.length / 100));
    for (let i = 0; i < changed; i++) sim.store.updateIssue(keys[(i * 97) % keys.length]!, { labels: [`bench-${i}`] });
    clock.advance(60_000);
    sim.resetCounts();
    const next = await pullAll(jira, first.cursor);
    const incPoints = sim.pointsSpent();
    const incMin = minimum(sim, changed, false);
    incremental = {
      changed,
      points: incPoints,
      minimum: incMin,
      ratio: round(incPoints / incMin, 3),
      requests: sim.totalRequests(),
      byEndpoint: sim.pointsByEndpoint(),
    };
    if (next.items < changed) throw new Error(`the incremental pull read ${next.items} of ${changed} changed issues`);
  } finally {
    await jira.close();
    await sim.close();
  }

  // A quota of 60% of what the full pull costs, half an hour before the reset.
  const tightClock = createVirtualClock(START);
  const perHour = Math.round(full.points * 0.6);
  const tight = await seeded(o.items, tightClock.now);
  tight.setFaults({ points: { perHour } });
  const tj = connector(tight, tightClock);
  try {
    const r = await pullAll(tj, null);
    const log = tight.requestLog();
    const q = tj.stats().quota;
    return {
      items,
      full,
      incremental,
      tightQuota: {
        pointsPerHour: perHour,
        sim429: log.filter((x) => x.status === 429).length,
        quotaPauses: q?.pauses ?? 0,
        nearLimitSlowdowns: q?.nearLimitSlowdowns ?? 0,
        crossedReset: log[0]!.at < RESET && log.at(-1)!.at >= RESET,
        itemsPulled: r.items,
        virtualMinutes: round((tightClock.now() - START) / 60_000, 1),
      },
    };
  } finally {
    await tj.close();
    await tight.close();
  }
}
