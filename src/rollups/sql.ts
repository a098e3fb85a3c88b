// The rollup aggregates in one SQL statement, so PGlite and Postgres compute the same numbers
// from the same rows. Membership of an item in a scope:
//   epic:<ref>                 the container and all its descendants (recursive, cycle-safe)
//   project:<connection>:<key> every item of that tracker project
//   program:<id>               every item of the program's (connection, project) pairs
//   portfolio                  every item
// "Leaf" work (stories, bugs, tasks…) makes the counts and points; containers (initiatives,
// epics, features) give the planned dates; findings count for every member.
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { isPglite } from '../../db/copy.ts';
import { inList, queryRows, textArray } from '../../db/query.ts';

export const CONTAINER_KINDS = ['initiative', 'epic', 'feature'] as const;

export interface ScopeAggregate {
  scope: string;
  total: number;
  todo: number;
  inProgress: number;
  done: number;
  removed: number;
  pointsTotal: number;
  pointsDone: number;
  overdue: number;
  blocked: number;
  wip: number;
  doneLast4Weeks: number;
  cycleP50: number | null;
  cycleP85: number | null;
  findingsError: number;
  findingsWarning: number;
  findingsInfo: number;
  checks: number | null;
  checksFailed: number;
  plannedStart: string | null;
  /** Latest due date of the members other than the epic itself, not removed. */
  plannedFinish: string | null;
  /** The epic's own due date, status category and resolution; null for other scopes. */
  targetDate: string | null;
  selfStatus: string | null;
  selfResolved: string | null;
  /** Members other than the epic itself that are todo or in progress / not removed. */
  openChildren: number;
  totalChildren: number;
  /** Open items of kind `epic` whose own target date has passed (metrics.ts, "Overdue"). */
  overdueContainers: number;
  members: number;
}

export interface ProgramMembership {
  id: string;
  include: { connection: string; project: string }[];
}

export interface AggregateOptions {
  now: Date;
  programs: ProgramMembership[];
  /** Limit epic scopes to these container refs (incremental); all when undefined. */
  epicRoots?: string[];
  /** Compute project/program/portfolio scopes too (default true). */
  aggregates?: boolean;
}

const containers = sql.raw(CONTAINER_KINDS.map((k) => `'${k}'`).join(','));

export async function aggregateScopes(db: Db, opts: AggregateOptions): Promise<ScopeAggregate[]> {
  const nowIso = opts.now.toISOString();
  if (opts.epicRoots !== undefined && opts.aggregates === false) return epicScopes(db, opts.epicRoots, nowIso);
  const figures = aggregatesOf(nowIso, sql`false`);
  const rootFilter: SQL =
    opts.epicRoots === undefined
      ? sql``
      : opts.epicRoots.length === 0
        ? sql` and false`
        : sql` and ${inList(sql`ref`, opts.epicRoots)}`;
  // Every scope's figures are the same aggregates over a different set of items (`figures`
  // below). Each kind of scope is grouped straight from the enriched items, rather than through
  // one list of (scope, item) pairs: projects and the portfolio come from one scan (grouping
  // sets), and no pair list of four times the item count is built and joined.
  const blocks: SQL[] = [
    sql`select 'epic:' || t.root as scope, ${aggregatesOf(nowIso, sql`t.ref = t.root`)}
      from tree t join item i on i.ref = t.ref group by t.root`,
  ];
  if (opts.aggregates !== false) {
    blocks.push(sql`select case when grouping(i.connection) = 0 then 'project:' || i.connection || ':' || i.project
        else 'portfolio' end as scope, ${figures}
      from item i group by grouping sets ((i.connection, i.project), ())`);
    const pairs = opts.programs.flatMap((p) =>
      p.include.map((inc) => sql`(${p.id}, ${inc.connection}, ${inc.project})`),
    );
    if (pairs.length > 0) {
      blocks.push(sql`select 'program:' || p.id as scope, ${figures} from item i
        join (select distinct * from (values ${sql.join(pairs, sql`, `)}) as v(id, connection, project)) as p
          on p.connection = i.connection and p.project = i.project
        group by p.id`);
    }
  }
  // Tables a first sync has just filled have no statistics yet (autovacuum gets to them a
  // minute later). Without them the planner took `live` for 1% of its rows and walked the tree
  // with merge joins that sorted every item once per level, several times slower than hash
  // joins. With statistics the planner picks hash joins anyway.
  // Once the tables have statistics, the planner's estimate for the epic join is absurd (10^12
  // rows) and Postgres JIT-compiles the statement, which costs more than the statement saves
  // (BENCHMARKS.md). On Postgres the work_mem keeps the sorts and hashes of a whole portfolio in
  // memory rather than in temporary files; not on PGlite, whose memory is ours and never shrinks
  // (the first sync's memory goal).
  return withWholeTableSettings(db, (tx) => scopeRows(tx, rootFilter, blocks));
}

/**
 * Runs `fn` with the planner settings for statements over every item: hash joins, no JIT, and on
 * Postgres the work_mem to keep them in memory (see aggregateScopes).
 */
export function withWholeTableSettings<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const settings: [string, string][] = [
    ['enable_mergejoin', 'off'],
    ['jit', 'off'],
  ];
  if (!isPglite(db)) settings.push(['work_mem', '64MB']);
  return withSettings(db, settings, fn);
}

/**
 * Runs `fn` with planner settings local to it. Settings local to a transaction need one; inside
 * a caller's they would outlive this statement, so they go back to the session's values after
 * it (on failure the savepoint's rollback undoes them). One statement sets them all, one
 * restores them.
 */
async function withSettings<T>(db: Db, settings: [string, string][], fn: (tx: Db) => Promise<T>): Promise<T> {
  const names = textArray(settings.map(([name]) => name));
  const values = textArray(settings.map(([, value]) => value));
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    await tx.execute(
      sql`select set_config(name, value, true) from unnest(${names}::text[], ${values}::text[]) as s(name, value)`,
    );
    const result = await fn(tx);
    await tx.execute(sql`select set_config(name, reset_val, true) from pg_settings where name = any(${names}::text[])`);
    return result;
  });
}

async function scopeRows(db: Db, rootFilter: SQL, blocks: SQL[]): Promise<ScopeAggregate[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`
    with recursive
    live as (
      select w.ref, w.connection, w.project, w.kind, w.status_category as sc, w.points, w.due, w.start, w.started,
             w.resolved, w.created, c.rule_checks, w.parent, w.kind in (${containers}) as container
      from work_items w left join item_checks c on c.ref = w.ref
      where w.deleted_at is null
    ),
    tree(root, ref) as (
      select ref, ref from live where container${rootFilter}
      union
      select t.root, c.ref from tree t join live c on c.parent = t.ref
    ),
    blocked as (
      select distinct l.source as ref
      from item_links l join live t on t.ref = l.target
      where (l.type in ('blocked_by', 'depends_on') or l.relation in ('blocked_by', 'depends_on'))
        and t.sc in ('todo', 'in_progress', 'removed')
    ),
    fc as (
      select ref,
        count(*) filter (where severity = 'error') as e,
        count(*) filter (where severity = 'warning') as w,
        count(*) filter (where severity = 'info') as i
      from findings where status = 'open' group by ref
    ),
    item as (
      select l.*, b.ref is not null as is_blocked, f.e as fe, f.w as fw, f.i as fi
      from live l left join blocked b on b.ref = l.ref left join fc f on f.ref = l.ref
    )
    select * from (${sql.join(blocks, sql` union all `)}) s
    order by scope`,
  );
  return rows.map(toAggregate);
}

/**
 * The rollups of some epics alone (a webhook's commit): their trees walked down from the roots a
 * level at a time, then the members' rows, checks, blocking links and findings read by their
 * refs, by index, and joined by hash. The whole-store CTEs of scopeRows read every item, link and
 * open finding to roll up a few trees. Left to itself, the planner guessed the size of the tree
 * and of the member lists and chose nested loops that scanned them once per row, or sequential
 * scans of work_items and findings that tested each row against the member list.
 * The same figures (aggregatesOf) over the same members.
 */
async function epicScopes(db: Db, roots: readonly string[], nowIso: string): Promise<ScopeAggregate[]> {
  const pairs = await epicMembers(db, roots);
  if (pairs.length === 0) return [];
  const members = textArray([...new Set(pairs.map(([, ref]) => ref))]);
  // Every table is read by the members' refs, through its index: without statistics (a store
  // just filled) the planner scanned findings whole, testing each row against the list.
  const settings: [string, string][] = [
    ['enable_seqscan', 'off'],
    ['enable_nestloop', 'off'],
    ['enable_mergejoin', 'off'],
    ['jit', 'off'],
  ];
  const rows = await withSettings(db, settings, (tx) =>
    queryRows<Record<string, unknown>>(
      tx,
      sql`
    with
    tree(root, ref) as (
      select * from unnest(${textArray(pairs.map(([root]) => root))}::text[], ${textArray(pairs.map(([, ref]) => ref))}::text[])
    ),
    live as (
      select w.ref, w.connection, w.project, w.kind, w.status_category as sc, w.points, w.due, w.start, w.started,
             w.resolved, w.created, c.rule_checks, w.parent, w.kind in (${containers}) as container
      from work_items w
        left join (select ref, rule_checks from item_checks where ref = any(${members}::text[])) c on c.ref = w.ref
      where w.ref = any(${members}::text[]) and w.deleted_at is null
    ),
    blocked as (
      -- Each blocker by its ref: the one path there is, nested loops off or not.
      select distinct l.source as ref from item_links l
        cross join lateral (select 1 from work_items t where t.ref = l.target and t.deleted_at is null
          and t.status_category in ('todo', 'in_progress', 'removed') limit 1) t
      where l.source = any(${members}::text[])
        and (l.type in ('blocked_by', 'depends_on') or l.relation in ('blocked_by', 'depends_on'))
    ),
    fc as (
      -- The status in the filters, not the where clause: the members' rows by ref alone (without
      -- statistics the planner also read the status index, every open finding).
      select ref,
        count(*) filter (where status = 'open' and severity = 'error') as e,
        count(*) filter (where status = 'open' and severity = 'warning') as w,
        count(*) filter (where status = 'open' and severity = 'info') as i
      from findings where ref = any(${members}::text[]) group by ref
    ),
    item as (
      select l.*, b.ref is not null as is_blocked, nullif(f.e, 0) as fe, nullif(f.w, 0) as fw, nullif(f.i, 0) as fi
      from live l left join blocked b on b.ref = l.ref left join fc f on f.ref = l.ref
    )
    select 'epic:' || t.root as scope, ${aggregatesOf(nowIso, sql`t.ref = t.root`)}
    from tree t join item i on i.ref = t.ref group by t.root
    order by scope`,
    ),
  );
  return rows.map(toAggregate);
}

/**
 * (root, member) pairs of the epic trees under `roots` (live containers), the roots among their
 * members: a level of children at a time, each by the parent index. Cycle-safe: a member is
 * walked on only with roots it did not have yet.
 */
async function epicMembers(db: Db, roots: readonly string[]): Promise<[string, string][]> {
  if (roots.length === 0) return [];
  const top = await queryRows<{ ref: string }>(
    db,
    sql`select ref from work_items where ${inList(sql`ref`, roots)} and deleted_at is null and kind in (${containers})`,
  );
  const rootsOf = new Map<string, Set<string>>();
  const pairs: [string, string][] = [];
  let frontier = new Map<string, string[]>();
  for (const { ref } of top) {
    rootsOf.set(ref, new Set([ref]));
    pairs.push([ref, ref]);
    frontier.set(ref, [ref]);
  }
  while (frontier.size > 0) {
    const kids = await queryRows<{ ref: string; parent: string }>(
      db,
      sql`select ref, parent from work_items where ${inList(sql`parent`, [...frontier.keys()])} and deleted_at is null`,
    );
    const next = new Map<string, string[]>();
    for (const { ref, parent } of kids) {
      const have = rootsOf.get(ref) ?? new Set<string>();
      rootsOf.set(ref, have);
      for (const root of frontier.get(parent) ?? []) {
        if (have.has(root)) continue;
        have.add(root);
        pairs.push([root, ref]);
        const list = next.get(ref);
        if (list) list.push(root);
        else next.set(ref, [root]);
      }
    }
    frontier = next;
  }
  return pairs;
}

function toAggregate(r: Record<string, unknown>): ScopeAggregate {
  return {
    scope: String(r.scope),
    total: Number(r.total),
    todo: Number(r.todo),
    inProgress: Number(r.in_progress),
    done: Number(r.done),
    removed: Number(r.removed),
    pointsTotal: Number(r.points_total),
    pointsDone: Number(r.points_done),
    overdue: Number(r.overdue),
    blocked: Number(r.blocked),
    wip: Number(r.wip),
    doneLast4Weeks: Number(r.done_4w),
    cycleP50: r.cycle_p50 === null ? null : round(Number(r.cycle_p50), 2),
    cycleP85: r.cycle_p85 === null ? null : round(Number(r.cycle_p85), 2),
    findingsError: Number(r.f_error),
    findingsWarning: Number(r.f_warning),
    findingsInfo: Number(r.f_info),
    checks: r.checks === null ? null : Number(r.checks),
    checksFailed: Number(r.checks_failed),
    plannedStart: toIso(r.planned_start),
    plannedFinish: toIso(r.planned_finish),
    targetDate: toIso(r.target_date),
    selfStatus: r.self_status === null || r.self_status === undefined ? null : String(r.self_status),
    selfResolved: toIso(r.self_resolved),
    openChildren: Number(r.open_children),
    totalChildren: Number(r.total_children),
    overdueContainers: Number(r.overdue_containers),
    members: Number(r.members),
  };
}

/**
 * Refs of every container whose rollup the given items' changes can move: the containers above
 * them (the items themselves when containers), and above the items they block, whose `blocked`
 * count follows the blocker's status, across trackers too.
 */
export async function ancestorContainers(db: Db, refs: readonly string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const out = new Set<string>();
  for (let i = 0; i < refs.length; i += 20_000) {
    const chunk = refs.slice(i, i + 20_000);
    const rows = await queryRows<{ ref: string }>(
      db,
      sql`
      with recursive up(ref, parent, kind) as (
        -- Two index lookups, not one OR, which would scan every item for a webhook's one ref.
        select * from (
          select ref, parent, kind from work_items where ${inList(sql`ref`, chunk)}
          union
          select w.ref, w.parent, w.kind from item_links l join work_items w on w.ref = l.source
          where ${inList(sql`l.target`, chunk)}
        ) changed
        union
        select w.ref, w.parent, w.kind from work_items w join up on w.ref = up.parent
      )
      select ref from up where kind in (${containers})`,
    );
    for (const r of rows) out.add(r.ref);
  }
  return [...out];
}

/**
 * The figures of one scope, over its items (`i`, the `item` CTE of aggregateScopes). `self` is
 * true on the epic's own row of an epic scope (false for every other scope): its own dates and
 * status are the epic's, the rest are its children's. Definitions: src/workspace/metrics.ts.
 */
function aggregatesOf(now: string, self: SQL): SQL {
  return sql`
      count(*) filter (where not i.container)::int as total,
      count(*) filter (where not i.container and i.sc = 'todo')::int as todo,
      count(*) filter (where not i.container and i.sc = 'in_progress')::int as in_progress,
      count(*) filter (where not i.container and i.sc = 'done')::int as done,
      count(*) filter (where not i.container and i.sc = 'removed')::int as removed,
      coalesce(sum(i.points) filter (where not i.container and i.sc <> 'removed'), 0)::float8 as points_total,
      coalesce(sum(i.points) filter (where not i.container and i.sc = 'done'), 0)::float8 as points_done,
      count(*) filter (where not i.container and i.sc in ('todo', 'in_progress') and i.due < ${now}::timestamptz)::int as overdue,
      count(*) filter (where not i.container and i.sc in ('todo', 'in_progress') and i.is_blocked)::int as blocked,
      count(*) filter (where not i.container and i.sc = 'in_progress')::int as wip,
      count(*) filter (where not i.container and i.sc = 'done' and i.resolved >= ${now}::timestamptz - interval '28 days')::int as done_4w,
      percentile_cont(0.5) within group (order by extract(epoch from (i.resolved - i.started)) / 86400.0)
        filter (where not i.container and i.sc = 'done' and i.started is not null and i.resolved >= i.started
                and i.resolved >= ${now}::timestamptz - interval '90 days') as cycle_p50,
      percentile_cont(0.85) within group (order by extract(epoch from (i.resolved - i.started)) / 86400.0)
        filter (where not i.container and i.sc = 'done' and i.started is not null and i.resolved >= i.started
                and i.resolved >= ${now}::timestamptz - interval '90 days') as cycle_p85,
      coalesce(sum(i.fe), 0)::int as f_error,
      coalesce(sum(i.fw), 0)::int as f_warning,
      coalesce(sum(i.fi), 0)::int as f_info,
      sum(i.rule_checks)::int as checks,
      coalesce(sum(coalesce(i.fe, 0) + coalesce(i.fw, 0) + coalesce(i.fi, 0)) filter (where i.rule_checks is not null), 0)::int as checks_failed,
      -- The epic's own start; else the earliest start of its containers; else when it was created.
      coalesce(max(i.start) filter (where ${self}),
        min(coalesce(i.start, i.started)) filter (where i.container),
        min(i.created) filter (where i.container)) as planned_start,
      max(i.due) filter (where not (${self}) and i.sc <> 'removed') as planned_finish,
      max(i.due) filter (where ${self}) as target_date,
      max(i.sc) filter (where ${self}) as self_status,
      max(i.resolved) filter (where ${self}) as self_resolved,
      count(*) filter (where not (${self}) and i.sc in ('todo', 'in_progress'))::int as open_children,
      count(*) filter (where not (${self}) and i.sc <> 'removed')::int as total_children,
      count(*) filter (where i.kind = 'epic' and i.sc in ('todo', 'in_progress') and i.due < ${now}::timestamptz)::int as overdue_containers,
      count(*)::int as members`;
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

function toIso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return new Date(v as string).toISOString();
}
