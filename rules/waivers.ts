// Waivers: the PMO accepts a finding for a while, with a reason. Either in config (by ref or by
// project, until a date) or by a `pmo-waive:<rule-id>` label a team puts on the item. Config
// waivers expire at the end of their `until` day (UTC); the finding then re-opens.
import type { Waiver } from './config.ts';
import type { GraphItem } from './graph.ts';

export interface ActiveWaiver {
  reason: string;
  /** YYYY-MM-DD, or null for a label waiver (it lasts as long as the label). */
  until: string | null;
}

export const WAIVE_LABEL_PREFIX = 'pmo-waive:';

function day(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The waiver that covers `rule` on `item` at `now`, if any; config waivers win over labels. */
export function findWaiver(
  waivers: readonly Waiver[],
  rule: string,
  item: Pick<GraphItem, 'ref' | 'connection' | 'project' | 'labels'>,
  now: Date,
): ActiveWaiver | null {
  const today = day(now);
  for (const w of waivers) {
    if (w.rule !== rule && w.rule !== '*') continue;
    const byRef = w.ref !== undefined && w.ref === item.ref;
    const byProject =
      w.project !== undefined && (w.project === item.project || w.project === `${item.connection}:${item.project}`);
    if (!byRef && !byProject) continue;
    if (w.until < today) continue;
    return { reason: w.reason, until: w.until };
  }
  const label = `${WAIVE_LABEL_PREFIX}${rule}`;
  // The length first: an item may carry hundreds of thousands of labels, and this runs for
  // every failing rule on it; lower-casing each one held the event loop for a second.
  for (const l of item.labels ?? []) {
    if (l.length === label.length && l.toLowerCase() === label) {
      return { reason: `waived by the label ${l} on the item`, until: null };
    }
  }
  return null;
}
