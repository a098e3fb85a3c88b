// The findings explorer: open findings under the workspace filter, grouped by rule, owner, team
// or project, severity first (a group with one error outranks one with ten infos), plus the
// "who must act" list of owners and the rows themselves. Grouping happens in SQL, so the
// figures hold over the whole portfolio, not a page of it.
import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { findings, itemRollups, openFindingCounts, workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { OPEN_FINDING_COUNT_SCOPE } from '../../http/scope.ts';
import { NO_OWNER, NO_TEAM, rollupCondition, type WorkspaceFilter } from './filter.ts';
import { type RuleText, ruleTitle } from './load.ts';

export const GROUPS = ['rule', 'owner', 'team', 'project'] as const;
export type GroupBy = (typeof GROUPS)[number];
export const SEVERITIES = ['error', 'warning', 'info'] as const;

export interface SeverityCounts {
  error: number;
  warning: number;
  info: number;
  total: number;
}

export interface FindingGroup extends SeverityCounts {
  key: string;
  label: string;
}

export interface ExplorerRow {
  id: number;
  ref: string;
  title: string;
  tracker: string;
  project: string;
  team: string;
  owner: string | null;
  ownerId: string | null;
  rule: string;
  ruleTitle: string;
  severity: string;
  message: string;
  firstSeen: string;
  waivedUntil: string | null;
}

export interface Explorer {
  groupBy: GroupBy;
  severity: string | null;
  headline: SeverityCounts;
  groups: FindingGroup[];
  /** Owners with open findings, severity first; unowned work is its own line ("assign an owner"). */
  mustAct: (FindingGroup & { ownerId: string })[];
  rows: ExplorerRow[];
  /** Rows are capped for the page; the headline and groups always count everything. */
  rowLimit: number;
}

export const ROW_LIMIT = 500;

const severityOrder = (a: SeverityCounts, b: SeverityCounts) =>
  b.error - a.error || b.warning - a.warning || b.info - a.info;

const r = itemRollups;

/**
 * An owner, team or project group's key: the stored owner id or team, or the "none" value the
 * filter knows. Literals, not parameters: Postgres matches GROUP BY to the select list by text,
 * and two parameters ($1, $3) never match.
 */
function keyExpr(g: Exclude<GroupBy, 'rule'>): SQL<string> {
  switch (g) {
    case 'owner':
      return sql<string>`coalesce(${r.ownerId}, ${sql.raw(`'${NO_OWNER}'`)})`;
    case 'team':
      return sql<string>`coalesce(${r.team}, ${sql.raw(`'${NO_TEAM}'`)})`;
    case 'project':
      return sql<string>`${r.connection} || ':' || ${r.project}`;
  }
}

/** Open findings by severity from the item rows' counts (one severity when the filter names it). */
function severitySums(severity: string | undefined) {
  const of = (s: 'error' | 'warning' | 'info', column: SQL | typeof r.openError) =>
    severity && severity !== s ? sql<number>`0` : sql<number>`coalesce(sum(${column}), 0)::int`;
  const error = of('error', sql`${r.openError}`);
  const warning = of('warning', sql`${r.openWarning}`);
  const info = of('info', sql`${r.openInfo}`);
  return { error, warning, info, total: sql<number>`(${error} + ${warning} + ${info})` };
}

const numbers = (x: { error: number; warning: number; info: number; total: number }): SeverityCounts => ({
  error: Number(x.error),
  warning: Number(x.warning),
  info: Number(x.info),
  total: Number(x.total),
});

export async function loadExplorer(
  db: Db,
  config: Config | null,
  filter: WorkspaceFilter,
  opts: { groupBy: GroupBy; severity?: string; rules: Map<string, RuleText>; rowLimit?: number },
): Promise<Explorer> {
  const inView = rollupCondition(config, filter);
  const rowLimit = opts.rowLimit ?? ROW_LIMIT;
  const sums = severitySums(opts.severity);
  // Owner, team and project groups add up the item rows' own counts: no finding is read.
  const grouped = (g: Exclude<GroupBy, 'rule'>) => {
    const k = keyExpr(g);
    return db
      .select({ key: k, name: sql<string | null>`max(${r.ownerName})`, ...sums })
      .from(r)
      .where(inView)
      .groupBy(k)
      .having(sql`${sums.total} > 0`);
  };
  const open = and(
    eq(findings.status, 'open'),
    inView,
    opts.severity ? eq(findings.severity, opts.severity) : undefined,
  );
  // Rule groups sum open_finding_counts (src/rollups/items.ts): no finding is read either.
  const c = openFindingCounts;
  const bySeverity = (s: 'error' | 'warning' | 'info') =>
    opts.severity && opts.severity !== s
      ? sql<number>`0`
      : sql<number>`coalesce(sum(${c.open}) filter (where ${c.severity} = ${sql.raw(`'${s}'`)}), 0)::int`;
  const byRule = () =>
    db
      .select({
        key: c.rule,
        name: sql<string | null>`null`,
        error: bySeverity('error'),
        warning: bySeverity('warning'),
        info: bySeverity('info'),
        total: sql<number>`sum(${c.open})::int`,
      })
      .from(c)
      .where(
        and(
          rollupCondition(config, filter, OPEN_FINDING_COUNT_SCOPE),
          opts.severity ? eq(c.severity, opts.severity) : undefined,
        ),
      )
      .groupBy(c.rule)
      .having(sql`sum(${c.open}) > 0`);
  // A native promise: a drizzle query runs again each time it is awaited.
  const byOwner = Promise.resolve(grouped('owner'));
  const [groupRows, ownerRows, rows] = await Promise.all([
    opts.groupBy === 'rule' ? byRule() : opts.groupBy === 'owner' ? byOwner : Promise.resolve(grouped(opts.groupBy)),
    byOwner,
    // The page's ids in row order first (findings_open_order_idx), then their columns.
    db
      .select({ id: findings.id })
      .from(findings)
      .innerJoin(r, eq(r.ref, findings.ref))
      .where(open)
      .orderBy(...ROW_ORDER)
      .limit(rowLimit)
      .then((ids) =>
        ids.length === 0
          ? []
          : rowsOf(
              db,
              ids.map((i) => i.id),
            ),
      ),
  ]);
  const label = (g: GroupBy, k: string, name: string | null) =>
    g === 'rule'
      ? ruleTitle(opts.rules, k)
      : g === 'owner'
        ? k === NO_OWNER
          ? 'No owner'
          : (name ?? k)
        : g === 'team' && k === NO_TEAM
          ? 'No team or area path'
          : k;
  const groups = groupRows
    .map((g) => ({ key: g.key, label: label(opts.groupBy, g.key, g.name), ...numbers(g) }))
    .sort((a, b) => severityOrder(a, b) || a.label.localeCompare(b.label));
  const headline = groups.reduce(
    (s, g) => ({
      error: s.error + g.error,
      warning: s.warning + g.warning,
      info: s.info + g.info,
      total: s.total + g.total,
    }),
    { error: 0, warning: 0, info: 0, total: 0 },
  );
  return {
    groupBy: opts.groupBy,
    severity: opts.severity ?? null,
    headline,
    groups,
    mustAct: ownerRows
      .map((o) => ({ key: o.key, ownerId: o.key, label: label('owner', o.key, o.name), ...numbers(o) }))
      .sort((a, b) => severityOrder(a, b) || a.label.localeCompare(b.label)),
    rows: rows.map((row) => toExplorerRow(row, opts.rules)),
    rowLimit,
  };
}

/** Severity first, then rule and ref: the rows' order (and what the row cap keeps). */
const ROW_ORDER = [
  sql`case ${findings.severity} when 'error' then 0 when 'warning' then 1 else 2 end`,
  asc(findings.rule),
  asc(findings.ref),
];

/** A finding row with its item and the item's team and owner by the shared definitions. */
const ROW = {
  f: {
    id: findings.id,
    ref: findings.ref,
    rule: findings.rule,
    severity: findings.severity,
    message: findings.message,
    firstSeen: findings.firstSeen,
    waivedUntil: findings.waivedUntil,
  },
  // The columns a row shows: not `raw`, `fields` or `links`, which dwarf them.
  w: {
    title: workItems.title,
    tracker: workItems.tracker,
    connection: workItems.connection,
    project: workItems.project,
  },
  team: sql<string>`coalesce(${r.team}, ${sql.raw(`'${NO_TEAM}'`)})`,
  ownerId: r.ownerId,
  ownerName: r.ownerName,
};

/** The rows of the given findings, in row order. */
function rowsOf(db: Db, ids: number[]) {
  return db
    .select(ROW)
    .from(findings)
    .innerJoin(workItems, eq(workItems.ref, findings.ref))
    .innerJoin(r, eq(r.ref, findings.ref))
    .where(inArray(findings.id, ids))
    .orderBy(...ROW_ORDER);
}

function toExplorerRow(
  row: {
    f: Pick<typeof findings.$inferSelect, 'id' | 'ref' | 'rule' | 'severity' | 'message' | 'firstSeen' | 'waivedUntil'>;
    w: Pick<typeof workItems.$inferSelect, 'title' | 'tracker' | 'connection' | 'project'>;
    team: string;
    ownerId: string | null;
    ownerName: string | null;
  },
  rules: Map<string, RuleText>,
): ExplorerRow {
  const { f, w } = row;
  return {
    id: f.id,
    ref: f.ref,
    title: w.title,
    tracker: w.tracker,
    project: `${w.connection}:${w.project}`,
    team: row.team === NO_TEAM ? '' : row.team,
    owner: row.ownerName,
    ownerId: row.ownerId,
    rule: f.rule,
    ruleTitle: ruleTitle(rules, f.rule),
    severity: f.severity,
    message: f.message,
    firstSeen: new Date(f.firstSeen).toISOString(),
    waivedUntil: f.waivedUntil,
  };
}

export const EXPLORER_COLUMNS = [
  'severity',
  'rule',
  'ruleTitle',
  'ref',
  'title',
  'owner',
  'team',
  'project',
  'tracker',
  'message',
  'firstSeen',
  'waivedUntil',
] as const;

export const explorerCsvRow = (r: ExplorerRow) => EXPLORER_COLUMNS.map((k) => r[k]);

/** Every matching open finding, page by page, for the CSV export (never capped). */
export async function* explorerPages(
  db: Db,
  config: Config | null,
  filter: WorkspaceFilter,
  opts: { severity?: string; rules: Map<string, RuleText> },
): AsyncGenerator<unknown[][]> {
  let after = 0;
  for (;;) {
    const page = await db
      .select(ROW)
      .from(findings)
      .innerJoin(workItems, eq(workItems.ref, findings.ref))
      .innerJoin(r, eq(r.ref, findings.ref))
      .where(
        and(
          eq(findings.status, 'open'),
          rollupCondition(config, filter),
          opts.severity ? eq(findings.severity, opts.severity) : undefined,
          sql`${findings.id} > ${after}`,
        ),
      )
      .orderBy(asc(findings.id))
      .limit(1000);
    if (page.length === 0) return;
    after = page[page.length - 1]!.f.id;
    yield page.map((r) => explorerCsvRow(toExplorerRow(r, opts.rules)));
    if (page.length < 1000) return;
  }
}
