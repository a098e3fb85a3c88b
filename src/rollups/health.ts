// Derived rollup figures (% complete, schedule index, compliance) and the RAG health with the
// reason a PMO lead reads first. Pure functions: the SQL aggregates come in, numbers go out. The
// definitions live in src/workspace/metrics.ts, once for the rollups, the API and the dashboard.
import {
  assessHealth as assessVerdict,
  compliance as complianceOf,
  type Health,
  type HealthRule,
  type HealthThresholds,
  percentComplete as percentOf,
  scheduleIndex,
} from '../workspace/metrics.ts';
import type { ScopeAggregate } from './sql.ts';

export type { Health, HealthThresholds };
export { scheduleIndex };

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
  plannedFinish: string | null;
  /** An epic's own due date; null for other scopes. */
  targetDate: string | null;
  /** An epic's own status category; null for other scopes. */
  status: string | null;
  resolved: string | null;
  children: { total: number; open: number };
  overdueEpics: number;
  /** The health rule that set the colour (src/workspace/metrics.ts HEALTH_RULES). */
  healthRule: HealthRule;
}

export interface Rollup {
  scope: string;
  kind: 'epic' | 'project' | 'program' | 'portfolio';
  percentComplete: number | null;
  health: Health;
  healthReason: string;
  metrics: RollupMetrics;
}

export function percentComplete(a: ScopeAggregate): number | null {
  return percentOf(a);
}

export function buildRollup(
  a: ScopeAggregate,
  t: HealthThresholds,
  now: Date,
  forecast?: { onTimeProbability: number | null; p85: string | null } | null,
): Rollup {
  const done = percentComplete(a);
  const compliance = complianceOf(a.checks, a.checksFailed);
  const kind = a.scope === 'portfolio' ? 'portfolio' : (a.scope.slice(0, a.scope.indexOf(':')) as Rollup['kind']);
  const index = scheduleIndex(done, a.plannedStart, a.targetDate ?? a.plannedFinish, now);
  const verdict = assessVerdict(
    {
      kind,
      statusCategory: a.selfStatus,
      targetDate: a.targetDate,
      plannedFinish: a.plannedFinish,
      resolved: a.selfResolved,
      percentComplete: done,
      scheduleIndex: index,
      compliance,
      openChildren: a.openChildren,
      totalChildren: a.totalChildren,
      overdue: a.overdue,
      total: a.total,
      blocked: a.blocked,
      errorFindings: a.findingsError,
      overdueEpics: a.overdueContainers,
      forecast,
    },
    t,
    now,
  );
  const metrics: RollupMetrics = {
    counts: { total: a.total, todo: a.todo, inProgress: a.inProgress, done: a.done, removed: a.removed },
    points: { total: a.pointsTotal, done: a.pointsDone },
    percentComplete: done,
    overdue: a.overdue,
    blocked: a.blocked,
    wip: a.wip,
    findings: { error: a.findingsError, warning: a.findingsWarning, info: a.findingsInfo },
    compliance,
    scheduleIndex: index,
    throughputPerWeek: Math.round((a.doneLast4Weeks / 4) * 100) / 100,
    cycleTimeDays: { median: a.cycleP50, p85: a.cycleP85 },
    plannedStart: a.plannedStart,
    plannedFinish: a.plannedFinish,
    targetDate: a.targetDate,
    status: a.selfStatus,
    resolved: a.selfResolved,
    children: { total: a.totalChildren, open: a.openChildren },
    overdueEpics: a.overdueContainers,
    healthRule: verdict.rule,
  };
  return {
    scope: a.scope,
    kind,
    percentComplete: done,
    health: verdict.health,
    healthReason: verdict.reason,
    metrics,
  };
}
