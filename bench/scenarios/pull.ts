// The connectors alone at the full size (100,000 Jira issues + 50,000 work items): pull
// everything with no database behind, so the figure is the connectors' and the rate limits', not
// the store's. Measures requests against the minimum, 429s, requests sent before a Retry-After
// expired, and throughput as a share of the rate-limit ceiling. The simulators run in a child
// process, so peak RSS is the connectors' process alone.

import { createConnectors } from '../../connectors/index.ts';
import type { RequestRecord } from '../../connectors/jira/simulator/index.ts';
import { startSimulatorProcess } from '../lib/sim-process.ts';
import { round, sampleRss } from '../lib/stats.ts';
import { benchLogger, type Limits, worldConfig } from '../lib/world.ts';
import { ADO_BATCH, adoMinimum, JIRA_PAGE, jiraMinimum } from './sync.ts';

export interface PullFigures {
  tracker: 'jira' | 'azure-devops';
  items: number;
  wallMs: number;
  itemsPerSec: number;
  requests: number;
  minimum: number;
  ratio: number | null;
  throttled: number;
  sim429: number;
  /** Requests to an endpoint sent while a Retry-After it answered was still running. */
  earlyAfterRetryAfter: number | null;
  ceilingItemsPerSec: number;
  ceilingShare: number | null;
  peakRssMiB: number;
  /** The simulators' child process, measured apart. */
  simulatorPeakRssMiB: number;
}

/** Requests to the same endpoint sent before the Retry-After of a 429 on that endpoint expired. */
export function earlyRequests(log: readonly RequestRecord[], retryAfterMs: number): number {
  const blockedUntil = new Map<string, number>();
  let early = 0;
  for (const r of [...log].sort((a, b) => a.at - b.at)) {
    const until = blockedUntil.get(r.label) ?? 0;
    // Requests already in flight when the 429 came back are not "sent after"; allow 50 ms for that.
    if (r.at < until - 50) early++;
    if (r.status === 429) blockedUntil.set(r.label, Math.max(until, r.at + retryAfterMs));
  }
  return early;
}

export interface PullOptions {
  jiraItems: number;
  adoItems: number;
  latencyMs: number;
  jiraBurst: number;
  adoRate: number;
  jiraLimits: Limits;
  adoLimits: Limits;
}

export async function runPullScenario(o: PullOptions): Promise<PullFigures[]> {
  const sims = await startSimulatorProcess({
    jiraItems: o.jiraItems,
    adoItems: o.adoItems,
    jiraFaults: { latencyMs: o.latencyMs, burst: { limit: o.jiraBurst, windowMs: 1000, retryAfterSec: 1 } },
    adoLatencyMs: o.latencyMs,
    adoBudget: { limit: o.adoRate * 10, windowMs: 10_000, mode: 'block', retryAfterSeconds: 1 },
  });
  const config = worldConfig(sims.jiraUrl, sims.adoUrl, { jiraLimits: o.jiraLimits, adoLimits: o.adoLimits });
  const connectors = createConnectors(config.connections, { log: benchLogger() });
  const out: PullFigures[] = [];
  try {
    for (const id of ['jira-main', 'ado-main']) {
      const c = connectors.get(id)!;
      await sims.resetCounts();
      const before = { ...c.stats() };
      let items = 0;
      const rss = sampleRss();
      const t0 = performance.now();
      await Promise.race([
        c.pull({
          cursor: null,
          onPage: async (page) => {
            items += page.length;
          },
        }),
        sims.failure,
      ]);
      const wallMs = performance.now() - t0;
      const peakRssMiB = rss.stop();
      const after = c.stats();
      const requests = after.requests - before.requests;
      const isJira = id === 'jira-main';
      const minimum = isJira ? jiraMinimum(sims.jiraKeys.length, sims.jiraDone) : adoMinimum(sims.adoIds.length);
      const ceiling = isJira ? o.jiraBurst * JIRA_PAGE : o.adoRate * ADO_BATCH;
      const itemsPerSec = (items / wallMs) * 1000;
      const log = isJira ? await sims.jiraLog() : [];
      const sim = await sims.counts();
      out.push({
        tracker: isJira ? 'jira' : 'azure-devops',
        items,
        wallMs: Math.round(wallMs),
        itemsPerSec: Math.round(itemsPerSec),
        requests,
        minimum,
        ratio: round(requests / minimum, 3),
        throttled: after.throttled - before.throttled,
        sim429: isJira ? sim.jira.sim429 : sim.ado.sim429,
        earlyAfterRetryAfter: isJira ? earlyRequests(log, 1000) : null,
        ceilingItemsPerSec: ceiling,
        ceilingShare: round(itemsPerSec / ceiling, 3),
        peakRssMiB,
        simulatorPeakRssMiB: sim.peakRssMiB,
      });
    }
  } finally {
    for (const c of connectors.values()) await c.close();
    await sims.close();
  }
  return out;
}
