// The headline of a filter — epics by health, overdue epics, items, open findings, compliance —
// counted from item_rollups (src/rollups/items.ts), one narrow row per live item, in one pass
// grouped by tracker project: a program's headline is the sum of its projects' groups, so the
// portfolio and every program row of the Programs table come from the same pass.
import { and, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { itemRollups } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import { ITEM_ROLLUP_SCOPE, type ScopeFilter, scopeCondition } from '../http/scope.ts';
import { compliance, dayOf, EPIC_KIND } from './metrics.ts';

export interface Headline {
  epics: { total: number; green: number; amber: number; red: number };
  compliance: number | null;
  overdueEpics: number;
  openFindings: number;
  items: number;
}

/** The headline's sums over the items of one tracker project under a filter. */
export interface HeadlineGroup {
  connection: string;
  project: string;
  items: number;
  /** Open epics past their own target date (metrics.ts isOverdue), as of today (UTC). */
  overdueEpics: number;
  /** Applicable rule checks, or null when no item of the group was evaluated. */
  checks: number | null;
  /** Open findings, and those of them on evaluated items (the failed checks). */
  open: number;
  failed: number;
  epics: number;
  green: number;
  amber: number;
  red: number;
}

const r = itemRollups;
const open = sql`(${r.openError} + ${r.openWarning} + ${r.openInfo})`;

/**
 * The headline's figures for a filter, one group per tracker project with items in it: the
 * item figures from every item's row, the epic figures from the epics' (an index-only read of
 * item_rollups_container_idx), so the pass over every item computes four sums, not eleven.
 */
export async function loadHeadlineGroups(
  db: Db,
  config: Config | null,
  f: ScopeFilter,
  now: Date,
): Promise<HeadlineGroup[]> {
  const today = dayOf(now).toISOString();
  const where = scopeCondition(config, f, ITEM_ROLLUP_SCOPE);
  const [items, epics] = await Promise.all([
    db
      .select({
        connection: r.connection,
        project: r.project,
        items: sql<number>`count(*)::int`,
        checks: sql<number | null>`sum(${r.ruleChecks})::int`,
        open: sql<number>`coalesce(sum(${open}), 0)::int`,
        failed: sql<number>`coalesce(sum(${open}) filter (where ${r.ruleChecks} is not null), 0)::int`,
      })
      .from(r)
      .where(where)
      .groupBy(r.connection, r.project),
    db
      .select({
        connection: r.connection,
        project: r.project,
        overdueEpics: sql<number>`count(*) filter (where ${r.statusCategory} in ('todo', 'in_progress') and ${r.due} < ${today}::timestamptz)::int`,
        epics: sql<number>`count(*) filter (where ${r.statusCategory} <> 'removed')::int`,
        green: sql<number>`count(*) filter (where ${r.statusCategory} <> 'removed' and ${r.health} = 'green')::int`,
        amber: sql<number>`count(*) filter (where ${r.statusCategory} <> 'removed' and ${r.health} = 'amber')::int`,
        red: sql<number>`count(*) filter (where ${r.statusCategory} <> 'removed' and ${r.health} = 'red')::int`,
      })
      .from(r)
      .where(and(inArray(r.kind, [EPIC_KIND]), where))
      .groupBy(r.connection, r.project),
  ]);
  const key = (g: { connection: string; project: string }) => `${g.connection}\n${g.project}`;
  const epicsOf = new Map(epics.map((e) => [key(e), e]));
  return items.map((g) => {
    const e = epicsOf.get(key(g));
    return {
      connection: g.connection,
      project: g.project,
      items: Number(g.items),
      overdueEpics: Number(e?.overdueEpics ?? 0),
      checks: g.checks === null ? null : Number(g.checks),
      open: Number(g.open),
      failed: Number(g.failed),
      epics: Number(e?.epics ?? 0),
      green: Number(e?.green ?? 0),
      amber: Number(e?.amber ?? 0),
      red: Number(e?.red ?? 0),
    };
  });
}

/**
 * The headline of the groups, or of those of the given projects (a program's). Compliance is
 * the rollups' formula over the summed checks, so with no filter it equals the portfolio
 * rollup's.
 */
export function sumHeadline(
  groups: readonly HeadlineGroup[],
  projects?: readonly { connection: string; project: string }[],
): Headline {
  const wanted = projects && new Set(projects.map((p) => `${p.connection}\n${p.project}`));
  const s = { items: 0, overdue: 0, checks: null as number | null, open: 0, failed: 0, total: 0, g: 0, a: 0, r: 0 };
  for (const g of groups) {
    if (wanted && !wanted.has(`${g.connection}\n${g.project}`)) continue;
    s.items += g.items;
    s.overdue += g.overdueEpics;
    if (g.checks !== null) s.checks = (s.checks ?? 0) + g.checks;
    s.open += g.open;
    s.failed += g.failed;
    s.total += g.epics;
    s.g += g.green;
    s.a += g.amber;
    s.r += g.red;
  }
  return {
    epics: { total: s.total, green: s.g, amber: s.a, red: s.r },
    compliance: compliance(s.checks, s.failed),
    overdueEpics: s.overdue,
    openFindings: s.open,
    items: s.items,
  };
}

/**
 * The headline for a scope filter: it summarizes exactly the rows loadEpics lists for the same
 * filter (items of kind `epic`, not removed), by the definitions of src/workspace/metrics.ts —
 * `overdueEpics` is those rows with `overdue`, the health counts those rows by health.
 */
export async function loadHeadline(db: Db, config: Config | null, f: ScopeFilter, now: Date): Promise<Headline> {
  return sumHeadline(await loadHeadlineGroups(db, config, f, now));
}
