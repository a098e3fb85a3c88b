// What the drill-down views show, read once for both the HTML page and its JSON twin under
// /api/v1/workspace, so a page and its API call always report the same rows. Every headline is
// counted from the rows it sits above (issue 25.1: a headline equals the rows it summarizes).
import { and, asc, desc, eq, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { queryRows } from '../../../db/query.ts';
import {
  appliedState,
  findingHistory,
  findings,
  itemLinks,
  rollupSnapshots,
  rollups,
  workItems,
  writeAudit,
  writeOutbox,
} from '../../../db/schema.ts';
import type { Config } from '../../config/schema.ts';
import { type ProgramInfo, programsOf } from '../../http/scope.ts';
import { type ReportFinding, type ReportRollup, toReportItem, toRollup } from '../../report/load.ts';
import { filterCondition, type WorkspaceFilter } from './filter.ts';

export type Health = 'green' | 'amber' | 'red' | 'none';
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
 * Open findings per epic: each open finding on an item in view counts for the nearest epic at or
 * above it (up to three levels: epic → feature → story → sub-task). Joins, not a recursive walk:
 * over 150,000 items a walk of every epic's tree took seconds where these hash joins take a pass.
 */
async function openFindingsUnder(db: Db, inView: SQL): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const epicOf = (a: string) => `when ${a}.kind = 'epic' then ${a}.ref`;
  const rows = await queryRows<{ root: string; n: number }>(
    db,
    sql`select root, count(*)::int as n from (
        select case when ${workItems.kind} = 'epic' then ${workItems.ref}
          ${sql.raw([epicOf('p'), epicOf('pp'), epicOf('ppp')].join(' '))} end as root
        from ${findings} f
        join ${workItems} on ${workItems.ref} = f.ref
        left join ${workItems} p on p.ref = ${workItems.parent}
        left join ${workItems} pp on pp.ref = p.parent
        left join ${workItems} ppp on ppp.ref = pp.parent
        where f.status = 'open' and ${inView}
      ) x where root is not null group by root`,
  );
  for (const r of rows) out.set(r.root, Number(r.n));
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

/** Natural key order: `PAY-2` before `PAY-10`, `ado:9` before `ado:10`. */
export const naturalRef = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
const HEALTH_RANK: Record<Health, number> = { red: 0, amber: 1, green: 2, none: 3 };
export const byHealthThenRef = (a: { health: Health; ref: string }, b: { health: Health; ref: string }) =>
  HEALTH_RANK[a.health] - HEALTH_RANK[b.health] || naturalRef(a.ref, b.ref);

/** Epics per page of the program view. Headline figures always count every epic of the filter. */
export const EPIC_PAGE_SIZE = 100;

/**
 * A page's position in the keyset order (health, then natural ref order): `<health>.<ref>` of the
 * last row shown. Keyset, not offset, so a row that changes colour between pages is neither
 * shown twice nor skipped because of rows before it.
 */
export const epicCursor = (e: { health: Health; ref: string }) => `${e.health}.${e.ref}`;

function parseCursor(after: string | undefined): { health: Health; ref: string } | null {
  if (!after) return null;
  const at = after.indexOf('.');
  if (at <= 0) return null;
  const health = after.slice(0, at);
  return HEALTH_RANK[health as Health] === undefined ? null : { health: health as Health, ref: after.slice(at + 1) };
}

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
 * A page of the epics of a filter, in health-then-natural-ref order, and the headline over all
 * of them. Only refs and colours of the whole list are read (the order is natural, which SQL's
 * collations do not give); the shown columns and the findings are read for the page alone.
 */
export async function loadEpicPage(
  db: Db,
  where: SQL | undefined,
  page: { after?: string; limit?: number } = {},
  kinds = ['epic'],
): Promise<EpicPage> {
  const inView = and(where, inArray(workItems.kind, kinds), sql`${workItems.statusCategory} <> 'removed'`);
  const [keys, open] = await Promise.all([
    db
      .select({ ref: workItems.ref, health: rollups.health })
      .from(workItems)
      .leftJoin(rollups, eq(rollups.scope, sql`'epic:' || ${workItems.ref}`))
      .where(inView),
    openFindingsUnder(db, where ?? sql`true`),
  ]);
  const ordered = keys.map((k) => ({ ref: k.ref, health: healthOf(k.health) })).sort(byHealthThenRef);
  const cursor = parseCursor(page.after);
  const from = cursor ? ordered.findIndex((e) => byHealthThenRef(e, cursor) > 0) : 0;
  const start = from < 0 ? ordered.length : from;
  const limit = page.limit ?? EPIC_PAGE_SIZE;
  const slice = ordered.slice(start, start + limit);
  const rows =
    slice.length === 0
      ? []
      : await db
          .select(SUMMARY_COLUMNS)
          .from(workItems)
          .leftJoin(rollups, eq(rollups.scope, sql`'epic:' || ${workItems.ref}`))
          .where(
            inArray(
              workItems.ref,
              slice.map((e) => e.ref),
            ),
          );
  const epics = rows.map((r) => toSummary(r, open.get(r.ref) ?? 0)).sort(byHealthThenRef);
  let openFindings = 0;
  for (const e of ordered) openFindings += open.get(e.ref) ?? 0;
  const last = epics.at(-1);
  return {
    epics,
    total: ordered.length,
    health: countHealth(ordered),
    openFindings,
    first: epics.length ? start + 1 : 0,
    last: start + epics.length,
    next: last && start + limit < ordered.length ? epicCursor(last) : null,
  };
}

/** Dependency links with at least one end among `refs`, each side's title and tracker. */
/**
 * Dependency links with at least one end in view, each side's title and tracker. Links are few
 * next to items, so they are read from each end's side (index lookups on item_links) rather
 * than by testing every link against the whole view.
 */
export async function loadDependencies(db: Db, inView: SQL): Promise<DependencyRow[]> {
  const types = inArray(itemLinks.type, DEPENDENCY_TYPES);
  const link = {
    source: itemLinks.source,
    target: itemLinks.target,
    type: itemLinks.type,
    relation: itemLinks.relation,
  };
  const [fromView, intoView] = await Promise.all([
    db.select(link).from(itemLinks).innerJoin(workItems, eq(workItems.ref, itemLinks.source)).where(and(types, inView)),
    db.select(link).from(itemLinks).innerJoin(workItems, eq(workItems.ref, itemLinks.target)).where(and(types, inView)),
  ]);
  const key = (l: { source: string; target: string; type: string }) => `${l.source}\n${l.target}\n${l.type}`;
  const sourceIn = new Set(fromView.map(key));
  const targetIn = new Set(intoView.map(key));
  const links = new Map([...fromView, ...intoView].map((l) => [key(l), l]));
  const ends = [...new Set([...links.values()].flatMap((l) => [l.source, l.target]))];
  const about = new Map<string, { title: string; tracker: string }>();
  for (let i = 0; i < ends.length; i += 1000) {
    const rows = await db
      .select({ ref: workItems.ref, title: workItems.title, tracker: workItems.tracker })
      .from(workItems)
      .where(inArray(workItems.ref, ends.slice(i, i + 1000)));
    for (const r of rows) about.set(r.ref, r);
  }
  return [...links.entries()]
    .flatMap(([k, l]) => {
      const s = about.get(l.source);
      if (!s) return [];
      const t = about.get(l.target) ?? null;
      const sIn = sourceIn.has(k);
      const tIn = targetIn.has(k);
      return [
        {
          source: l.source,
          sourceTitle: s.title,
          sourceTracker: s.tracker,
          target: l.target,
          targetTitle: t?.title ?? null,
          targetTracker: t?.tracker ?? null,
          type: l.type,
          relation: l.relation,
          direction: (sIn && tIn ? 'within' : sIn ? 'out' : 'in') as DependencyRow['direction'],
          crossTracker: l.type === 'cross_tracker' || (t !== null && t.tracker !== s.tracker),
        },
      ];
    })
    .sort((a, b) => naturalRef(a.source, b.source) || naturalRef(a.target, b.target) || a.type.localeCompare(b.type));
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
  dependencies: DependencyRow[];
}

export async function loadProgram(
  db: Db,
  config: Config | null,
  id: string,
  filter: WorkspaceFilter,
  page: { after?: string; limit?: number } = {},
): Promise<ProgramView | null> {
  const programs = programsOf(
    config,
    (await db.select({ scope: rollups.scope }).from(rollups)).map((r) => r.scope),
  );
  const program = programs.find((p) => p.id === id);
  if (!program) return null;
  const where = filterCondition(config, { ...filter, program: id });
  const [epics, dependencies, [rollup]] = await Promise.all([
    loadEpicPage(db, where, page),
    loadDependencies(db, where),
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
      dependenciesIn: dependencies.filter((d) => d.direction === 'in').length,
      dependenciesOut: dependencies.filter((d) => d.direction === 'out').length,
    },
    epics: epics.epics,
    page: {
      first: epics.first,
      last: epics.last,
      total: epics.total,
      size: page.limit ?? EPIC_PAGE_SIZE,
      next: epics.next,
    },
    dependencies,
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
  const inView = or(eq(workItems.ref, ref), refs.length ? inArray(workItems.ref, refs) : undefined)!;
  const [dependencies, history, events] = await Promise.all([
    loadDependencies(db, inView),
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
