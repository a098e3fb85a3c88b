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
 * Runs `fn` in a transaction (a savepoint inside the caller's) with the planner settings for
 * statements over every item: hash joins, no JIT, and on Postgres the work_mem to keep them in
 * memory (see aggregateScopes). Settings local to a transaction would outlive `fn` inside a
 * caller's, so they go back to the session's values after it (on failure the savepoint's
 * rollback undoes them). One statement sets them all, one restores them.
 */
export function withWholeTableSettings<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const settings: [string, string][] = [
    ['enable_mergejoin', 'off'],
    ['jit', 'off'],
  ];
  if (!isPglite(db)) settings.push(['work_mem', '64MB']);
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
  return rows.map((r) => ({
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
  }));
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
