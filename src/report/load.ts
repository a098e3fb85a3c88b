// Reads what the PMO reports on — items, findings, rollups, and the headline and epic rows the
// dashboard shows — from the database, narrowed by the workspace filter (src/workspace/filters.ts)
// through the same queries the API and the dashboard use, so all three agree.
import { and, asc, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { findings, rollups, workItems } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import { UsageError } from '../core/errors.ts';
import { type EpicRow, type Headline, loadEpics, loadHeadline } from '../http/queries.ts';
import { listQuarantine, type QuarantineEntry } from '../sync/quarantine.ts';
import { filterCondition, toScopeFilter, type WorkspaceFilter } from '../workspace/filters.ts';
import { compareNatural } from '../workspace/metrics.ts';
import { type ReportFinding, type ReportItem, type ReportRollup, toReportItem, toRollup } from './rows.ts';

export type { ReportFinding, ReportItem, ReportRollup } from './rows.ts';
export { toReportItem, toRollup } from './rows.ts';

/** An item in quarantine: which stage failed on it, why, and since when (src/sync/quarantine.ts). */
export type ReportQuarantined = QuarantineEntry;

export interface Report {
  /** The filter the report is of (empty: the whole portfolio). */
  filter: WorkspaceFilter;
  /** The dashboard's headline for the filter: it counts the `epics` rows. */
  headline: Headline;
  /** The dashboard's epic rows for the filter: kind epic in both trackers, red first, natural ref order. */
  epics: EpicRow[];
  /** Items in natural ref order (`:2` before `:10`). */
  items: ReportItem[];
  findings: ReportFinding[];
  rollups: ReportRollup[];
  /** Items a sync stage could not handle; every pass tries them again. */
  quarantined: ReportQuarantined[];
}

export interface ReportOptions {
  config: Config | null;
  /** Shorthand for `filter.program`. */
  program?: string;
  filter?: WorkspaceFilter;
  /** The day overdue is judged on (default: now). */
  now?: Date;
}

export async function loadReport(db: Db, opts: ReportOptions): Promise<Report> {
  const filter: WorkspaceFilter = { ...opts.filter, ...(opts.program ? { program: opts.program } : {}) };
  const now = opts.now ?? new Date();
  let connections: string[] | undefined;
  if (filter.program) {
    const program = opts.config?.portfolio.programs.find((p) => p.id === filter.program);
    if (!program) {
      const known = opts.config?.portfolio.programs.map((p) => p.id) ?? [];
      throw new UsageError(
        `--program ${filter.program}: no such program (configured: ${known.join(', ') || 'none'}); pass one of those ids`,
      );
    }
    // A quarantined item may never have been stored: its connection is what places it.
    connections = [...new Set(program.include.map((inc) => inc.connection))];
  }
  if (filter.project) connections = [filter.project.slice(0, filter.project.indexOf(':'))];
  const filtered = Object.keys(filter).length > 0;
  const itemRows = await db
    .select()
    .from(workItems)
    .where(and(isNull(workItems.deletedAt), filterCondition(opts.config, filter)))
    .orderBy(asc(workItems.ref));
  const items = itemRows.map(toReportItem).sort((a, b) => compareNatural(a.ref, b.ref));
  const refs = new Set(items.map((i) => i.ref));
  const findingRows = await db.select().from(findings).orderBy(asc(findings.ref), asc(findings.rule));
  const rollupRows = await db.select().from(rollups).orderBy(asc(rollups.scope));
  const quarantined = await listQuarantine(db, connections);
  const scope = toScopeFilter(filter);
  const [headline, epics] = await Promise.all([
    loadHeadline(db, opts.config, scope, now),
    loadEpics(db, opts.config, scope, Number.MAX_SAFE_INTEGER, now),
  ]);
  // The stored aggregate the filter is: the program's, a project's, or the portfolio's.
  const aggregate = filter.program
    ? `program:${filter.program}`
    : filter.project && !filter.tracker && !filter.team && !filter.owner
      ? `project:${filter.project}`
      : filtered
        ? null
        : undefined;
  return {
    filter,
    headline,
    epics,
    items,
    findings: findingRows
      .filter((f) => !filtered || refs.has(f.ref))
      .sort((a, b) => compareNatural(a.ref, b.ref) || a.rule.localeCompare(b.rule))
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
        (r) =>
          aggregate === undefined ||
          r.scope === aggregate ||
          (r.scope.startsWith('epic:') && refs.has(r.scope.slice(5))),
      )
      .sort((a, b) => compareNatural(a.scope, b.scope))
      .map(toRollup),
    quarantined,
  };
}
