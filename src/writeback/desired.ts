// What pmo-sync wants an item to show in its tracker: the bot comment, the managed labels and
// the configured fields. Deterministic and free of timestamps, so the same findings always
// render the same body and hash — that is what makes an unchanged sync send nothing.
import type { CommentDoc, CommentText } from '../../connectors/types.ts';
import type { RollupMetrics } from '../rollups/health.ts';

export const NONCOMPLIANT_LABEL = 'pmo:noncompliant';
export const MANAGED_LABELS = [NONCOMPLIANT_LABEL] as const;

export interface DesiredFinding {
  rule: string;
  severity: string;
  status: string;
  message: string;
  waivedReason: string | null;
  waivedUntil: string | null;
}

export interface DesiredRollup {
  health: string;
  healthReason: string;
  percentComplete: number | null;
  metrics: RollupMetrics;
  /**
   * The completion forecast as published (src/forecast/compute.ts `publish`: P85 moved only past
   * a threshold, on-time probability in 5% steps), so a stable forecast renders the same body.
   */
  forecast?: { p85: string | null; onTime: number | null } | null;
}

export interface DesiredInput {
  ref: string;
  kind: string;
  labels: string[];
  ruleChecks: number | null;
  findings: DesiredFinding[];
  rollup: DesiredRollup | null;
  /** Whether a bot comment exists (an id is stored for it). */
  hasComment: boolean;
}

export interface WritebackSettings {
  comment: boolean;
  labels: boolean;
  /**
   * Friendly name (`health`, `compliance`, `percentComplete`, `forecastP85`, `forecastOnTime`) →
   * tracker field id.
   */
  fields: Record<string, string>;
  whenCompliant: 'update' | 'delete';
}

export type CommentPlan = { action: 'ensure'; doc: CommentDoc } | { action: 'delete' } | null;

export interface Desired {
  comment: CommentPlan;
  labels: { add: string[]; remove: string[] } | null;
  fields: Record<string, string | number | null> | null;
}

export const markerFor = (ref: string) => `pmo-sync:${ref}`;

const SEVERITY_ORDER: Record<string, number> = { error: 0, warning: 1, info: 2 };
const pct = (n: number | null | undefined) => (n === null || n === undefined ? 'n/a' : `${Math.round(n * 100)}%`);

export function desiredState(input: DesiredInput, settings: WritebackSettings): Desired {
  const open = input.findings
    .filter((f) => f.status === 'open')
    .sort(
      (a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) || a.rule.localeCompare(b.rule),
    );
  const waived = input.findings.filter((f) => f.status === 'waived').sort((a, b) => a.rule.localeCompare(b.rule));
  const isContainer = input.rollup !== null;

  let comment: CommentPlan = null;
  if (settings.comment) {
    const wantsComment = open.length > 0 || waived.length > 0 || isContainer;
    if (wantsComment) comment = { action: 'ensure', doc: renderDoc(input.ref, open, waived, input.rollup) };
    else if (input.hasComment) {
      comment =
        settings.whenCompliant === 'delete'
          ? { action: 'delete' }
          : { action: 'ensure', doc: renderDoc(input.ref, [], [], null) };
    }
  }

  let labels: Desired['labels'] = null;
  if (settings.labels) {
    const flagged = open.some((f) => f.severity === 'error' || f.severity === 'warning');
    const add = flagged && !input.labels.includes(NONCOMPLIANT_LABEL) ? [NONCOMPLIANT_LABEL] : [];
    const remove = !flagged && input.labels.includes(NONCOMPLIANT_LABEL) ? [NONCOMPLIANT_LABEL] : [];
    if (add.length > 0 || remove.length > 0) labels = { add, remove };
  }

  let fields: Desired['fields'] = null;
  const f = settings.fields;
  if (Object.keys(f).length > 0) {
    const values: Record<string, string | number | null> = {};
    const compliance = isContainer
      ? input.rollup!.metrics.compliance
      : input.ruleChecks
        ? Math.max(0, input.ruleChecks - open.length) / input.ruleChecks
        : null;
    if (f.health && isContainer) values[f.health] = input.rollup!.health;
    if (f.percentComplete && isContainer) values[f.percentComplete] = roundPct(input.rollup!.percentComplete);
    if (f.compliance && compliance !== null) values[f.compliance] = roundPct(compliance);
    const fc = isContainer ? input.rollup!.forecast : null;
    if (f.forecastP85 && fc?.p85) values[f.forecastP85] = fc.p85;
    if (f.forecastOnTime && fc && fc.onTime !== null) values[f.forecastOnTime] = roundPct(fc.onTime);
    if (Object.keys(values).length > 0) fields = values;
  }
  return { comment, labels, fields };
}

const roundPct = (n: number | null) => (n === null ? null : Math.round(n * 100));

function renderDoc(
  ref: string,
  open: DesiredFinding[],
  waived: DesiredFinding[],
  rollup: DesiredRollup | null,
): CommentDoc {
  const blocks: CommentDoc['blocks'] = [];
  if (open.length > 0) {
    blocks.push({ type: 'heading', text: `PMO check: ${open.length} thing${open.length === 1 ? '' : 's'} to fix` });
    blocks.push({
      type: 'bullets',
      items: open.map((f): CommentText[] => [
        { text: `${f.severity}: `, bold: true },
        { text: `${f.message} ` },
        { text: f.rule, code: true },
      ]),
    });
  } else {
    blocks.push({ type: 'heading', text: 'PMO check: compliant' });
    blocks.push({ type: 'paragraph', content: [{ text: 'This item meets the PMO standard. Thank you!' }] });
  }
  if (waived.length > 0) {
    blocks.push({ type: 'paragraph', content: [{ text: 'Waived by the PMO:', bold: true }] });
    blocks.push({
      type: 'bullets',
      items: waived.map((f): CommentText[] => [
        { text: f.rule, code: true },
        { text: ` until ${f.waivedUntil ?? 'further notice'}${f.waivedReason ? ` — ${f.waivedReason}` : ''}` },
      ]),
    });
  }
  if (rollup) {
    const m = rollup.metrics;
    blocks.push({ type: 'paragraph', content: [{ text: 'Rollup', bold: true }] });
    blocks.push({
      type: 'bullets',
      items: [
        [{ text: `Health: ${rollup.health.toUpperCase()}`, bold: true }, { text: ` — ${rollup.healthReason}` }],
        [
          {
            text: `${pct(rollup.percentComplete)} complete (${m.points.done} of ${m.points.total} points, ${m.counts.done} of ${m.counts.total} items)`,
          },
        ],
        [{ text: `Overdue children: ${m.overdue} · blocked: ${m.blocked} · in progress: ${m.wip}` }],
        [{ text: `Schedule index: ${m.scheduleIndex ?? 'n/a'} · compliance: ${pct(m.compliance)}` }],
        ...(rollup.forecast
          ? [
              [
                {
                  text: `Forecast: 85% likely done by ${rollup.forecast.p85 ?? 'n/a (no throughput history)'} · on-time chance ${pct(rollup.forecast.onTime)}`,
                },
              ],
            ]
          : []),
      ],
    });
  }
  blocks.push({
    type: 'paragraph',
    content: [
      { text: 'Posted by pmo-sync; it updates this comment in place. To waive a rule with the PMO, add the label ' },
      { text: 'pmo-waive:<rule-id>', code: true },
      { text: '.' },
    ],
  });
  return { marker: markerFor(ref), blocks };
}
