// One printed table for the whole suite: scenario, figure, value, the goal beside it.
import type { Results } from './run.ts';
import { BODY_GROWTH_GOAL_MIB } from './scenarios/bodies.ts';

export const GOALS = {
  requestRatio: 'request ratio to minimum ≤ 1.05 (initial and incremental)',
  ceilingShare: 'throughput ≥ 90% of the rate-limit ceiling when the limits are the bottleneck',
  itemsPerSec: '≥ 5,000 items/s end to end at zero latency on Postgres, ≥ 2,500 on PGlite',
  peakRss: 'peak RSS under 500 MB (the pipeline process; the simulators run in their own)',
  earlyRetry: '0 requests sent before a Retry-After expired',
  throttled: '429s under 1% of requests',
  apiP50: 'rollup API p50 under 100 ms',
  webhooks: 'lost = 0 and duplicate writes = 0 under 10% duplicates, 5% out of order',
  ruleBudget: '/healthz p99 under 1 s while a pathological rule set evaluates',
  bodies: 'server RSS growth under 50 MB while 20 concurrent 50 MB bodies are refused (issue 23)',
  jiraPoints:
    'Jira points per pull ≤ 1.05 × the minimum; under a tight hourly quota, finished across the reset with at most one 429 (issue 24)',
  adoTstu: 'Azure DevOps full sync of 50,000 items with zero 429s under a realistic TSTU budget (issue 24)',
  forecast: '5,000 open epics × 10,000 trials under 10 s on one core; one re-forecast under 50 ms (issue 26)',
} as const;

type Row = [scenario: string, figure: string, value: string, goal: string];

const fmt = (x: number | null | undefined, unit = ''): string =>
  x === null || x === undefined ? '–' : `${x.toLocaleString('en-US')}${unit}`;
const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`;
const mark = (ok: boolean | null): string => (ok === null ? '' : ok ? ' ✓' : ' ✗');

/** Items/s end to end at zero latency, per database. */
export const ITEMS_PER_SEC_GOAL: Record<string, number> = { postgres: 5000, pglite: 2500 };
/** 500 MB (10^6 bytes), in the MiB the RSS figures are in. */
export const PEAK_RSS_GOAL_MIB = Math.floor(500e6 / 2 ** 20);

export function tableRows(r: Results): Row[] {
  const rows: Row[] = [];
  for (const p of r.pull) {
    const s = `pull only, ${p.tracker} (${fmt(p.items)} items)`;
    rows.push([s, 'wall time / items/s', `${fmt(p.wallMs / 1000)} s / ${fmt(p.itemsPerSec)}`, '']);
    rows.push([
      s,
      'requests / minimum',
      `${fmt(p.requests)} / ${fmt(p.minimum)} = ${fmt(p.ratio)}${mark(p.ratio !== null && p.ratio <= 1.05)}`,
      '≤ 1.05',
    ]);
    rows.push([
      s,
      'share of rate ceiling',
      `${pct(p.ceilingShare)} of ${fmt(p.ceilingItemsPerSec)}/s${mark((p.ceilingShare ?? 0) >= 0.9)}`,
      '≥ 90%',
    ]);
    rows.push([
      s,
      '429s (client / simulator)',
      `${fmt(p.throttled)} / ${fmt(p.sim429)}${mark(p.sim429 <= 0.01 * p.requests)}`,
      '< 1% of requests',
    ]);
    if (p.earlyAfterRetryAfter !== null)
      rows.push([
        s,
        'sent before Retry-After expired',
        `${fmt(p.earlyAfterRetryAfter)}${mark(p.earlyAfterRetryAfter === 0)}`,
        '0',
      ]);
    rows.push([
      s,
      'peak RSS (connectors / simulators)',
      `${fmt(p.peakRssMiB)} / ${fmt(p.simulatorPeakRssMiB)} MiB`,
      '',
    ]);
  }
  for (const { initial: i, incremental: n } of r.sync) {
    for (const [label, f] of [
      ['initial sync', i],
      ['incremental 1%', n],
    ] as const) {
      const s = `${label}, ${f.db} (${fmt(f.jiraItems)} + ${fmt(f.adoItems)})`;
      rows.push([s, 'wall time / items/s', `${fmt(f.wallMs / 1000)} s / ${fmt(f.itemsPerSec)}`, '']);
      rows.push([
        s,
        'stages: pull+store / rules / rollups+plan',
        `${fmt(f.stageMs.pullAndStore)} / ${fmt(f.stageMs.evaluate)} / ${fmt(f.stageMs.rollupsAndPlan)} ms`,
        '',
      ]);
      rows.push([
        s,
        'Jira requests / minimum',
        `${fmt(f.jira.requests)} / ${fmt(f.jira.minimum)} = ${fmt(f.jira.ratio)}${mark(f.jira.ratio !== null && f.jira.ratio <= 1.05)}`,
        '≤ 1.05',
      ]);
      rows.push([
        s,
        'ADO requests / minimum',
        `${fmt(f.ado.requests)} / ${fmt(f.ado.minimum)} = ${fmt(f.ado.ratio)}${mark(f.ado.ratio !== null && f.ado.ratio <= 1.05)}`,
        '≤ 1.05',
      ]);
      rows.push([
        s,
        '429s (Jira client / sim, ADO client)',
        `${fmt(f.jira.throttled)} / ${fmt(f.jira.sim429)}, ${fmt(f.ado.throttled)}`,
        '< 1%',
      ]);
      if (label === 'initial sync')
        rows.push([
          s,
          'share of rate ceiling (Jira / ADO)',
          `${pct(f.ceilingShare.jira)} / ${pct(f.ceilingShare.ado)}`,
          '≥ 90%',
        ]);
      rows.push([
        s,
        // The bench process runs every scenario: its peak includes what earlier ones left behind.
        'peak RSS (bench process / simulators)',
        `${fmt(f.peakRssMiB)} / ${fmt(f.simulatorPeakRssMiB)} MiB`,
        '',
      ]);
    }
  }
  for (const f of r.zeroLatency) {
    const s = `initial sync, zero latency, ${f.db} (${fmt(f.jiraItems)} + ${fmt(f.adoItems)})`;
    const goal = ITEMS_PER_SEC_GOAL[f.db] ?? null;
    rows.push([
      s,
      'wall time / items/s end to end',
      `${fmt(f.wallMs / 1000)} s / ${fmt(f.itemsPerSec)}${mark(goal === null ? null : f.itemsPerSec >= goal)}`,
      goal === null ? '' : `≥ ${fmt(goal)} items/s`,
    ]);
    rows.push([
      s,
      'stages: pull+store / rules / rollups+plan',
      `${fmt(f.stageMs.pullAndStore)} / ${fmt(f.stageMs.evaluate)} / ${fmt(f.stageMs.rollupsAndPlan)} ms`,
      '',
    ]);
    rows.push([s, 'CPU time, pipeline process', `${fmt(f.pipelineCpuMs)} ms`, '']);
    rows.push([
      s,
      'peak RSS, pipeline process',
      `${fmt(f.peakRssMiB)} MiB${mark(f.peakRssMiB < PEAK_RSS_GOAL_MIB)} (${fmt(f.startRssMiB)} at start)`,
      `< 500 MB (${fmt(PEAK_RSS_GOAL_MIB)} MiB)`,
    ]);
    rows.push([s, 'peak RSS, simulator process', `${fmt(f.simulatorPeakRssMiB)} MiB`, '(not the pipeline)']);
  }
  for (const x of r.rules)
    rows.push([
      `rule evaluation, ${x.db}`,
      'item-rule checks/s',
      `${fmt(x.checksPerSec)} (${fmt(x.checks)} checks)`,
      '',
    ]);
  for (const a of r.api)
    for (const route of a.routes)
      rows.push([
        `rollup API, ${a.db} (${fmt(a.items)} items)`,
        `${route.route} p50 / p99`,
        route.timedOut
          ? '> 60,000 ms (abandoned) ✗'
          : `${fmt(route.p50Ms)} / ${fmt(route.p99Ms)} ms (n=${route.samples})${mark(route.status === 200 && (route.p50Ms ?? 1e9) < 100)}`,
        'p50 < 100 ms',
      ]);
  for (const a of r.workspace ?? [])
    for (const route of a.routes)
      rows.push([
        `workspace API, ${a.db} (${fmt(a.items)} items)`,
        `${route.route} p50 / p99`,
        route.timedOut
          ? '> 60,000 ms (abandoned) ✗'
          : `${fmt(route.p50Ms)} / ${fmt(route.p99Ms)} ms (n=${route.samples})${mark(route.status === 200 && (route.p50Ms ?? 1e9) < 200 && (route.p99Ms ?? 1e9) < 500)}`,
        'p50 < 200 ms, p99 < 500 ms',
      ]);
  for (const w of r.writeback) {
    const s = `write-back vs naive, ${w.db} (${fmt(w.items)} items, ${fmt(w.flaggedItems)} flagged)`;
    rows.push([
      s,
      'design: requests run 1 / 2 / 3',
      `${fmt(w.design.firstRun.requests)} / ${fmt(w.design.secondRun.requests)} / ${fmt(w.design.thirdRun.requests)}`,
      '',
    ]);
    rows.push([
      s,
      'design: writes sent run 1 / 2 / 3',
      `${fmt(w.design.firstRun.writesSent)} / ${fmt(w.design.secondRun.writesSent)} / ${fmt(w.design.thirdRun.writesSent)}${mark(w.design.secondRun.writesSent === 0)}`,
      'run 2 = 0 (convergence)',
    ]);
    rows.push([
      s,
      'naive: requests run 1 / run 2',
      `${fmt(w.naive.firstRun.requests)} / ${fmt(w.naive.secondRun.requests)}`,
      '',
    ]);
    rows.push([s, 'naive ÷ design requests (runs 1+2)', `${fmt(w.requestRatio)}×`, '']);
    rows.push([s, 'naive ÷ design, unchanged trackers', `${fmt(w.steadyStateRatio)}×`, '']);
    rows.push([
      s,
      'max comments per item (design / naive)',
      `${fmt(w.design.maxBotCommentsPerItem)} / ${fmt(w.naive.maxCommentsPerItemAfterTwoRuns)}${mark(w.design.maxBotCommentsPerItem <= 1)}`,
      'design ≤ 1',
    ]);
    rows.push([
      s,
      'wall time run 1 (design / naive)',
      `${fmt(w.design.firstRun.wallMs / 1000)} s / ${fmt(w.naive.firstRun.wallMs / 1000)} s`,
      '',
    ]);
  }
  for (const h of r.webhooks) {
    const s = `webhooks, ${h.db} (${h.eventsPerSec}/s × ${h.seconds} s)`;
    rows.push([
      s,
      'changes / deliveries / duplicates sent',
      `${fmt(h.changes)} / ${fmt(h.deliveries)} / ${fmt(h.duplicatesSent)}`,
      '',
    ]);
    rows.push([s, 'ack p50 / p99', `${fmt(h.ackMs.p50)} / ${fmt(h.ackMs.p99)} ms`, '']);
    rows.push([
      s,
      'change → write p50 / p99',
      `${fmt(h.changeToWriteMs.p50)} / ${fmt(h.changeToWriteMs.p99)} ms (${fmt(h.changeToWriteMs.samples)} samples)`,
      '',
    ]);
    rows.push([
      s,
      'lost / duplicate writes / max comments',
      `${fmt(h.lost)} / ${fmt(h.duplicateWrites)} / ${fmt(h.maxBotCommentsPerItem)}${mark(h.lost === 0 && h.duplicateWrites === 0)}`,
      '0 / 0 / ≤ 1',
    ]);
  }
  for (const b of r.ruleBudget ?? []) {
    const s = `rule budget, ${b.db} (${fmt(b.items)} items, ${fmt(b.hostileItems)} hostile)`;
    rows.push([
      s,
      'rules run / rejected by lint / stopped by budget',
      `${fmt(b.rules)} / ${fmt(b.rejectedByLint)} / ${fmt(b.overBudget)} item-rules`,
      '',
    ]);
    rows.push([s, 'evaluation (full + incremental)', `${fmt(b.evaluationMs / 1000)} s`, '']);
    rows.push([
      s,
      '/healthz p50 / p99 / max',
      `${fmt(b.healthz.p50Ms)} / ${fmt(b.healthz.p99Ms)} / ${fmt(b.healthz.maxMs)} ms (${fmt(b.healthz.samples)} samples, ${fmt(b.healthz.failed)} failed)${mark(b.healthz.p99Ms !== null && b.healthz.p99Ms < 1000 && b.healthz.failed === 0)}`,
      'p99 < 1 s',
    ]);
  }
  for (const t of r.adoTstu ?? []) {
    const s = `Azure DevOps under ${t.tstuBudget} (${fmt(t.items)} items, ${t.pacing ? 'paced' : 'not paced'})`;
    rows.push([
      s,
      '429s / requests',
      `${fmt(t.sim429)} / ${fmt(t.requests)}${t.pacing ? mark(t.sim429 === 0) : ''}`,
      t.pacing ? GOALS.adoTstu : '',
    ]);
    rows.push([
      s,
      'TSTUs; virtual minutes (least possible)',
      `${fmt(t.tstuSpent)}; ${fmt(t.virtualMinutes)} (${fmt(t.minimumMinutes)})`,
      '',
    ]);
  }
  if (r.bodies) {
    const b = r.bodies;
    const s = `oversized bodies (${b.requests} × ${fmt(b.bytesPerRequest / 1e6)} MB at once)`;
    const statuses = Object.entries(b.statuses)
      .map(([k, n]) => `${n} × ${k}`)
      .join(', ');
    rows.push([s, 'answers', statuses, '413 or 503 only']);
    rows.push([
      s,
      'body bytes sent before refusal',
      `${fmt(Math.round(b.bytesSent / 1e6))} MB of ${fmt((b.requests * b.bytesPerRequest) / 1e6)} MB`,
      '',
    ]);
    rows.push([
      s,
      'server RSS baseline / peak / growth',
      `${fmt(b.baselineRssMiB)} / ${fmt(b.peakRssMiB)} / ${fmt(b.growthMiB)} MiB${mark(b.growthMiB < BODY_GROWTH_GOAL_MIB)}`,
      `growth < ${BODY_GROWTH_GOAL_MIB} MiB (50 MB)`,
    ]);
    rows.push([
      s,
      '/healthz during the flood',
      b.healthzMs === null ? 'no answer ✗' : `${fmt(b.healthzMs)} ms`,
      'answers',
    ]);
  }
  if (r.jiraPoints) {
    const j = r.jiraPoints;
    const s = `Jira points (${fmt(j.items)} issues)`;
    rows.push([
      s,
      'full pull: points / minimum',
      `${fmt(j.full.points)} / ${fmt(j.full.minimum)}${mark(j.full.ratio <= 1.05)}`,
      '≤ 1.05 ×',
    ]);
    rows.push([
      s,
      `incremental (${fmt(j.incremental.changed)} changed): points / minimum`,
      `${fmt(j.incremental.points)} / ${fmt(j.incremental.minimum)}${mark(j.incremental.ratio <= 1.05)}`,
      '≤ 1.05 ×',
    ]);
    const t = j.tightQuota;
    rows.push([
      s,
      `tight quota (${fmt(t.pointsPerHour)} points/h): 429s, crossed the reset`,
      `${t.sim429}, ${t.crossedReset ? 'yes' : 'no'}${mark(t.sim429 <= 1 && t.crossedReset && t.itemsPulled === j.items)}`,
      '≤ 1, yes',
    ]);
  }
  if (r.forecast) {
    const f = r.forecast;
    const s = `forecast (${fmt(f.epics)} epics × ${fmt(f.trials)} trials, ${f.teams} teams)`;
    rows.push([
      s,
      'all epics',
      `${fmt(f.allMs / 1000)} s (${fmt(f.epicsPerSec)} epics/s)${mark(f.allMs < 10_000)}`,
      '< 10 s',
    ]);
    rows.push([
      s,
      're-forecast one epic, median / max',
      `${fmt(f.reforecastOneMs)} / ${fmt(f.reforecastMaxMs)} ms${mark(f.reforecastMaxMs < 50)}`,
      '< 50 ms',
    ]);
  }
  for (const h of r.history ?? []) {
    const s = `history backfill, ${h.tracker} (${fmt(h.items)} items, ${fmt(h.changes)} changes)`;
    rows.push([
      s,
      'requests / minimum',
      `${fmt(h.requests)} / ${fmt(h.minimum)} = ${fmt(h.ratio)}${mark(h.ratio <= 1.05)}`,
      '≤ 1.05',
    ]);
    rows.push([s, 'wall time', `${fmt(h.wallMs / 1000)} s`, '']);
  }
  return rows;
}

export function renderTable(r: Results): string {
  const rows = tableRows(r);
  const head: Row = ['scenario', 'figure', 'value', 'goal'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: Row) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
  const m = r.machine;
  out.push(
    '',
    `profile ${r.profile}, ${(r.durationMs / 1000).toFixed(0)} s; ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, Node ${m.node}, commit ${m.commit ?? '?'}`,
    `machine speed (bench/lib/stats.ts calibrate, lower is faster): ${m.calibrationMs.start} ms at the start, ${m.calibrationMs.end ?? '?'} ms at the end`,
  );
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.join('\n')}\n`;
}
