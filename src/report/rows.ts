// The rows the report, the API and the dashboard show, made from database rows: one place, so
// the three read an item, a finding and a rollup alike.
import type { rollups, workItems } from '../../db/schema.ts';
import type { StoredFinding } from '../../rules/plan.ts';
import type { WorkItem } from '../core/work-item.ts';

export type ReportItem = Omit<WorkItem, 'raw'> & { deleted: boolean };

const iso = (v: string | null) => (v === null ? null : new Date(v).toISOString());

/** A finding as the report, the API and the dashboard show it: the stored row without the hashes. */
export type ReportFinding = Omit<StoredFinding, 'id' | 'ruleHash' | 'itemHash'>;

export interface ReportRollup {
  scope: string;
  kind: string;
  percentComplete: number | null;
  health: string;
  healthReason: string;
  metrics: Record<string, unknown>;
  computedAt: string;
}

export function toReportItem(r: typeof workItems.$inferSelect): ReportItem {
  return {
    ref: r.ref,
    connection: r.connection,
    tracker: r.tracker as WorkItem['tracker'],
    key: r.key,
    project: r.project,
    kind: r.kind as WorkItem['kind'],
    type: r.type,
    title: r.title,
    status: r.status,
    statusCategory: r.statusCategory as WorkItem['statusCategory'],
    assignee: r.assignee ?? null,
    owner: r.owner ?? null,
    priority: r.priority,
    labels: r.labels,
    created: iso(r.created)!,
    updated: iso(r.updated)!,
    started: iso(r.started),
    resolved: iso(r.resolved),
    start: iso(r.start),
    due: iso(r.due),
    points: r.points,
    estimateHours: r.estimateHours,
    remainingHours: r.remainingHours,
    parent: r.parent,
    links: r.links,
    iteration: r.iteration ?? null,
    fields: r.fields,
    url: r.url,
    revision: r.revision,
    deleted: r.deletedAt !== null,
  };
}

export function toRollup(r: typeof rollups.$inferSelect): ReportRollup {
  return {
    scope: r.scope,
    kind: r.kind,
    percentComplete: r.percentComplete,
    health: r.health,
    healthReason: r.healthReason,
    metrics: r.metrics,
    computedAt: new Date(r.computedAt).toISOString(),
  };
}
