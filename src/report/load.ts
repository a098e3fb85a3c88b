// Reads what the PMO reports on — items, findings, rollups — from the database, optionally
// narrowed to one program's (connection, project) pairs.
import { and, asc, eq, isNull, or, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { findings, rollups, workItems } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import type { WorkItem } from '../model/work-item.ts';
import { listQuarantine, type QuarantineEntry } from '../sync/quarantine.ts';

export type ReportItem = Omit<WorkItem, 'raw'> & { deleted: boolean };

export interface ReportFinding {
  ref: string;
  rule: string;
  severity: string;
  status: string;
  message: string;
  firstSeen: string;
  lastSeen: string;
  resolvedAt: string | null;
  waivedReason: string | null;
  waivedUntil: string | null;
}

export interface ReportRollup {
  scope: string;
  kind: string;
  percentComplete: number | null;
  health: string;
  healthReason: string;
  metrics: Record<string, unknown>;
  computedAt: string;
}

/** An item in quarantine: which stage failed on it, why, and since when (src/sync/quarantine.ts). */
export type ReportQuarantined = QuarantineEntry;

export interface Report {
  items: ReportItem[];
  findings: ReportFinding[];
  rollups: ReportRollup[];
  /** Items a sync stage could not handle; every pass tries them again. */
  quarantined: ReportQuarantined[];
}

export async function loadReport(db: Db, opts: { config: Config | null; program?: string }): Promise<Report> {
  let itemFilter: SQL | undefined;
  let programScope: string | undefined;
  let connections: string[] | undefined;
  if (opts.program) {
    const program = opts.config?.portfolio.programs.find((p) => p.id === opts.program);
    if (!program) {
      const known = opts.config?.portfolio.programs.map((p) => p.id) ?? [];
      throw new UsageError(`--program ${opts.program}: no such program (configured: ${known.join(', ') || 'none'})`);
    }
    programScope = `program:${program.id}`;
    // A quarantined item may never have been stored: its connection is what places it.
    connections = [...new Set(program.include.map((inc) => inc.connection))];
    itemFilter = or(
      ...program.include.map((inc) =>
        and(eq(workItems.connection, inc.connection), eq(workItems.project, inc.project)),
      ),
    );
  }
  const itemRows = await db
    .select()
    .from(workItems)
    .where(and(isNull(workItems.deletedAt), itemFilter))
    .orderBy(asc(workItems.ref));
  const items = itemRows.map(toReportItem);
  const refs = new Set(items.map((i) => i.ref));
  const findingRows = await db.select().from(findings).orderBy(asc(findings.ref), asc(findings.rule));
  const rollupRows = await db.select().from(rollups).orderBy(asc(rollups.scope));
  const quarantined = await listQuarantine(db, connections);
  return {
    items,
    findings: findingRows
      .filter((f) => !opts.program || refs.has(f.ref))
      .map((f) => ({
        ref: f.ref,
        rule: f.rule,
        severity: f.severity,
        status: f.status,
        message: f.message,
        firstSeen: f.firstSeen,
        lastSeen: f.lastSeen,
        resolvedAt: f.resolvedAt,
        waivedReason: f.waivedReason,
        waivedUntil: f.waivedUntil,
      })),
    rollups: rollupRows
      .filter(
        (r) => !programScope || r.scope === programScope || (r.scope.startsWith('epic:') && refs.has(r.scope.slice(5))),
      )
      .map(toRollup),
    quarantined,
  };
}

const iso = (v: string | null) => (v === null ? null : new Date(v).toISOString());

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
