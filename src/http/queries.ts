// Read queries behind the API and the dashboard: items and findings with filters and keyset
// pagination, headline figures and epic tables for a scope filter, data freshness, snapshots.
import { and, asc, desc, eq, gt, gte, inArray, isNull, like, lte, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { inList, queryRows } from '../../db/query.ts';
import {
  findings,
  itemRollups,
  openFindingCounts,
  rollupSnapshots,
  rollups,
  syncRuns,
  workItems,
} from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import { type ReportFinding, type ReportItem, type ReportRollup, toReportItem, toRollup } from '../report/rows.ts';
import { describeHookHealth, type HookHealthState, loadHookHealth } from '../server/hook-health.ts';
import { EPIC_PAGE_SIZE, epicScope, loadEpicKeys, pageOf } from '../workspace/epics.ts';
import { compareEpicRows, isOverdue } from '../workspace/metrics.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { FindingsQuery, ItemsQuery } from './schemas.ts';
import { OPEN_FINDING_COUNT_SCOPE, type ScopeFilter, scopeCondition } from './scope.ts';

export const DEFAULT_LIMIT = 100;
/** CSV exports read in pages of this size so one export never holds a huge result set twice. */
const EXPORT_PAGE = 1000;

const live = isNull(workItems.deletedAt);
const openFindingExists = sql`exists (select 1 from ${findings} f where f.ref = ${workItems.ref} and f.status = 'open')`;

export function toFinding(f: typeof findings.$inferSelect): ReportFinding {
  return {
    ref: f.ref,
    rule: f.rule,
    severity: f.severity,
    status: f.status,
    message: f.message,
    firstSeen: new Date(f.firstSeen).toISOString(),
    lastSeen: new Date(f.lastSeen).toISOString(),
    resolvedAt: f.resolvedAt === null ? null : new Date(f.resolvedAt).toISOString(),
    waivedReason: f.waivedReason,
    waivedUntil: f.waivedUntil,
  };
}

function itemsWhere(config: Config | null, q: ItemsQuery): SQL | undefined {
  const lowered = q.q?.toLowerCase();
  return and(
    live,
    scopeCondition(config, q),
    q.kind ? eq(workItems.kind, q.kind) : undefined,
    q.statusCategory ? eq(workItems.statusCategory, q.statusCategory) : undefined,
    q.hasFindings === 'true' ? openFindingExists : undefined,
    q.hasFindings === 'false' ? sql`not ${openFindingExists}` : undefined,
    // position() rather than LIKE: the caller's text needs no escaping of % and _.
    lowered
      ? sql`(position(${lowered} in lower(${workItems.title})) > 0 or position(${lowered} in lower(${workItems.ref})) > 0)`
      : undefined,
  );
}

export async function listItems(
  db: Db,
  config: Config | null,
  q: ItemsQuery,
): Promise<{ items: ReportItem[]; nextCursor: string | null }> {
  const limit = q.limit ?? DEFAULT_LIMIT;
  const after = decodeCursor(q.cursor, 'string');
  const rows = await db
    .select()
    .from(workItems)
    .where(and(itemsWhere(config, q), after === undefined ? undefined : gt(workItems.ref, after)))
    .orderBy(asc(workItems.ref))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    items: page.map(toReportItem),
    nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.ref) : null,
  };
}

/** Every matching item, in ref order, for exports. */
export async function* allItems(db: Db, config: Config | null, q: ItemsQuery): AsyncGenerator<ReportItem[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await listItems(db, config, { ...q, limit: EXPORT_PAGE, cursor });
    yield page.items;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

function findingsWhere(config: Config | null, q: FindingsQuery): SQL | undefined {
  // Every workspace filter narrows findings to those of its items (program, tracker, project,
  // team, owner), as it narrows the headline's open findings.
  const scope = scopeCondition(config, {
    program: q.program,
    tracker: q.tracker,
    connection: q.connection,
    project: q.project,
    team: q.team,
    owner: q.owner,
  });
  return and(
    q.rule ? eq(findings.rule, q.rule) : undefined,
    q.severity ? eq(findings.severity, q.severity) : undefined,
    q.status ? eq(findings.status, q.status) : undefined,
    q.ref ? eq(findings.ref, q.ref) : undefined,
    scope ? inArray(findings.ref, liveRefsWhere(scope)) : undefined,
  );
}

// A subquery of live item refs matching a scope condition.
const liveRefsWhere = (scope: SQL) => sql`(select ${workItems.ref} from ${workItems} where ${and(live, scope)})`;

export async function listFindings(
  db: Db,
  config: Config | null,
  q: FindingsQuery,
): Promise<{ findings: ReportFinding[]; nextCursor: string | null }> {
  const limit = q.limit ?? DEFAULT_LIMIT;
  const after = decodeCursor(q.cursor, 'number');
  const rows = await db
    .select()
    .from(findings)
    .where(and(findingsWhere(config, q), after === undefined ? undefined : gt(findings.id, after)))
    .orderBy(asc(findings.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    findings: page.map(toFinding),
    nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null,
  };
}

export async function* allFindings(db: Db, config: Config | null, q: FindingsQuery): AsyncGenerator<ReportFinding[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await listFindings(db, config, { ...q, limit: EXPORT_PAGE, cursor });
    yield page.findings;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

export async function getItem(db: Db, ref: string) {
  const [row] = await db.select().from(workItems).where(eq(workItems.ref, ref));
  if (!row) return null;
  const itemFindings = await db.select().from(findings).where(eq(findings.ref, ref)).orderBy(asc(findings.rule));
  const [rollup] = await db
    .select()
    .from(rollups)
    .where(eq(rollups.scope, `epic:${ref}`));
  return { item: toReportItem(row), findings: itemFindings.map(toFinding), rollup: rollup ? toRollup(rollup) : null };
}

export async function rollupsByPrefix(db: Db, prefix: string): Promise<ReportRollup[]> {
  const rows = await db
    .select()
    .from(rollups)
    .where(like(rollups.scope, `${prefix.replace(/[\\%_]/g, '\\$&')}%`))
    .orderBy(asc(rollups.scope));
  return rows.map(toRollup);
}

export async function rollupFor(db: Db, scope: string): Promise<ReportRollup | null> {
  const [row] = await db.select().from(rollups).where(eq(rollups.scope, scope));
  return row ? toRollup(row) : null;
}

export { type Headline, loadHeadline } from '../workspace/headline.ts';

export interface EpicRow {
  ref: string;
  title: string;
  tracker: string;
  connection: string;
  project: string;
  status: string;
  statusCategory: string;
  /** The epic's own due date: its target date (metrics.ts). Same as `targetDate`. */
  due: string | null;
  targetDate: string | null;
  /** Latest due date of its children (metrics.ts), from its rollup. */
  plannedFinish: string | null;
  /** Open and past its target date (metrics.ts isOverdue). */
  overdue: boolean;
  /** The health rule that set its colour, from its rollup. */
  healthRule: string | null;
  url: string;
  openFindings: number;
  rollup: ReportRollup | null;
}

export interface EpicRowsPage {
  epics: EpicRow[];
  /** The whole list (every epic the headline counts) and where this page sits in it. */
  page: { first: number; last: number; total: number; size: number; next: string | null };
}

/**
 * Epics in a scope — items of kind `epic` in both trackers (Azure DevOps Features are not
 * epics), not removed — red first, then amber, green; by natural ref within a colour; a page
 * at a time after the `next` cursor of the page before.
 */
export async function loadEpicsPage(
  db: Db,
  config: Config | null,
  f: ScopeFilter,
  page: { after?: string; limit?: number },
  now: Date,
): Promise<EpicRowsPage> {
  const ordered = await loadEpicKeys(db, epicScope(config, f));
  const { keys, first, last, next } = pageOf(ordered, page);
  const rows =
    keys.length === 0
      ? []
      : await db
          .select({
            ref: workItems.ref,
            title: workItems.title,
            tracker: workItems.tracker,
            connection: workItems.connection,
            project: workItems.project,
            status: workItems.status,
            statusCategory: workItems.statusCategory,
            due: workItems.due,
            url: workItems.url,
            open: sql<number | null>`${itemRollups.openError} + ${itemRollups.openWarning} + ${itemRollups.openInfo}`,
            rollup: rollups,
          })
          .from(workItems)
          .leftJoin(rollups, eq(rollups.scope, sql`'epic:' || ${workItems.ref}`))
          .leftJoin(itemRollups, eq(itemRollups.ref, workItems.ref))
          .where(
            inList(
              workItems.ref,
              keys.map((k) => k.ref),
            ),
          );
  const epics = rows
    .map(({ rollup, open, ...item }): EpicRow => {
      const due = item.due === null ? null : new Date(item.due).toISOString();
      const metrics = rollup?.metrics as { plannedFinish?: unknown; healthRule?: unknown } | undefined;
      return {
        ref: item.ref,
        title: item.title,
        tracker: item.tracker,
        connection: item.connection,
        project: item.project,
        status: item.status,
        statusCategory: item.statusCategory,
        due,
        targetDate: due,
        plannedFinish: typeof metrics?.plannedFinish === 'string' ? metrics.plannedFinish : null,
        overdue: isOverdue(item.statusCategory, due, now),
        healthRule: typeof metrics?.healthRule === 'string' ? metrics.healthRule : null,
        url: item.url,
        // The epic's own open findings; its children's are on their own rows and items.
        openFindings: Number(open ?? 0),
        rollup: rollup ? toRollup(rollup) : null,
      };
    })
    .sort((a, b) =>
      compareEpicRows({ ref: a.ref, health: a.rollup?.health }, { ref: b.ref, health: b.rollup?.health }),
    );
  return { epics, page: { first, last, total: ordered.length, size: page.limit ?? EPIC_PAGE_SIZE, next } };
}

/** The first `max` epic rows of a scope (loadEpicsPage's order). */
export async function loadEpics(
  db: Db,
  config: Config | null,
  f: ScopeFilter,
  max: number,
  now: Date,
): Promise<EpicRow[]> {
  return (await loadEpicsPage(db, config, f, { limit: max }, now)).epics;
}

export interface RuleCount {
  rule: string;
  severity: string;
  open: number;
}

/**
 * Runs joins over whole tables with nested loops off. Without fresh statistics (PGlite never
 * analyzes on its own; a just-loaded Postgres has not yet) the planner expects one row from a
 * scope filter and probes one table once per row of the other: seconds where hash joins take
 * milliseconds. The setting is local to this read-only transaction.
 */
export function withHashJoins<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    await tx.execute(sql`set local enable_nestloop = off`);
    return fn(tx);
  });
}

/** The rules with the most open findings of live items in scope (open_finding_counts' sums). */
export async function topRules(db: Db, config: Config | null, f: ScopeFilter, max = 10): Promise<RuleCount[]> {
  const c = openFindingCounts;
  const open = sql<number>`sum(${c.open})::int`;
  const rows = await db
    .select({ rule: c.rule, severity: sql<string>`max(${c.severity})`, open })
    .from(c)
    .where(scopeCondition(config, f, OPEN_FINDING_COUNT_SCOPE))
    .groupBy(c.rule)
    .having(sql`${open} > 0`)
    .orderBy(desc(open), asc(c.rule))
    .limit(max);
  return rows.map((r) => ({ rule: r.rule, severity: r.severity, open: Number(r.open) }));
}

export interface Freshness {
  connection: string;
  lastSuccessAt: string | null;
  ageSeconds: number | null;
  lastStatus: string | null;
  /** Service hooks on probation or disabled ("2 service hooks on probation"); absent while healthy. */
  hooks?: string;
}

/**
 * When each connection last synced successfully. A run over several connections records each
 * one's outcome in its summary, so both the run's own connection and the summary count.
 */
/** The freshness card's hook line: only when some subscription is off (a failed check is logged, not shown). */
function hookLine(state: HookHealthState | undefined): { hooks?: string } {
  if (!state || state.unhealthy === 0) return {};
  const line = describeHookHealth(state);
  return line ? { hooks: line } : {};
}

export async function loadFreshness(db: Db, config: Config | null, now: Date): Promise<Freshness[]> {
  const rows = await queryRows<{ connection: string; last_ok: string | null; last_status: string | null }>(
    db,
    sql`
    with outcomes as (
      select coalesce(c->>'id', r.connection) as connection, r.finished_at,
             coalesce(c->>'status', r.status) as status
      from ${syncRuns} r
      left join lateral jsonb_array_elements(
        case when jsonb_typeof(r.summary->'connections') = 'array' then r.summary->'connections' else '[]'::jsonb end
      ) c on true
      where r.finished_at is not null
    )
    select connection,
      max(finished_at) filter (where status = 'ok') as last_ok,
      (array_agg(status order by finished_at desc))[1] as last_status
    from outcomes where connection is not null group by connection order by connection`,
  );
  const byId = new Map(rows.map((r) => [r.connection, r]));
  const hooks = await loadHookHealth(db);
  const ids = new Set([...(config?.connections.map((c) => c.id) ?? []), ...byId.keys()]);
  return [...ids].map((connection) => {
    const r = byId.get(connection);
    const last = r?.last_ok ? new Date(r.last_ok).toISOString() : null;
    return {
      connection,
      lastSuccessAt: last,
      ageSeconds: last ? Math.max(0, Math.round((now.getTime() - Date.parse(last)) / 1000)) : null,
      lastStatus: r?.last_status ?? null,
      ...hookLine(hooks.get(connection)),
    };
  });
}

export interface SnapshotRow {
  day: string;
  percentComplete: number | null;
  health: string;
  compliance: number | null;
  metrics: Record<string, unknown>;
}

export async function loadHistory(
  db: Db,
  scope: string,
  range: { from?: string; to?: string } = {},
): Promise<SnapshotRow[]> {
  const rows = await db
    .select()
    .from(rollupSnapshots)
    .where(
      and(
        eq(rollupSnapshots.scope, scope),
        range.from ? gte(rollupSnapshots.day, range.from) : undefined,
        range.to ? lte(rollupSnapshots.day, range.to) : undefined,
      ),
    )
    .orderBy(asc(rollupSnapshots.day));
  return rows.map((r) => ({
    day: String(r.day).slice(0, 10),
    percentComplete: r.percentComplete,
    health: r.health,
    compliance: typeof r.metrics.compliance === 'number' ? r.metrics.compliance : null,
    metrics: r.metrics,
  }));
}
