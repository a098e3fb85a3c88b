// What the drill-down views show, read once for both the HTML page and its JSON twin under
// /api/v1/workspace, so a page and its API call always report the same rows. Every headline is
// counted from the rows it sits above (issue 25.1: a headline equals the rows it summarizes).
import { and, asc, desc, eq, inArray, like, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../../db/client.ts';
import { inList, queryRows } from '../../../db/query.ts';
import {
  appliedState,
  findingHistory,
  findings,
  itemLinks,
  itemRollups,
  rollupSnapshots,
  rollups,
  workItems,
  writeAudit,
  writeOutbox,
} from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { itemRollupScope, type ProgramInfo, programsOf } from '../../http/scope.ts';
import { type ReportFinding, type ReportRollup, toReportItem, toRollup } from '../../report/load.ts';
import { EPIC_PAGE_SIZE, type Health, loadEpicKeys, pageOf } from '../../workspace/epics.ts';
import { compareEpicRows } from '../../workspace/metrics.ts';
import { rollupCondition, type WorkspaceFilter } from './filter.ts';

export type { Health };
export const HEALTHS: Health[] = ['red', 'amber', 'green', 'none'];

export interface RuleText {
  id: string;
  title: string;
  severity: string;
  rationale: string | null;
  message: string | null;
}

/** The rules dependency's list (GET /api/v1/rules) by id; unknown shapes are skipped. */
export function ruleCatalog(list: readonly unknown[]): Map<string, RuleText> {
  const out = new Map<string, RuleText>();
  for (const r of list) {
    if (!r || typeof r !== 'object') continue;
    const o = r as Record<string, unknown>;
    if (typeof o.id !== 'string') continue;
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    out.set(o.id, {
      id: o.id,
      title: text(o.title) ?? o.id,
      severity: text(o.severity) ?? 'warning',
      rationale: text(o.rationale),
      message: text(o.message),
    });
  }
  return out;
}

export const ruleTitle = (rules: Map<string, RuleText>, id: string) => rules.get(id)?.title ?? id;

export interface Person {
  id: string;
  name: string;
}

export interface EpicSummary {
  ref: string;
  title: string;
  tracker: string;
  connection: string;
  project: string;
  kind: string;
  status: string;
  statusCategory: string;
  owner: Person | null;
  start: string | null;
  due: string | null;
  url: string;
  health: Health;
  healthReason: string | null;
  percentComplete: number | null;
  /** Open findings on the epic and everything under it. */
  openFindings: number;
}

export interface DependencyRow {
  source: string;
  sourceTitle: string;
  sourceTracker: string;
  target: string;
  targetTitle: string | null;
  targetTracker: string | null;
  /** The link as stored: `blocks`, `blocked_by`, `depends_on` or `cross_tracker` (with `relation`). */
  type: string;
  relation: string | null;
  /** `out`: ours points outside the view; `in`: outside points at ours; `within`: both ours. */
  direction: 'in' | 'out' | 'within';
  crossTracker: boolean;
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const healthOf = (h: string | null | undefined): Health => (h === 'green' || h === 'amber' || h === 'red' ? h : 'none');
const DEPENDENCY_TYPES = ['blocks', 'blocked_by', 'depends_on', 'cross_tracker'];

/** Refs of an item's descendants (not the item), any depth; cycles in bad data end the walk. */
function descendantsSql(root: string) {
  return sql`with recursive tree(ref, depth, path) as (
      select w.ref, 1, array[w.ref] from ${workItems} w where w.parent = ${root} and w.deleted_at is null
      union all
      select w.ref, t.depth + 1, t.path || w.ref from ${workItems} w join tree t on w.parent = t.ref
      where w.deleted_at is null and not w.ref = any(t.path) and t.depth < 20
    ) select ref, depth, path from tree`;
}

/**
 * Open findings per epic: each open finding on an item in view counts for its nearest epic at
 * or above it (item_rollups.epic, src/rollups/items.ts), summed over the items in view.
 */
async function openFindingsUnder(db: Db, inView: SQL | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const r = itemRollups;
  const rows = await db
    .select({ epic: r.epic, n: sql<number>`sum(${r.openError} + ${r.openWarning} + ${r.openInfo})::int` })
    .from(r)
    .where(and(inView, sql`${r.epic} is not null`, sql`${r.openError} + ${r.openWarning} + ${r.openInfo} > 0`))
    .groupBy(r.epic);
  for (const row of rows) if (row.epic) out.set(row.epic, Number(row.n));
  return out;
}

/** The columns an epic row shows: not `raw`, `fields` or `links`, which dwarf them. */
const SUMMARY_COLUMNS = {
  ref: workItems.ref,
  title: workItems.title,
  tracker: workItems.tracker,
  connection: workItems.connection,
  project: workItems.project,
  kind: workItems.kind,
  status: workItems.status,
  statusCategory: workItems.statusCategory,
  owner: workItems.owner,
  start: workItems.start,
  due: workItems.due,
  url: workItems.url,
  health: rollups.health,
  healthReason: rollups.healthReason,
  percentComplete: rollups.percentComplete,
};
type Item = typeof workItems.$inferSelect;
type SummaryRow = Pick<
  Item,
  'ref' | 'title' | 'tracker' | 'connection' | 'project' | 'kind' | 'status' | 'statusCategory' | 'owner' | 'url'
> & {
  start: unknown;
  due: unknown;
  health: string | null;
  healthReason: string | null;
  percentComplete: number | null;
};

function toSummary(r: SummaryRow, open: number): EpicSummary {
  return {
    ref: r.ref,
    title: r.title,
    tracker: r.tracker,
    connection: r.connection,
    project: r.project,
    kind: r.kind,
    status: r.status,
    statusCategory: r.statusCategory,
    owner: r.owner ? { id: r.owner.id, name: r.owner.name } : null,
    start: iso(r.start),
    due: iso(r.due),
    url: r.url,
    health: healthOf(r.health),
    healthReason: r.healthReason ?? null,
    percentComplete: r.percentComplete ?? null,
    openFindings: open,
  };
}

/**
 * Natural key order: `PAY-2` before `PAY-10`, `ado:9` before `ado:10`. One collator for every
 * comparison: `localeCompare` with options builds one per call, and sorting thousands of rows
 * spent most of its time doing that.
 */
export const naturalRef = new Intl.Collator('en', { numeric: true }).compare;
export interface EpicPage {
  epics: EpicSummary[];
  /** Every epic of the filter, by health; the sum of `openFindings` over all of them. */
  total: number;
  health: Record<Health, number>;
  openFindings: number;
  /** 1-based positions of the page's first and last rows in the whole list (0 when empty). */
  first: number;
  last: number;
  /** The cursor of the next page, or null on the last one. */
  next: string | null;
}

/**
 * A page of the epics of a filter (an item_rollups condition), in health-then-natural-ref
 * order, and the headline over all of them. Only refs and colours of the whole list are read;
 * the shown columns are read for the page alone.
 */
export async function loadEpicPage(
  db: Db,
  where: SQL | undefined,
  page: { after?: string; limit?: number } = {},
  kinds = ['epic'],
): Promise<EpicPage> {
  const [ordered, open] = await Promise.all([loadEpicKeys(db, where, kinds), openFindingsUnder(db, where)]);
  const { keys, first, last, next } = pageOf(ordered, page);
  const rows =
    keys.length === 0
      ? []
      : await db
          .select(SUMMARY_COLUMNS)
          .from(workItems)
          .leftJoin(rollups, eq(rollups.scope, sql`'epic:' || ${workItems.ref}`))
          .where(
            inList(
              workItems.ref,
              keys.map((e) => e.ref),
            ),
          );
  const epics = rows.map((r) => toSummary(r, open.get(r.ref) ?? 0)).sort(compareEpicRows);
  let openFindings = 0;
  for (const e of ordered) openFindings += open.get(e.ref) ?? 0;
  return { epics, total: ordered.length, health: countHealth(ordered), openFindings, first, last, next };
}

/** Dependency rows per page; the headline counts every one. */
export const DEPENDENCY_PAGE_SIZE = 100;

export interface DependencyPage {
  rows: DependencyRow[];
  /** Every row of the view by direction: what the headline counts. */
  total: number;
  in: number;
  out: number;
  within: number;
  first: number;
  last: number;
  size: number;
  /** Pass as the next request's `dependenciesAfter`; null on the last page. */
  next: string | null;
}

type LinkKey = { source: string; target: string; type: string };
const linkOrder = (a: LinkKey, b: LinkKey) =>
  naturalRef(a.source, b.source) || naturalRef(a.target, b.target) || a.type.localeCompare(b.type);

/** `["<source>","<target>","<type>"]` of the last row shown: the next page starts after it. */
const dependencyCursor = (l: LinkKey) => JSON.stringify([l.source, l.target, l.type]);

function parseDependencyCursor(after: string | undefined): LinkKey | null {
  if (!after) return null;
  try {
    const v: unknown = JSON.parse(after);
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'string'))
      return { source: v[0], target: v[1], type: v[2] };
  } catch {
    // Not a cursor this view issued: the first page.
  }
  return null;
}

/**
 * Dependency links with at least one end in view (`inView` of an alias of item_rollups), a page
 * at a time in natural order of source, target and type, and the count of every row by
 * direction. Links are few next to items: each is tested from its own ends (index lookups on
 * item_rollups), and titles are read for the page's rows alone. A link whose source is no item
 * at all (never synced) is no row.
 */
export async function loadDependencies(
  db: Db,
  inView: (t: typeof itemRollups) => SQL | undefined,
  page: { after?: string; limit?: number } = {},
): Promise<DependencyPage> {
  // Each end apart: joined to one link end at a time, the few links are hashed and the items
  // scanned once, where both ends in one statement hashed every item twice.
  const end = (side: 'source' | 'target') => {
    const r = alias(itemRollups, 'r');
    return db
      .select({
        source: itemLinks.source,
        target: itemLinks.target,
        type: itemLinks.type,
        relation: itemLinks.relation,
        in: sql<boolean>`coalesce(${inView(r as unknown as typeof itemRollups) ?? sql`true`}, false)`,
      })
      .from(itemLinks)
      .innerJoin(r, eq(r.ref, itemLinks[side]))
      .where(inArray(itemLinks.type, DEPENDENCY_TYPES));
  };
  const [bySource, byTarget] = await Promise.all([end('source'), end('target')]);
  const key = (l: LinkKey) => `${l.source}\n${l.target}\n${l.type}`;
  const sourceIn = new Map(bySource.map((l) => [key(l), l.in]));
  const targetIn = new Map(byTarget.map((l) => [key(l), l.in]));
  const candidates = new Map<string, (typeof bySource)[number]>();
  for (const l of [...bySource, ...byTarget]) if (l.in) candidates.set(key(l), l);
  // A link into the view from an item that is not live counts when that item was ever stored.
  const unknownSources = [
    ...new Set([...candidates.values()].filter((l) => !sourceIn.has(key(l))).map((l) => l.source)),
  ];
  const stored = new Set(
    unknownSources.length === 0
      ? []
      : (await db.select({ ref: workItems.ref }).from(workItems).where(inList(workItems.ref, unknownSources))).map(
          (r) => r.ref,
        ),
  );
  const links = [...candidates.values()]
    .filter((l) => sourceIn.has(key(l)) || stored.has(l.source))
    .map((l) => ({ ...l, sIn: sourceIn.get(key(l)) ?? false, tIn: targetIn.get(key(l)) ?? false }));
  links.sort(linkOrder);
  const direction = (l: { sIn: boolean; tIn: boolean }): DependencyRow['direction'] =>
    l.sIn && l.tIn ? 'within' : l.sIn ? 'out' : 'in';
  const counts = { in: 0, out: 0, within: 0 };
  for (const l of links) counts[direction(l)]++;
  const cursor = parseDependencyCursor(page.after);
  const from = cursor ? links.findIndex((l) => linkOrder(l, cursor) > 0) : 0;
  const start = from < 0 ? links.length : from;
  const size = page.limit ?? DEPENDENCY_PAGE_SIZE;
  const shown = links.slice(start, start + size);
  const ends = [...new Set(shown.flatMap((l) => [l.source, l.target]))];
  const about = new Map(
    (ends.length === 0
      ? []
      : await db
          .select({ ref: workItems.ref, title: workItems.title, tracker: workItems.tracker })
          .from(workItems)
          .where(inList(workItems.ref, ends))
    ).map((r) => [r.ref, r]),
  );
  const rows = shown.map((l): DependencyRow => {
    const src = about.get(l.source);
    const tgt = about.get(l.target) ?? null;
    return {
      source: l.source,
      sourceTitle: src?.title ?? l.source,
      sourceTracker: src?.tracker ?? '',
      target: l.target,
      targetTitle: tgt?.title ?? null,
      targetTracker: tgt?.tracker ?? null,
      type: l.type,
      relation: l.relation,
      direction: direction(l),
      crossTracker: l.type === 'cross_tracker' || (tgt !== null && src !== undefined && tgt.tracker !== src.tracker),
    };
  });
  const lastShown = shown.at(-1);
  return {
    rows,
    total: links.length,
    ...counts,
    first: rows.length ? start + 1 : 0,
    last: start + rows.length,
    size,
    next: lastShown && start + size < links.length ? dependencyCursor(lastShown) : null,
  };
}

export function countHealth(rows: readonly { health: Health }[]): Record<Health, number> {
  const out: Record<Health, number> = { red: 0, amber: 0, green: 0, none: 0 };
  for (const r of rows) out[r.health]++;
  return out;
}

// ── Program ──────────────────────────────────────────────────────────────────────────────

export interface ProgramView {
  program: ProgramInfo;
  rollup: ReportRollup | null;
  headline: {
    epics: number;
    health: Record<Health, number>;
    openFindings: number;
    dependenciesIn: number;
    dependenciesOut: number;
  };
  /** One page of the epics, in health-then-natural-ref order; `page` says which and what is next. */
  epics: EpicSummary[];
  page: { first: number; last: number; total: number; size: number; next: string | null };
  /** One page of the dependency rows (natural order of source, target, type); the headline counts all. */
  dependencies: DependencyRow[];
  dependencyPage: {
    first: number;
    last: number;
    total: number;
    /** Rows with both ends in view (neither in nor out). */
    within: number;
    size: number;
    next: string | null;
  };
}

export async function loadProgram(
  db: Db,
  config: Config | null,
  id: string,
  filter: WorkspaceFilter,
  page: { after?: string; limit?: number; dependenciesAfter?: string } = {},
): Promise<ProgramView | null> {
  // Without a config the programs are those the rollups name.
  const scopes = config
    ? []
    : (await db.select({ scope: rollups.scope }).from(rollups).where(like(rollups.scope, 'program:%'))).map(
        (r) => r.scope,
      );
  const program = programsOf(config, scopes).find((p) => p.id === id);
  if (!program) return null;
  const inView = (t: typeof itemRollups) => rollupCondition(config, { ...filter, program: id }, itemRollupScope(t));
  const [epics, dependencies, [rollup]] = await Promise.all([
    loadEpicPage(db, inView(itemRollups), page),
    loadDependencies(db, inView, { after: page.dependenciesAfter }),
    db
      .select()
      .from(rollups)
      .where(eq(rollups.scope, `program:${id}`)),
  ]);
  return {
    program,
    rollup: rollup ? toRollup(rollup) : null,
    headline: {
      epics: epics.total,
      health: epics.health,
      openFindings: epics.openFindings,
      dependenciesIn: dependencies.in,
      dependenciesOut: dependencies.out,
    },
    epics: epics.epics,
    page: {
      first: epics.first,
      last: epics.last,
      total: epics.total,
      size: page.limit ?? EPIC_PAGE_SIZE,
      next: epics.next,
    },
    dependencies: dependencies.rows,
    dependencyPage: {
      first: dependencies.first,
      last: dependencies.last,
      total: dependencies.total,
      within: dependencies.within,
      size: dependencies.size,
      next: dependencies.next,
    },
  };
}

// ── Epic ─────────────────────────────────────────────────────────────────────────────────

export interface TreeRow {
  ref: string;
  title: string;
  tracker: string;
  kind: string;
  status: string;
  statusCategory: string;
  owner: Person | null;
  points: number | null;
  due: string | null;
  depth: number;
  openFindings: number;
  /** Titles of the rules behind the open findings, severity first. */
  findingRules: { id: string; severity: string }[];
}

export interface EpicView {
  epic: EpicSummary;
  /** The epic's own target vs. the latest due date among its children (its planned finish). */
  plannedFinish: string | null;
  headline: { children: number; done: number; points: number; pointsDone: number; openFindings: number };
  /** Open findings on the epic itself; the children's are on their rows. */
  epicFindings: { id: string; severity: string }[];
  children: TreeRow[];
  dependencies: DependencyRow[];
  history: { day: string; health: string; percentComplete: number | null }[];
  findingEvents: { at: string; ref: string; rule: string; status: string; message: string }[];
}

const SEVERITY_RANK: Record<string, number> = { error: 0, warning: 1, info: 2 };
export const severityRank = (s: string) => SEVERITY_RANK[s] ?? 3;

export async function loadEpic(db: Db, ref: string): Promise<EpicView | null> {
  const [row] = await db
    .select(SUMMARY_COLUMNS)
    .from(workItems)
    .leftJoin(rollups, eq(rollups.scope, sql`'epic:' || ${workItems.ref}`))
    .where(eq(workItems.ref, ref));
  if (!row) return null;
  const tree = await queryRows<{ ref: string; depth: number; path: string[] }>(db, descendantsSql(ref));
  const refs = tree.map((t) => t.ref);
  const [items, open] = await Promise.all([
    refs.length === 0 ? [] : db.select().from(workItems).where(inArray(workItems.ref, refs)),
    db
      .select({ ref: findings.ref, rule: findings.rule, severity: findings.severity })
      .from(findings)
      .where(and(eq(findings.status, 'open'), inArray(findings.ref, [ref, ...refs]))),
  ]);
  const byRef = new Map(items.map((i) => [i.ref, i]));
  const findingsOf = new Map<string, { id: string; severity: string }[]>();
  for (const f of open) {
    const list = findingsOf.get(f.ref) ?? [];
    list.push({ id: f.rule, severity: f.severity });
    findingsOf.set(f.ref, list);
  }
  for (const list of findingsOf.values())
    list.sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || a.id.localeCompare(b.id));
  // Depth-first by natural key order, so a child sits right under its parent.
  const pathOf = new Map(tree.map((t) => [t.ref, t.path]));
  const ordered = [...tree].sort((a, b) => {
    const pa = pathOf.get(a.ref)!;
    const pb = pathOf.get(b.ref)!;
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
      const c = naturalRef(pa[i]!, pb[i]!);
      if (c !== 0) return c;
    }
    return pa.length - pb.length;
  });
  const children: TreeRow[] = ordered.flatMap((t) => {
    const i = byRef.get(t.ref);
    if (!i) return [];
    const rules = findingsOf.get(t.ref) ?? [];
    return [
      {
        ref: i.ref,
        title: i.title,
        tracker: i.tracker,
        kind: i.kind,
        status: i.status,
        statusCategory: i.statusCategory,
        owner: i.owner ? { id: i.owner.id, name: i.owner.name } : null,
        points: i.points,
        due: iso(i.due),
        depth: Number(t.depth),
        openFindings: rules.length,
        findingRules: rules,
      },
    ];
  });
  const live = children.filter((c) => c.statusCategory !== 'removed');
  const dues = live.map((c) => c.due).filter((d): d is string => d !== null);
  const epicOpen = findingsOf.get(ref)?.length ?? 0;
  // Every row: an epic's tree has few links, and its page lists them all.
  const all = { limit: Number.POSITIVE_INFINITY };
  const [dependencies, history, events] = await Promise.all([
    loadDependencies(db, (t) => inList(t.ref, [ref, ...refs]), all).then((d) => d.rows),
    db
      .select()
      .from(rollupSnapshots)
      .where(eq(rollupSnapshots.scope, `epic:${ref}`))
      .orderBy(desc(rollupSnapshots.day))
      .limit(90),
    db
      .select()
      .from(findingHistory)
      .where(inArray(findingHistory.ref, [ref, ...refs]))
      .orderBy(desc(findingHistory.at), asc(findingHistory.id))
      .limit(50),
  ]);
  return {
    epic: toSummary(row, epicOpen + children.reduce((n, c) => n + c.openFindings, 0)),
    plannedFinish: dues.length ? dues.sort().at(-1)! : null,
    headline: {
      children: children.length,
      done: children.filter((c) => c.statusCategory === 'done').length,
      points: live.reduce((n, c) => n + (c.points ?? 0), 0),
      pointsDone: live.filter((c) => c.statusCategory === 'done').reduce((n, c) => n + (c.points ?? 0), 0),
      openFindings: epicOpen + children.reduce((n, c) => n + c.openFindings, 0),
    },
    epicFindings: findingsOf.get(ref) ?? [],
    children,
    dependencies,
    history: history.map((h) => ({
      day: String(h.day).slice(0, 10),
      health: h.health,
      percentComplete: h.percentComplete,
    })),
    findingEvents: events.map((e) => ({
      at: iso(e.at)!,
      ref: e.ref,
      rule: e.rule,
      status: e.status,
      message: e.message,
    })),
  };
}

// ── Item ─────────────────────────────────────────────────────────────────────────────────

export type FindingDetail = ReportFinding & { id: number };

export interface ItemView {
  item: ReturnType<typeof toReportItem>;
  epic: string | null;
  findings: FindingDetail[];
  /** The bot comment as last sent (the payload the tracker accepted), and any write still waiting. */
  comment: { applied: unknown; appliedAt: string | null; waiting: { status: string; payload: unknown }[] };
  audit: { at: string; target: string; action: string; httpStatus: number | null }[];
}

const toFindingDetail = (f: typeof findings.$inferSelect): FindingDetail => ({
  id: f.id,
  ref: f.ref,
  rule: f.rule,
  severity: f.severity,
  status: f.status,
  message: f.message,
  firstSeen: iso(f.firstSeen)!,
  lastSeen: iso(f.lastSeen)!,
  resolvedAt: iso(f.resolvedAt),
  waivedReason: f.waivedReason,
  waivedUntil: f.waivedUntil,
});

export async function loadItem(db: Db, ref: string): Promise<ItemView | null> {
  const [row] = await db.select().from(workItems).where(eq(workItems.ref, ref));
  if (!row) return null;
  const [fs, applied, waiting, audit, ancestors] = await Promise.all([
    db.select().from(findings).where(eq(findings.ref, ref)),
    db
      .select()
      .from(appliedState)
      .where(and(eq(appliedState.ref, ref), eq(appliedState.target, 'comment'))),
    db
      .select()
      .from(writeOutbox)
      .where(
        and(
          eq(writeOutbox.ref, ref),
          eq(writeOutbox.target, 'comment'),
          inArray(writeOutbox.status, ['pending', 'planned', 'in_flight', 'dead']),
        ),
      )
      .orderBy(asc(writeOutbox.id)),
    db.select().from(writeAudit).where(eq(writeAudit.ref, ref)).orderBy(desc(writeAudit.at)).limit(100),
    queryRows<{ ref: string; kind: string }>(
      db,
      sql`with recursive up(ref, parent, kind, depth) as (
          select ref, parent, kind, 0 from ${workItems} where ref = ${ref}
          union all
          select w.ref, w.parent, w.kind, u.depth + 1 from ${workItems} w join up u on w.ref = u.parent where u.depth < 20
        ) select ref, kind from up where depth > 0 order by depth`,
    ),
  ]);
  const open = (s: string) => (s === 'open' ? 0 : s === 'waived' ? 1 : 2);
  return {
    item: toReportItem(row),
    epic: ancestors.find((a) => a.kind === 'epic')?.ref ?? null,
    findings: fs
      .map(toFindingDetail)
      .sort(
        (a, b) => open(a.status) - open(b.status) || severityRank(a.severity) - severityRank(b.severity) || a.id - b.id,
      ),
    comment: {
      applied: applied[0]?.value ?? null,
      appliedAt: iso(applied[0]?.appliedAt),
      waiting: waiting.map((w) => ({ status: w.status, payload: w.payload })),
    },
    audit: audit.map((a) => ({ at: iso(a.at)!, target: a.target, action: a.action, httpStatus: a.httpStatus })),
  };
}

// ── Finding ──────────────────────────────────────────────────────────────────────────────

export interface FindingView {
  finding: FindingDetail;
  item: { ref: string; title: string; tracker: string; owner: Person | null; url: string; epic: string | null };
  history: { at: string; status: string; message: string }[];
}

export async function loadFinding(db: Db, id: number): Promise<FindingView | null> {
  const [f] = await db.select().from(findings).where(eq(findings.id, id));
  if (!f) return null;
  const [item, history] = await Promise.all([
    loadItem(db, f.ref),
    db
      .select()
      .from(findingHistory)
      .where(and(eq(findingHistory.ref, f.ref), eq(findingHistory.rule, f.rule)))
      .orderBy(desc(findingHistory.at), desc(findingHistory.id))
      .limit(100),
  ]);
  return {
    finding: toFindingDetail(f),
    item: item
      ? {
          ref: item.item.ref,
          title: item.item.title,
          tracker: item.item.tracker,
          owner: item.item.owner ? { id: item.item.owner.id, name: item.item.owner.name } : null,
          url: item.item.url,
          epic: item.epic,
        }
      : { ref: f.ref, title: f.ref, tracker: '', owner: null, url: '', epic: null },
    history: history.map((h) => ({ at: iso(h.at)!, status: h.status, message: h.message })),
  };
}
