// The findings explorer: open findings under the workspace filter, grouped by rule, owner, team
// or project, severity first (a group with one error outranks one with ten infos), plus the
// "who must act" list of owners and the rows themselves. Grouping happens in SQL, so the
// figures hold over the whole portfolio, not a page of it.
import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { findings, workItems } from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import {
  filterCondition,
  NO_OWNER,
  NO_TEAM,
  ownerIdExpr,
  ownerKeyExpr,
  ownerNameExpr,
  teamExpr,
  type WorkspaceFilter,
} from './filter.ts';
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

function keyExpr(g: GroupBy): SQL<string> {
  switch (g) {
    case 'rule':
      return sql<string>`${findings.rule}`;
    case 'owner':
      return ownerKeyExpr;
    case 'team':
      return teamExpr;
    case 'project':
      return sql<string>`${workItems.connection} || ':' || ${workItems.project}`;
  }
}

const counts = {
  error: sql<number>`count(*) filter (where ${findings.severity} = 'error')::int`,
  warning: sql<number>`count(*) filter (where ${findings.severity} = 'warning')::int`,
  info: sql<number>`count(*) filter (where ${findings.severity} = 'info')::int`,
  total: sql<number>`count(*)::int`,
};

const numbers = (r: { error: number; warning: number; info: number; total: number }): SeverityCounts => ({
  error: Number(r.error),
  warning: Number(r.warning),
  info: Number(r.info),
  total: Number(r.total),
});

export async function loadExplorer(
  db: Db,
  config: Config | null,
  filter: WorkspaceFilter,
  opts: { groupBy: GroupBy; severity?: string; rules: Map<string, RuleText>; rowLimit?: number },
): Promise<Explorer> {
  const where = and(
    eq(findings.status, 'open'),
    filterCondition(config, filter),
    opts.severity ? eq(findings.severity, opts.severity) : undefined,
  );
  const base = () => db.select(ROW).from(findings).innerJoin(workItems, eq(workItems.ref, findings.ref));
  const ownerName = sql<string | null>`max(${ownerNameExpr})`;
  const rowLimit = opts.rowLimit ?? ROW_LIMIT;
  const grouped = (k: SQL<string>) =>
    db
      .select({ key: k, name: ownerName, ...counts })
      .from(findings)
      .innerJoin(workItems, eq(workItems.ref, findings.ref))
      .where(where)
      .groupBy(k);
  // Grouped by owner, the groups are the "who must act" list: one pass, not two.
  // A native promise: a drizzle query runs again each time it is awaited.
  const byOwner = Promise.resolve(grouped(keyExpr('owner')));
  const [groupRows, ownerRows, rows] = await Promise.all([
    opts.groupBy === 'owner' ? byOwner : grouped(keyExpr(opts.groupBy)),
    byOwner,
    // The page's ids first, then their columns: the team and owner expressions (which read the
    // tracker's JSON) are worked out for the rows shown, not for every open finding sorted.
    base()
      .where(
        inArray(
          findings.id,
          db
            .select({ id: findings.id })
            .from(findings)
            .innerJoin(workItems, eq(workItems.ref, findings.ref))
            .where(where)
            .orderBy(...ROW_ORDER)
            .limit(rowLimit),
        ),
      )
      .orderBy(...ROW_ORDER),
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
    .map((r) => ({ key: r.key, label: label(opts.groupBy, r.key, r.name), ...numbers(r) }))
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
      .map((r) => ({ key: r.key, ownerId: r.key, label: label('owner', r.key, r.name), ...numbers(r) }))
      .sort((a, b) => severityOrder(a, b) || a.label.localeCompare(b.label)),
    rows: rows.map((r) => toExplorerRow(r, opts.rules)),
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
  team: teamExpr,
  ownerId: ownerIdExpr,
  ownerName: ownerNameExpr,
};

function toExplorerRow(
  r: {
    f: Pick<typeof findings.$inferSelect, 'id' | 'ref' | 'rule' | 'severity' | 'message' | 'firstSeen' | 'waivedUntil'>;
    w: Pick<typeof workItems.$inferSelect, 'title' | 'tracker' | 'connection' | 'project'>;
    team: string;
    ownerId: string | null;
    ownerName: string | null;
  },
  rules: Map<string, RuleText>,
): ExplorerRow {
  const { f, w } = r;
  return {
    id: f.id,
    ref: f.ref,
    title: w.title,
    tracker: w.tracker,
    project: `${w.connection}:${w.project}`,
    team: r.team === NO_TEAM ? '' : r.team,
    owner: r.ownerName,
    ownerId: r.ownerId,
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
      .where(
        and(
          eq(findings.status, 'open'),
          filterCondition(config, filter),
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
