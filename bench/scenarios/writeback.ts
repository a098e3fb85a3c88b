// Write-back, and the naive baseline beside it: the real pipeline syncs and writes back (one
// comment + labels per flagged item), then syncs again over unchanged trackers (convergence:
// should send nothing); the naive client then does the same job twice against fresh copies of
// the same simulators. Requests, comments per item and wall time side by side.
import { eq } from 'drizzle-orm';
import { findings } from '../../db/schema.ts';
import type { BenchDatabase } from '../lib/db.ts';
import { startSimulators } from '../lib/simulators.ts';
import { round } from '../lib/stats.ts';
import { type Limits, startWorld, type WorldOptions } from '../lib/world.ts';
import { naiveAdo, naiveJira } from './naive.ts';

export interface WritebackFigures {
  db: string;
  items: number;
  flaggedItems: number;
  design: {
    firstRun: { requests: number; writesSent: number; wallMs: number; requestsPerItem: number | null };
    secondRun: { requests: number; writesSent: number; wallMs: number };
    thirdRun: { requests: number; writesSent: number };
    maxBotCommentsPerItem: number;
  };
  naive: {
    firstRun: { requests: number; commentsPosted: number; wallMs: number };
    secondRun: { requests: number; commentsPosted: number; wallMs: number };
    maxCommentsPerItemAfterTwoRuns: number;
  };
  /** Naive requests ÷ design requests, over two runs each. */
  requestRatio: number | null;
  /** A run over unchanged trackers once converged: naive run 2 ÷ design run 3. */
  steadyStateRatio: number | null;
}

export async function runWritebackScenario(
  database: BenchDatabase,
  o: { jiraItems: number; adoItems: number; latencyMs: number; jiraLimits: Limits; adoLimits: Limits },
): Promise<WritebackFigures> {
  const worldOpts: WorldOptions = {
    jiraItems: o.jiraItems,
    adoItems: o.adoItems,
    jiraFaults: { latencyMs: o.latencyMs, burst: { limit: 100, windowMs: 1000, retryAfterSec: 1 } },
    adoLatencyMs: o.latencyMs,
    jiraLimits: o.jiraLimits,
    adoLimits: o.adoLimits,
  };
  const w = await startWorld(database, worldOpts);
  const total = () => w.jira.totalRequests() + w.ado.totalRequests();
  try {
    let t0 = performance.now();
    const s1 = await w.sync();
    const first = { requests: total(), writesSent: s1.writes.sent, wallMs: Math.round(performance.now() - t0) };
    const r1 = total();
    t0 = performance.now();
    const s2 = await w.sync();
    const second = { requests: total() - r1, writesSent: s2.writes.sent, wallMs: Math.round(performance.now() - t0) };
    const r2 = total();
    const s3 = await w.sync();
    const third = { requests: total() - r2, writesSent: s3.writes.sent };
    const open = await database.db
      .select({ ref: findings.ref, message: findings.message })
      .from(findings)
      .where(eq(findings.status, 'open'));
    const byKey = new Map<string, string[]>();
    for (const f of open) {
      const key = f.ref.slice(f.ref.indexOf(':') + 1);
      const id = `${f.ref.startsWith('jira-main:') ? 'j' : 'a'}:${key}`;
      byKey.set(id, [...(byKey.get(id) ?? []), f.message]);
    }
    let maxBot = 0;
    for (const key of w.jiraKeys) {
      const n = (w.jira.store.getIssue(key)?.comments ?? []).filter(
        (c) => c.author.accountId === w.jira.me.accountId,
      ).length;
      maxBot = Math.max(maxBot, n);
    }
    for (const id of w.adoIds) {
      const n = w.ado.store.get(id).comments.filter((c) => !c.isDeleted && c.createdBy.id === w.ado.identity.id).length;
      maxBot = Math.max(maxBot, n);
    }

    // The naive tool on a fresh copy of the same trackers (same seed), with the same findings to post.
    const fresh = await startSimulators(worldOpts);
    const jiraFindings = new Map([...byKey].filter(([k]) => k.startsWith('j:')).map(([k, v]) => [k.slice(2), v]));
    const adoFindings = new Map([...byKey].filter(([k]) => k.startsWith('a:')).map(([k, v]) => [k.slice(2), v]));
    const naiveRun = async () => {
      const a = await naiveJira(fresh.jira.url, jiraFindings, o.jiraLimits.concurrency);
      const b = await naiveAdo(fresh.ado.url, adoFindings, o.adoLimits.concurrency);
      return {
        requests: a.requests + b.requests,
        commentsPosted: a.commentsPosted + b.commentsPosted,
        wallMs: a.wallMs + b.wallMs,
      };
    };
    const n1 = await naiveRun();
    const n2 = await naiveRun();
    let maxNaive = 0;
    for (const key of fresh.jiraKeys)
      maxNaive = Math.max(
        maxNaive,
        fresh.jira.store.getIssue(key)?.comments.filter((c) => c.author.accountId === fresh.jira.me.accountId).length ??
          0,
      );
    for (const id of fresh.adoIds)
      maxNaive = Math.max(maxNaive, fresh.ado.store.get(id).comments.filter((c) => !c.isDeleted).length);
    await fresh.jira.close();
    await fresh.ado.close();
    const items = w.jiraKeys.length + w.adoIds.length;
    return {
      db: database.kind,
      items,
      flaggedItems: new Set(open.map((f) => f.ref)).size,
      design: {
        firstRun: { ...first, requestsPerItem: round(first.requests / items, 3) },
        secondRun: second,
        thirdRun: third,
        maxBotCommentsPerItem: maxBot,
      },
      naive: { firstRun: n1, secondRun: n2, maxCommentsPerItemAfterTwoRuns: maxNaive },
      requestRatio: round((n1.requests + n2.requests) / (first.requests + second.requests), 2),
      steadyStateRatio: round(n2.requests / Math.max(1, third.requests), 1),
    };
  } finally {
    await w.close();
  }
}
