// The one definition of every figure the PMO workspace shows: the rollups compute with these
// functions, the API and `report` name them with these labels, and the dashboard's legend and
// tooltips read these texts. docs/metrics.md repeats the texts (test/workspace/metrics.test.ts
// fails when the two drift), so a number means the same thing wherever it is read.

export type Health = 'green' | 'amber' | 'red';
export type StatusCategory = 'todo' | 'in_progress' | 'done' | 'removed';

export interface MetricDefinition {
  /** The name shown in the dashboard, the API's field descriptions and `report`. */
  label: string;
  /** One paragraph: what is counted and how; shown as the legend and tooltip. */
  definition: string;
}

export const METRIC_KEYS = [
  'targetDate',
  'plannedFinish',
  'overdue',
  'percentComplete',
  'scheduleIndex',
  'compliance',
  'health',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export const METRICS: Record<MetricKey, MetricDefinition> = {
  targetDate: {
    label: 'Target date',
    definition:
      "The item's own due date, as set in its tracker (Jira due date, Azure DevOps target date). An epic without one is never overdue and never past target; the dashboard shows — for it.",
  },
  plannedFinish: {
    label: 'Planned finish',
    definition:
      "The latest due date among the epic's descendants (features, stories, bugs, tasks) that are not removed. It is what the children's dates plan, not what the epic promised; it is never called a target.",
  },
  overdue: {
    label: 'Overdue',
    definition:
      'An item that is not done or removed and whose target date is before today (UTC). An epic is overdue by its own target date; done and removed work, and work without a target date, is never overdue.',
  },
  percentComplete: {
    label: '% complete',
    definition:
      'Story points of done leaf work ÷ story points of leaf work that is not removed; when no leaf work has points, done leaf items ÷ leaf items that are not removed. Leaf work is everything but initiatives, epics and features. None without leaf work.',
  },
  scheduleIndex: {
    label: 'Schedule index',
    definition:
      "% complete ÷ share of the planned time elapsed, from the planned start (the epic's own start date, else the earliest start of its containers, else when it was created) to the target date, or the planned finish without one. 1 is on plan, below 1 behind. None before 5% of the time has elapsed, or without both dates.",
  },
  compliance: {
    label: 'Compliance',
    definition:
      'Rule checks passed ÷ rule checks applicable, over the items in scope: every open finding is one failed check. None when no rule applies.',
  },
  health: {
    label: 'Health',
    definition:
      'Red, amber or green by the first rule of the health rules table that holds; done work is judged as done work (its open children), never by its dates. The reason names the rule and the threshold that set the colour.',
  },
};

/** The rules that set a colour, in the order they are tried; the reason names the first that holds. */
export const HEALTH_RULES = {
  removed: { health: 'green', text: 'a removed epic: not judged' },
  'epic-done-open-children': {
    health: 'red',
    text: 'a done epic with open children (they are hidden from every rollup)',
  },
  done: { health: 'green', text: 'a done epic with no open children, late or not (the reason says which)' },
  'past-target': { health: 'red', text: 'an open epic whose target date has passed' },
  'schedule-index-red': { health: 'red', text: 'schedule index below the red threshold' },
  'compliance-red': { health: 'red', text: 'compliance below the red threshold' },
  'schedule-index-amber': { health: 'amber', text: 'schedule index below the amber threshold' },
  'compliance-amber': { health: 'amber', text: 'compliance below the amber threshold' },
  'forecast-on-time': {
    health: 'amber',
    text: "an open epic whose forecast on-time probability is below the forecast-on-time rule's threshold",
  },
  'planned-finish-passed': {
    health: 'amber',
    text: 'an open epic without a target date whose planned finish has passed',
  },
  'overdue-epics': { health: 'amber', text: 'a program, project or portfolio with overdue epics' },
  'overdue-items': { health: 'amber', text: 'overdue leaf work' },
  blocked: { health: 'amber', text: 'open work blocked by unfinished work' },
  'error-findings': { health: 'amber', text: 'open findings of error severity' },
  'on-track': { health: 'green', text: 'none of the above' },
} as const satisfies Record<string, { health: Health; text: string }>;
export type HealthRule = keyof typeof HEALTH_RULES;

export interface HealthThresholds {
  scheduleAmber: number;
  scheduleRed: number;
  complianceAmber: number;
  complianceRed: number;
  /** On-time probability below which an open epic is amber; absent: DEFAULT_FORECAST_ON_TIME. */
  forecastOnTime?: number;
}

/**
 * The forecast-on-time threshold when none is configured: the pmo-standard rule's own default
 * (rules/packs/pmo-standard.yaml), so health and the finding agree on what "unlikely" means.
 */
export const DEFAULT_FORECAST_ON_TIME = 0.5;

const DAY = 86_400_000;
const round = (n: number, d = 4) => Math.round(n * 10 ** d) / 10 ** d;
const pct = (n: number) => `${Math.round(n * 100)}%`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Start of the UTC day: every date metric moves by the day. */
export function dayOf(now: Date): Date {
  const d = new Date(now);
  d.setUTCHours(0, 0, 0, 0);
  return d;
}

export function isOverdue(statusCategory: string, targetDate: string | null, now: Date): boolean {
  if (targetDate === null) return false;
  if (statusCategory !== 'todo' && statusCategory !== 'in_progress') return false;
  return Date.parse(targetDate) < dayOf(now).getTime();
}

/** Whole days from `date` to today (negative when `date` is in the future). */
export function daysLate(date: string, now: Date): number {
  return Math.floor((dayOf(now).getTime() - Date.parse(date)) / DAY);
}

export function percentComplete(p: {
  pointsDone: number;
  pointsTotal: number;
  done: number;
  total: number;
  removed: number;
}): number | null {
  if (p.pointsTotal > 0) return round(p.pointsDone / p.pointsTotal);
  const counted = p.total - p.removed;
  return counted > 0 ? round(p.done / counted) : null;
}

export function scheduleIndex(done: number | null, start: string | null, end: string | null, now: Date): number | null {
  if (done === null || !start || !end) return null;
  const s = Date.parse(start);
  const e = Date.parse(end);
  if (!(e > s)) return null;
  const elapsed = Math.min(1, (now.getTime() - s) / (e - s));
  if (elapsed < 0.05) return null;
  return round(done / elapsed, 2);
}

export function compliance(checks: number | null, failed: number): number | null {
  return checks && checks > 0 ? round(Math.max(0, checks - failed) / checks) : null;
}

/** What health is judged on; the rollup's stored metrics carry every field. */
export interface HealthInput {
  kind: 'epic' | 'project' | 'program' | 'portfolio';
  /** The epic's own status category; null for aggregate scopes. */
  statusCategory: string | null;
  targetDate: string | null;
  plannedFinish: string | null;
  /** When the epic was resolved (done), for "done N days after its target". */
  resolved: string | null;
  percentComplete: number | null;
  scheduleIndex: number | null;
  compliance: number | null;
  /** Descendants of the epic that are todo or in progress. */
  openChildren: number;
  totalChildren: number;
  overdue: number;
  total: number;
  blocked: number;
  errorFindings: number;
  overdueEpics: number;
  /** The epic's stored completion forecast, when there is one (src/forecast). */
  forecast?: { onTimeProbability: number | null; p85: string | null } | null;
}

export interface HealthVerdict {
  health: Health;
  rule: HealthRule;
  reason: string;
}

/**
 * Health and its reason. The reason starts with what set the colour, naming the rule (and the
 * threshold when one did) — e.g. "epic-done-open-children: done with 3 of 8 items still open".
 * Up to one more finding of the same colour follows it.
 */
export function assessHealth(m: HealthInput, t: HealthThresholds, now: Date): HealthVerdict {
  const today = dayOf(now);
  const hits: { rule: HealthRule; text: string }[] = [];
  const complete = m.percentComplete ?? 0;
  const isEpic = m.kind === 'epic';
  if (isEpic && m.statusCategory === 'removed') {
    return { health: 'green', rule: 'removed', reason: 'removed: not judged' };
  }
  if (isEpic && m.statusCategory === 'done') {
    if (m.openChildren > 0) {
      return {
        health: 'red',
        rule: 'epic-done-open-children',
        reason: `epic-done-open-children: done with ${m.openChildren} of ${plural(m.totalChildren, 'item')} still open`,
      };
    }
    const late =
      m.targetDate && m.resolved && Date.parse(m.resolved) > Date.parse(m.targetDate)
        ? Math.ceil((Date.parse(m.resolved) - Date.parse(m.targetDate)) / DAY)
        : 0;
    return {
      health: 'green',
      rule: 'done',
      reason:
        late > 0
          ? `done: ${plural(late, 'day')} after its target date ${m.targetDate!.slice(0, 10)}`
          : m.targetDate
            ? `done: by its target date ${m.targetDate.slice(0, 10)}`
            : 'done: no target date was set',
    };
  }
  if (isEpic && m.targetDate && Date.parse(m.targetDate) < today.getTime()) {
    hits.push({
      rule: 'past-target',
      text: `past-target: target date ${m.targetDate.slice(0, 10)} passed ${plural(daysLate(m.targetDate, now), 'day')} ago at ${pct(complete)} complete`,
    });
  }
  if (m.scheduleIndex !== null && m.scheduleIndex < t.scheduleRed)
    hits.push({
      rule: 'schedule-index-red',
      text: `schedule-index-red: schedule index ${m.scheduleIndex} below ${t.scheduleRed}`,
    });
  if (m.compliance !== null && m.compliance < t.complianceRed)
    hits.push({
      rule: 'compliance-red',
      text: `compliance-red: compliance ${pct(m.compliance)} below ${pct(t.complianceRed)}`,
    });
  if (m.scheduleIndex !== null && m.scheduleIndex >= t.scheduleRed && m.scheduleIndex < t.scheduleAmber)
    hits.push({
      rule: 'schedule-index-amber',
      text: `schedule-index-amber: schedule index ${m.scheduleIndex} below ${t.scheduleAmber}`,
    });
  if (m.compliance !== null && m.compliance >= t.complianceRed && m.compliance < t.complianceAmber)
    hits.push({
      rule: 'compliance-amber',
      text: `compliance-amber: compliance ${pct(m.compliance)} below ${pct(t.complianceAmber)}`,
    });
  const onTime = m.forecast?.onTimeProbability;
  const onTimeThreshold = t.forecastOnTime ?? DEFAULT_FORECAST_ON_TIME;
  if (isEpic && m.targetDate && onTime !== null && onTime !== undefined && onTime < onTimeThreshold)
    hits.push({
      rule: 'forecast-on-time',
      text: `forecast-on-time: ${pct(onTime)} likely by its target date ${m.targetDate.slice(0, 10)}, below ${pct(onTimeThreshold)}; 85% likely done by ${m.forecast?.p85 ? m.forecast.p85.slice(0, 10) : 'no date'}`,
    });
  if (isEpic && !m.targetDate && m.plannedFinish && Date.parse(m.plannedFinish) < today.getTime() && complete < 1)
    hits.push({
      rule: 'planned-finish-passed',
      text: `planned-finish-passed: no target date, and its planned finish ${m.plannedFinish.slice(0, 10)} passed ${plural(daysLate(m.plannedFinish, now), 'day')} ago`,
    });
  if (!isEpic && m.overdueEpics > 0)
    hits.push({ rule: 'overdue-epics', text: `overdue-epics: ${plural(m.overdueEpics, 'epic')} past target date` });
  if (m.overdue > 0)
    hits.push({ rule: 'overdue-items', text: `overdue-items: ${m.overdue} of ${m.total} items overdue` });
  if (m.blocked > 0)
    hits.push({ rule: 'blocked', text: `blocked: ${plural(m.blocked, 'item')} blocked by unfinished work` });
  if (m.errorFindings > 0)
    hits.push({ rule: 'error-findings', text: `error-findings: ${plural(m.errorFindings, 'open error finding')}` });
  for (const colour of ['red', 'amber'] as const) {
    const of = hits.filter((h) => HEALTH_RULES[h.rule].health === colour);
    if (of.length > 0)
      return {
        health: colour,
        rule: of[0]!.rule,
        reason: of
          .slice(0, 2)
          .map((h) => h.text)
          .join('; '),
      };
  }
  const parts = [m.percentComplete === null ? 'no child work yet' : `${pct(complete)} complete`];
  if (m.scheduleIndex !== null) parts.push(`schedule index ${m.scheduleIndex}`);
  if (m.compliance !== null) parts.push(`compliance ${pct(m.compliance)}`);
  return { health: 'green', rule: 'on-track', reason: `on-track: ${parts.join(', ')}` };
}

/**
 * Natural order of refs and keys: digit runs compare as numbers, so `PAY-2` sorts before
 * `PAY-10` and `ado:9` before `ado:10`; otherwise code-unit order, so it is the same everywhere.
 */
export function compareNatural(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+(?=\d)/, '');
      const ny = y.replace(/^0+(?=\d)/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

const HEALTH_ORDER: Record<string, number> = { red: 0, amber: 1, green: 2 };

/** Epic rows as every view lists them: red first, then amber, green; then natural ref order. */
export function compareEpicRows(
  a: { ref: string; health: string | null | undefined },
  b: { ref: string; health: string | null | undefined },
): number {
  return (HEALTH_ORDER[a.health ?? ''] ?? 3) - (HEALTH_ORDER[b.health ?? ''] ?? 3) || compareNatural(a.ref, b.ref);
}

/** Which items are the "epics" every view lists and counts: kind `epic` in both trackers. */
export const EPIC_KIND = 'epic';
