// Derived rollup figures (% complete, schedule index, compliance) and the RAG health with the
// reason a PMO lead reads first. Pure functions: the SQL aggregates come in, numbers go out.
import type { ScopeAggregate } from './sql.ts';

export interface HealthThresholds {
  scheduleAmber: number;
  scheduleRed: number;
  complianceAmber: number;
  complianceRed: number;
}

export type Health = 'green' | 'amber' | 'red';

export interface RollupMetrics {
  counts: { total: number; todo: number; inProgress: number; done: number; removed: number };
  points: { total: number; done: number };
  percentComplete: number | null;
  overdue: number;
  blocked: number;
  wip: number;
  findings: { error: number; warning: number; info: number };
  compliance: number | null;
  scheduleIndex: number | null;
  throughputPerWeek: number;
  cycleTimeDays: { median: number | null; p85: number | null };
  plannedStart: string | null;
  plannedDue: string | null;
  overdueEpics: number;
}

export interface Rollup {
  scope: string;
  kind: 'epic' | 'project' | 'program' | 'portfolio';
  percentComplete: number | null;
  health: Health;
  healthReason: string;
  metrics: RollupMetrics;
}

const round = (n: number, d = 4) => Math.round(n * 10 ** d) / 10 ** d;
const pct = (n: number) => `${Math.round(n * 100)}%`;
const day = 86_400_000;

export function percentComplete(a: ScopeAggregate): number | null {
  if (a.pointsTotal > 0) return round(a.pointsDone / a.pointsTotal);
  const counted = a.total - a.removed;
  return counted > 0 ? round(a.done / counted) : null;
}

/** % complete ÷ % of planned time elapsed; null before 5% of the time has passed or without dates. */
export function scheduleIndex(done: number | null, start: string | null, due: string | null, now: Date): number | null {
  if (done === null || !start || !due) return null;
  const s = Date.parse(start);
  const d = Date.parse(due);
  if (!(d > s)) return null;
  const elapsed = Math.min(1, (now.getTime() - s) / (d - s));
  if (elapsed < 0.05) return null;
  return round(done / elapsed, 2);
}

export function buildRollup(a: ScopeAggregate, t: HealthThresholds, now: Date): Rollup {
  const done = percentComplete(a);
  const compliance = a.checks && a.checks > 0 ? round(Math.max(0, a.checks - a.checksFailed) / a.checks) : null;
  const kind = a.scope === 'portfolio' ? 'portfolio' : (a.scope.slice(0, a.scope.indexOf(':')) as Rollup['kind']);
  const metrics: RollupMetrics = {
    counts: { total: a.total, todo: a.todo, inProgress: a.inProgress, done: a.done, removed: a.removed },
    points: { total: a.pointsTotal, done: a.pointsDone },
    percentComplete: done,
    overdue: a.overdue,
    blocked: a.blocked,
    wip: a.wip,
    findings: { error: a.findingsError, warning: a.findingsWarning, info: a.findingsInfo },
    compliance,
    scheduleIndex: scheduleIndex(done, a.plannedStart, a.plannedDue, now),
    throughputPerWeek: round(a.doneLast4Weeks / 4, 2),
    cycleTimeDays: { median: a.cycleP50, p85: a.cycleP85 },
    plannedStart: a.plannedStart,
    plannedDue: a.plannedDue,
    overdueEpics: a.overdueContainers,
  };
  const { health, reason } = assessHealth(kind, metrics, t, now);
  return { scope: a.scope, kind, percentComplete: done, health, healthReason: reason, metrics };
}

export function assessHealth(
  kind: Rollup['kind'],
  m: RollupMetrics,
  t: HealthThresholds,
  now: Date,
): { health: Health; reason: string } {
  const red: string[] = [];
  const amber: string[] = [];
  const complete = m.percentComplete ?? 0;
  if (kind === 'epic' && m.plannedDue && Date.parse(m.plannedDue) < now.getTime() && complete < 1) {
    const late = Math.floor((now.getTime() - Date.parse(m.plannedDue)) / day);
    red.push(`past its target date ${m.plannedDue.slice(0, 10)} by ${late} days at ${pct(complete)} complete`);
  }
  if (m.scheduleIndex !== null && m.scheduleIndex < t.scheduleRed)
    red.push(`schedule index ${m.scheduleIndex} below ${t.scheduleRed}`);
  else if (m.scheduleIndex !== null && m.scheduleIndex < t.scheduleAmber)
    amber.push(`schedule index ${m.scheduleIndex} below ${t.scheduleAmber}`);
  if (m.compliance !== null && m.compliance < t.complianceRed)
    red.push(`compliance ${pct(m.compliance)} below ${pct(t.complianceRed)}`);
  else if (m.compliance !== null && m.compliance < t.complianceAmber)
    amber.push(`compliance ${pct(m.compliance)} below ${pct(t.complianceAmber)}`);
  if (kind !== 'epic' && m.overdueEpics > 0)
    amber.push(`${m.overdueEpics} epic${m.overdueEpics === 1 ? '' : 's'} past target date`);
  if (m.overdue > 0) amber.push(`${m.overdue} of ${m.counts.total} items overdue`);
  if (m.blocked > 0) amber.push(`${m.blocked} item${m.blocked === 1 ? '' : 's'} blocked by unfinished work`);
  if (m.findings.error > 0) amber.push(`${m.findings.error} open error finding${m.findings.error === 1 ? '' : 's'}`);
  if (red.length > 0) return { health: 'red', reason: red.slice(0, 2).join('; ') };
  if (amber.length > 0) return { health: 'amber', reason: amber.slice(0, 2).join('; ') };
  const parts = [m.percentComplete === null ? 'no child work yet' : `${pct(complete)} complete`];
  if (m.scheduleIndex !== null) parts.push(`schedule index ${m.scheduleIndex}`);
  if (m.compliance !== null) parts.push(`compliance ${pct(m.compliance)}`);
  return { health: 'green', reason: `on track: ${parts.join(', ')}` };
}
