// `/healthz` latency while a pathological rule set evaluates (issue 23, item 5): the built-in
// pack plus rules that pass `rules lint` but run to their cost budget on hostile items (hundreds
// of thousands of labels, a title of hundreds of kilobytes, a backtracking regex), and rules
// lint rejects. A full and an incremental evaluation run in this process while a child process
// asks the real HTTP app for /healthz every 25 ms: a probe in this process could not measure a
// blocked event loop, since its own timers would wait with it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { workItems } from '../../db/schema.ts';
import { loadRuleSet } from '../../rules/load.ts';
import { testItem } from '../../rules/testing.ts';
import { createLogger } from '../../src/core/log.ts';
import { evaluateFindings } from '../../src/findings/evaluate.ts';
import { createApp } from '../../src/http/app.ts';
import type { BenchDatabase } from '../lib/db.ts';
import { percentile, round } from '../lib/stats.ts';

export interface RuleBudgetFigures {
  db: string;
  items: number;
  hostileItems: number;
  /** Rules that ran, and the pathological ones `rules lint` rejected. */
  rules: number;
  rejectedByLint: number;
  /** Item-rule pairs stopped by the budget, over both passes. */
  overBudget: number;
  evaluationMs: number;
  healthz: { samples: number; failed: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
}

const PATHOLOGICAL = `
- { id: runaway-labels, title: t, severity: warning, check: "item.labels.all(x, x.size() < 100)", message: x }
- { id: runaway-split, title: t, severity: warning, check: "item.title.split('').exists(c, c == '!') == false", message: x }
- { id: runaway-swallowed, title: t, severity: warning, check: "item.labels.all(x, x.size() < 100) || true", message: x }
- { id: backtracking-regex, title: t, severity: warning, check: "!item.title.matches('^(a+)+$')", message: x }
- { id: map-over-labels, title: t, severity: warning, check: "item.labels.map(l, l + l).size() >= 0", message: x }
- { id: nested-links, title: t, severity: warning, check: "links.all(a, links.all(b, links.exists(c, a.ref == c.ref)))", message: x }
- { id: labels-squared, title: t, severity: warning, check: "item.labels.map(a, item.labels.map(b, a + b)).size() > 0", message: x }
`;

/** A child that GETs `url` every `everyMs` until its stdin closes, then prints the latencies. */
const PROBE = `
const url = process.argv[1];
const every = Number(process.argv[2]);
const out = { ms: [], failed: 0 };
let stop = false;
process.stdin.on('data', () => {}).on('end', () => { stop = true; });
(async () => {
  while (!stop) {
    const t0 = performance.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(30000) });
      await res.arrayBuffer();
      if (res.status !== 200) out.failed++;
      out.ms.push(performance.now() - t0);
    } catch { out.failed++; }
    await new Promise((r) => setTimeout(r, every));
  }
  process.stdout.write(JSON.stringify(out));
})();
`;

export async function runRuleBudgetScenario(
  database: BenchDatabase,
  opts: { items: number; hostile: number },
): Promise<RuleBudgetFigures> {
  const now = new Date('2026-06-01T12:00:00Z');
  const dir = mkdtempSync(join(tmpdir(), 'pmo-bench-rules-'));
  const log = createLogger({ level: 'silent', pretty: false });
  try {
    writeFileSync(join(dir, 'pathological.yaml'), PATHOLOGICAL);
    const ruleSet = loadRuleSet({ config: { packs: ['pmo-standard'], files: ['pathological.yaml'] }, cwd: dir });
    const rows = [];
    for (let i = 0; i < opts.items; i++) {
      rows.push(
        testItem(
          {
            ref: `jira-main:PAY-${i}`,
            connection: 'jira-main',
            kind: i % 10 === 0 ? 'epic' : 'story',
            labels: ['pmo'],
          },
          'x',
          now,
        ),
      );
    }
    const hostileRefs: string[] = [];
    for (let i = 0; i < opts.hostile; i++) {
      const ref = `jira-main:HUB-${i}`;
      hostileRefs.push(ref);
      rows.push(
        testItem(
          {
            ref,
            connection: 'jira-main',
            kind: 'story',
            labels: Array.from({ length: 200_000 }, (_, j) => `l${j % 13}`),
            title: `${'a'.repeat(200_000)}!`,
          },
          'x',
          now,
        ),
      );
    }
    for (let i = 0; i < rows.length; i += 500) {
      await database.db
        .insert(workItems)
        .values(rows.slice(i, i + 500).map((it) => ({ ...it, contentHash: `h-${it.ref}`, deletedAt: null })));
    }

    const app = createApp({ database, config: null, log });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => server.once('listening', () => r()));
    const port = (server.address() as AddressInfo).port;
    let probeOut = '';
    const probe = execFile(
      process.execPath,
      ['-e', PROBE, `http://127.0.0.1:${port}/healthz`, '25'],
      { maxBuffer: 64 * 1024 * 1024 },
      (_err, stdout) => {
        probeOut = stdout;
      },
    );
    const probeDone = new Promise<void>((r) => probe.once('exit', () => r()));
    // Let the probe make its first requests before the evaluation starts.
    await new Promise((r) => setTimeout(r, 500));

    const t0 = performance.now();
    const full = await evaluateFindings(database.db, ruleSet, { now, waivers: [] });
    const incremental = await evaluateFindings(database.db, ruleSet, { now, waivers: [], refs: hostileRefs });
    const evaluationMs = performance.now() - t0;

    probe.stdin?.end();
    await probeDone;
    await new Promise<void>((r) => server.close(() => r()));
    const samples = JSON.parse(probeOut || '{"ms":[],"failed":0}') as { ms: number[]; failed: number };
    const overBudget = [...full.ruleErrors, ...incremental.ruleErrors]
      .filter((e) => e.error.startsWith('cost budget exceeded'))
      .reduce((n, e) => n + e.items, 0);
    return {
      db: database.kind,
      items: opts.items + opts.hostile,
      hostileItems: opts.hostile,
      rules: ruleSet.rules.length,
      rejectedByLint: new Set(ruleSet.problems.map((p) => p.ruleId)).size,
      overBudget,
      evaluationMs: Math.round(evaluationMs),
      healthz: {
        samples: samples.ms.length,
        failed: samples.failed,
        p50Ms: round(percentile(samples.ms, 50)),
        p99Ms: round(percentile(samples.ms, 99)),
        maxMs: round(samples.ms.length ? Math.max(...samples.ms) : null),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
