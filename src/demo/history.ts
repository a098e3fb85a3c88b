// The demo's past: a fresh demo has one day of snapshots, and a trend of one point shows
// nothing. This writes weekly snapshots for the weeks before today, drawn back from today's
// figures — progress lower the further back, late epics amber and then green before they
// slipped — so the trend shows weeks. Demo only: a real installation's history is its syncs'.
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';

const DAY = 86_400_000;

const BETTER: Record<string, string> = { red: 'amber', amber: 'green', green: 'green' };

type Row = {
  scope: string;
  percent_complete: number | null;
  health: string;
  metrics: Record<string, unknown>;
};

/** Writes `weeks` weekly snapshots before `now`'s day for every scope with one today; returns how many. */
export async function backfillDemoHistory(db: Db, now: Date, weeks = 8): Promise<number> {
  const today = new Date(now).toISOString().slice(0, 10);
  const rows = await queryRows<Row>(
    db,
    sql`select scope, percent_complete, health, metrics from rollup_snapshots where day = ${today}::date`,
  );
  const out: { day: string; scope: string; percent_complete: number | null; health: string; metrics: unknown }[] = [];
  for (let w = 1; w <= weeks; w++) {
    const day = new Date(Date.parse(today) - w * 7 * DAY).toISOString().slice(0, 10);
    // Progress grows about 9 points of its value a week; compliance a point a week.
    const factor = Math.max(0, 1 - 0.09 * w);
    for (const r of rows) {
      const health = w >= 6 ? BETTER[BETTER[r.health] ?? 'green']! : w >= 3 ? (BETTER[r.health] ?? r.health) : r.health;
      const m = r.metrics;
      const points = m.points as { total: number; done: number } | undefined;
      const counts = m.counts as Record<string, number> | undefined;
      const compliance = typeof m.compliance === 'number' ? Math.max(0, m.compliance - 0.01 * w) : m.compliance;
      out.push({
        day,
        scope: r.scope,
        percent_complete:
          r.percent_complete === null ? null : Math.round(r.percent_complete * factor * 10_000) / 10_000,
        health,
        metrics: {
          ...m,
          compliance,
          percentComplete:
            r.percent_complete === null ? null : Math.round(r.percent_complete * factor * 10_000) / 10_000,
          ...(points ? { points: { total: points.total, done: Math.round(points.done * factor * 100) / 100 } } : {}),
          ...(counts ? { counts: { ...counts, done: Math.round((counts.done ?? 0) * factor) } } : {}),
        },
      });
    }
  }
  for (let i = 0; i < out.length; i += 2000) {
    await db.execute(sql`insert into rollup_snapshots (day, scope, percent_complete, health, metrics)
      select day, scope, percent_complete, health, metrics
      from jsonb_to_recordset(${JSON.stringify(out.slice(i, i + 2000))}::jsonb)
        as x(day date, scope text, percent_complete float8, health text, metrics jsonb)
      on conflict (day, scope) do nothing`);
  }
  return out.length;
}
