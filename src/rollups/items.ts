// Each live item's own roll-up (item_rollups, db/schema.ts): what the workspace filters on and
// counts, stored once per change instead of worked out on every request — the nearest epic (a
// walk up the parent chain), open findings by severity, rule checks and, for a container, its
// rollup's health and its children's latest due date. Refreshed with the rollups, in the
// transaction that commits the findings it counts, for the items a pass touched and everything
// their change can move: their descendants (whose nearest epic may change with them) and the
// containers whose rollup was recomputed (health, children's due dates). With them it keeps
// open_finding_counts, the open findings by rule summed per filterable combination of project,
// tracker, team and owner: the refreshed rows' open rules, as they were and as they are; and
// where the links of the refreshed items (as either end) sit on a roadmap (item_links'
// containers, which the same descendants cover: an end's container is its parent or grandparent).
import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { queryRows, textArray } from '../../db/query.ts';
import { itemRollups, openFindingCounts } from '../../db/schema.ts';
import { ownerOf, teamOf } from '../http/scope.ts';
import { CONTAINER_KINDS, withWholeTableSettings } from './sql.ts';

const COUNT_COLUMNS = sql.raw('(connection, project, tracker, team, owner_id, owner_name, rule, severity, open)');
const containers = sql.raw(CONTAINER_KINDS.map((k) => `'${k}'`).join(','));
const EPIC = 'epic';

export interface RefreshItemRollups {
  /** Items whose content or findings changed; every live item when undefined. */
  refs?: readonly string[];
  /** Containers whose rollup was recomputed for them. */
  containers?: readonly string[];
}

/** Brings item_rollups up to date with work_items, findings, item_checks and rollups. */
export async function refreshItemRollups(db: Db, opts: RefreshItemRollups): Promise<void> {
  if (opts.refs === undefined) {
    await withWholeTableSettings(db, async (tx) => {
      await tx.delete(itemRollups);
      await tx.execute(allRows());
      await tx.delete(openFindingCounts);
      await tx.execute(ALL_COUNTS);
    });
    await refreshLinkContainers(db, sql`true`);
    await syncTrendMembers(db);
    return;
  }
  if (opts.refs.length === 0 && (opts.containers?.length ?? 0) === 0) return;
  // A handful of index lookups per level, driven from here: in one recursive statement the
  // planner cannot know how few rows each level has, and it hashed every item to find them.
  const targets = [...new Set([...(await liveDescendants(db, opts.refs)), ...(opts.containers ?? [])])];
  const epics = await nearestEpics(db, targets);
  const list = textArray(targets);
  const before = await countsOf(db, sql`delete from item_rollups where ref = any(${list}::text[])`);
  const after = await countsOf(db, someRows(list, epics));
  await addCounts(db, before, after);
  await refreshLinkContainers(db, sql`(source = any(${list}::text[]) or target = any(${list}::text[]))`);
  await syncTrendMembers(db);
}

/**
 * Reads again where the links matching `which` sit on a roadmap (link_end_container, migration
 * 0021), changing only the rows that moved. The rows are locked in key order first, so two
 * passes refreshing overlapping links never each wait on the other.
 */
async function refreshLinkContainers(db: Db, which: SQL): Promise<void> {
  await db.execute(sql`with c as (
      select source, target, type, link_end_container(source) as s, link_end_container(target) as t
      from item_links where ${which} order by source, target, type for update
    )
    update item_links l set source_container = c.s, target_container = c.t from c
    where l.source = c.source and l.target = c.target and l.type = c.type
      and (l.source_container, l.target_container) is distinct from (c.s, c.t)`);
}

/**
 * Moves the trend's groups after the epics whose filter attributes item_rollups now gives
 * otherwise (trend_sync_members, db/migrations/0020_trend_groups.sql): an epic deleted and
 * written again unchanged does not move.
 */
async function syncTrendMembers(db: Db): Promise<void> {
  await db.execute(sql`select trend_sync_members()`);
}

/** Every live item's open rules summed per combination (migration 0019 fills the table the same way). */
const ALL_COUNTS = sql`insert into open_finding_counts ${COUNT_COLUMNS}
  select i.connection, i.project, i.tracker, i.team, i.owner_id, i.owner_name, r.key, r.value, count(*)::int
  from item_rollups i, jsonb_each_text(i.open_rules) r
  group by 1, 2, 3, 4, 5, 6, 7, 8`;

type CountRow = {
  connection: string;
  project: string;
  tracker: string;
  team: string | null;
  owner_id: string | null;
  owner_name: string | null;
  rule: string;
  severity: string;
  open: number;
};

/** Runs `change` (a delete or insert of item_rollups rows) and sums its rows' open rules per combination. */
function countsOf(db: Db, change: SQL): Promise<CountRow[]> {
  return queryRows<CountRow>(
    db,
    sql`with i as (${change} returning connection, project, tracker, team, owner_id, owner_name, open_rules)
    select i.connection, i.project, i.tracker, i.team, i.owner_id, i.owner_name, r.key as rule,
      r.value as severity, count(*)::int as open
    from i, jsonb_each_text(i.open_rules) r
    group by 1, 2, 3, 4, 5, 6, 7, 8`,
  );
}

const countKey = (r: CountRow) =>
  JSON.stringify([r.connection, r.project, r.tracker, r.team, r.owner_id, r.owner_name, r.rule, r.severity]);

/**
 * Adds the difference between the refreshed rows' counts before and after. One statement, its
 * rows in key order: two transactions touching the same combinations lock them in the same
 * order, never each waiting on the other. Rows left at 0 are removed unless another transaction
 * holds them (a later refresh removes those).
 */
async function addCounts(db: Db, before: CountRow[], after: CountRow[]): Promise<void> {
  const delta = new Map<string, CountRow>();
  for (const [rows, sign] of [
    [before, -1],
    [after, 1],
  ] as const) {
    for (const r of rows) {
      const k = countKey(r);
      const d = delta.get(k) ?? { ...r, open: 0 };
      d.open += sign * Number(r.open);
      delta.set(k, d);
    }
  }
  const changed = [...delta.entries()]
    .filter(([, r]) => r.open !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);
  if (changed.length === 0) return;
  await db.execute(sql`insert into open_finding_counts ${COUNT_COLUMNS}
    select v->>'connection', v->>'project', v->>'tracker', v->>'team', v->>'owner_id', v->>'owner_name', v->>'rule',
      v->>'severity', (v->>'open')::int
    from jsonb_array_elements(${JSON.stringify(changed)}::jsonb) with ordinality as d(v, n)
    order by n
    on conflict on constraint open_finding_counts_key do update set open = open_finding_counts.open + excluded.open`);
  await db.execute(sql`delete from open_finding_counts
    where ctid = any(array(select ctid from open_finding_counts where open = 0 for update skip locked))`);
}

/** The items and their live descendants, level by level (a parent cycle ends at a seen item). */
async function liveDescendants(db: Db, refs: readonly string[]): Promise<Set<string>> {
  const seen = new Set(refs);
  let level = [...seen];
  while (level.length > 0) {
    const rows = await queryRows<{ ref: string }>(
      db,
      sql`select ref from work_items where parent = any(${textArray(level)}::text[]) and deleted_at is null`,
    );
    level = rows.map((r) => r.ref).filter((r) => !seen.has(r));
    for (const r of level) seen.add(r);
  }
  return seen;
}

/**
 * Each live item's epic: the first item of kind `epic` on its way up through live parents,
 * itself for an epic, none when the chain ends (or cycles) without one. Reads the items and
 * their ancestors level by level.
 */
async function nearestEpics(db: Db, refs: readonly string[]): Promise<Map<string, string>> {
  const items = new Map<string, { kind: string; parent: string | null }>();
  let level = [...refs];
  while (level.length > 0) {
    const rows = await queryRows<{ ref: string; kind: string; parent: string | null }>(
      db,
      sql`select ref, kind, parent from work_items where ref = any(${textArray(level)}::text[]) and deleted_at is null`,
    );
    for (const r of rows) items.set(r.ref, { kind: r.kind, parent: r.parent });
    level = [...new Set(rows.filter((r) => r.kind !== EPIC && r.parent && !items.has(r.parent)).map((r) => r.parent!))];
  }
  const out = new Map<string, string>();
  for (const ref of refs) {
    const passed = new Set<string>();
    for (let cur: string | null = ref; cur !== null && !passed.has(cur); ) {
      const item = items.get(cur);
      if (!item) break;
      if (item.kind === EPIC) {
        out.set(ref, cur);
        break;
      }
      passed.add(cur);
      cur = item.parent;
    }
  }
  return out;
}

/** The columns of an item_rollups row from the live work_items row `w` and what is joined to it. */
const COLUMNS = sql`(ref, connection, project, tracker, kind, status_category, due, team, owner_id, owner_name,
  epic, health, child_due, points, start, created, started, resolved, rule_checks, open_error, open_warning, open_info,
  open_rules)`;
const VALUES = sql`w.ref, w.connection, w.project, w.tracker, w.kind, w.status_category, w.due, w.team, w.owner_id,
  w.owner_name, e.epic, r.health, case when w.kind in (${containers}) then cd.due end, w.points, w.start, w.created,
  w.started, w.resolved, ic.rule_checks, coalesce(fc.e, 0), coalesce(fc.wa, 0), coalesce(fc.i, 0),
  coalesce(fc.rules, '{}'::jsonb)`;
const ITEM = sql`work_items.ref, work_items.parent, work_items.connection, work_items.project, work_items.tracker,
  work_items.kind, work_items.status_category, work_items.due, work_items.points, work_items.start, work_items.created,
  work_items.started, work_items.resolved,
  ${teamOf} as team, ${ownerOf}->>'id' as owner_id, ${ownerOf}->>'name' as owner_name`;
const OPEN = sql`count(*) filter (where severity = 'error')::int as e,
  count(*) filter (where severity = 'warning')::int as wa,
  count(*) filter (where severity = 'info')::int as i,
  jsonb_object_agg(rule, severity) as rules`;

/** The rows of the live items in `list` (a text[] literal), with their epics worked out above. */
function someRows(list: string, epics: Map<string, string>): SQL {
  const any = sql`any(${list}::text[])`;
  return sql`insert into item_rollups ${COLUMNS}
    with w as materialized (select ${ITEM} from work_items where work_items.ref = ${any} and work_items.deleted_at is null),
    e(ref, epic) as (select * from unnest(${textArray([...epics.keys()])}::text[], ${textArray([...epics.values()])}::text[])),
    fc as (select ref, ${OPEN} from findings where status = 'open' and ref = ${any} group by ref),
    cd as (
      select parent, max(due) as due from work_items
      where parent = ${any} and deleted_at is null and status_category <> 'removed' group by parent
    ),
    r as (select scope, health from rollups where scope = any(array(select 'epic:' || unnest(${list}::text[])))),
    ic as (select ref, rule_checks from item_checks where ref = ${any})
    select ${VALUES} from w
    left join e on e.ref = w.ref
    left join r on w.kind in (${containers}) and r.scope = 'epic:' || w.ref
    left join cd on cd.parent = w.ref
    left join ic on ic.ref = w.ref
    left join fc on fc.ref = w.ref`;
}

/**
 * Every live item's row. The epics come down from every epic through live children that are
 * not epics: an item's single parent chain meets exactly one such epic first, the one
 * nearestEpics finds going up, and each item is visited once rather than once per level.
 */
function allRows(): SQL {
  return sql`insert into item_rollups ${COLUMNS}
    with recursive
    w as materialized (select ${ITEM} from work_items where work_items.deleted_at is null),
    e(ref, epic) as (
      select ref, ref from w where kind = ${EPIC}
      union all
      select c.ref, d.epic from e d join w c on c.parent = d.ref where c.kind <> ${EPIC}
    ),
    fc as (select ref, ${OPEN} from findings where status = 'open' group by ref),
    cd as (select parent, max(due) as due from w where status_category <> 'removed' and parent is not null group by parent)
    select ${VALUES} from w
    left join e on e.ref = w.ref
    left join rollups r on w.kind in (${containers}) and r.scope = 'epic:' || w.ref
    left join cd on cd.parent = w.ref
    left join item_checks ic on ic.ref = w.ref
    left join fc on fc.ref = w.ref
    order by w.ref`;
}
