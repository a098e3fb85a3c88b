// Forecasts for every open epic, feature, project and program, stored in `forecasts`: items and
// their histories are read, team flow computed (team_flow), each scope's inputs drawn up and
// simulated — only when its inputs changed since the stored forecast — and the values write-back
// shows moved only past a threshold, so a stable forecast writes nothing.
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { inList, queryRows } from '../../db/query.ts';
import { forecasts, itemHistory, teamFlow, workItems } from '../../db/schema.ts';
import type { ForecastConfig, ForecastTeam } from '../config/schema.ts';
import { hashOf } from '../core/hash.ts';
import { makeRef } from '../core/work-item.ts';
import { areaPathOf, teamOf } from '../http/scope.ts';
import type { ProgramMembership } from '../rollups/sql.ts';
import { boardsByRef } from './boards.ts';
import { dayNumber, dayString, type Forecast, forecast, seedFor } from './forecaster.ts';
import { teamFor } from './teams.ts';
import {
  CONTAINER_KINDS,
  categoryAt,
  FLOW_KINDS,
  type FlowItem,
  leavesByContainer,
  openLeavesByTeam,
  type ScopeInputs,
  scopeInputs,
  startedAt,
  type TeamFlowFigures,
  type TeamLoad,
  teamFlowOf,
} from './throughput.ts';

export type ForecastSettings = Pick<ForecastConfig, 'trials' | 'windowWeeks' | 'p85MoveDays' | 'onTimeMove'> &
  Partial<Pick<ForecastConfig, 'teams'>>;

export interface ScopeForecast {
  scope: string;
  kind: string;
  target: string | null;
  inputs: ScopeInputs;
  forecast: Forecast;
}

/**
 * Reads every stored item with its history, as the flow functions take them, each with its team
 * (src/forecast/teams.ts). Labels, fields and boards are read only when a configured team matches on them,
 * target date and parent histories only when asked (`asOf`: something looks at a past instant).
 */
export async function loadFlowItems(
  db: Db,
  opts: { teams?: readonly ForecastTeam[]; asOf?: boolean } = {},
): Promise<FlowItem[]> {
  const teams = opts.teams ?? [];
  const needLabels = teams.some((t) => t.match.label !== undefined);
  const needFields = teams.some((t) => t.match.field !== undefined);
  const boards = teams.some((t) => t.match.board !== undefined) ? await boardsByRef(db) : null;
  const rows = await queryRows<{
    ref: string;
    connection: string;
    project: string;
    kind: string;
    parent: string | null;
    status_category: string;
    points: number | null;
    created: string;
    started: string | null;
    resolved: string | null;
    due: string | null;
    transitions: [number, string][] | null;
    team_of: string | null;
    area_path: string | null;
    labels: string[] | string | null;
    fields: Record<string, unknown> | string | null;
    due_changes: [number, string | null][] | string | null;
    parent_changes: [number, string | null][] | string | null;
  }>(
    db,
    // No alias for work_items: teamOf and areaPathOf name its columns by the table's own name.
    sql`select work_items.ref, work_items.connection, work_items.project, work_items.kind, work_items.parent,
               work_items.status_category, work_items.points, work_items.created, work_items.started,
               work_items.resolved, work_items.due, h.transitions,
               ${teamOf} as team_of,
               ${areaPathOf} as area_path,
               ${needLabels ? sql`work_items.labels` : sql`null`} as labels,
               ${needFields ? sql`work_items.fields` : sql`null`} as fields,
               ${opts.asOf ? sql`h.due_changes` : sql`null`} as due_changes,
               ${opts.asOf ? sql`h.parent_changes` : sql`null`} as parent_changes
        from ${workItems} left join ${itemHistory} h on h.ref = work_items.ref
        where work_items.deleted_at is null`,
  );
  const json = <T>(v: T | string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
  return rows.map((r) => ({
    ref: r.ref,
    team: teamFor(
      {
        connection: r.connection,
        project: r.project,
        areaPath: r.area_path,
        labels: json(r.labels) ?? [],
        fields: json(r.fields) ?? {},
        teamOf: r.team_of,
        boards: boards?.get(r.ref),
      },
      teams,
    ),
    project: `${r.connection}:${r.project}`,
    kind: r.kind,
    parent: r.parent,
    statusCategory: r.status_category,
    points: r.points,
    created: new Date(r.created).toISOString(),
    started: r.started && new Date(r.started).toISOString(),
    resolved: r.resolved && new Date(r.resolved).toISOString(),
    due: r.due && new Date(r.due).toISOString().slice(0, 10),
    transitions: json(r.transitions),
    ...(opts.asOf && {
      dueChanges: json(r.due_changes),
      parentChanges: json(r.parent_changes)?.map(([m, key]) => [m, key === null ? null : makeRef(r.connection, key)]),
    }),
  }));
}

/**
 * The forecasts of every open container, project and program as they stood at `at`, from the
 * items and the history known then (today's forecasts, or a backtest's). `previous` lets inputs
 * that did not change keep their stored answer instead of being simulated again.
 */
export function forecastAll(
  items: readonly FlowItem[],
  opts: {
    at: Date;
    programs: readonly ProgramMembership[];
    settings: Pick<ForecastSettings, 'trials' | 'windowWeeks'>;
    previous?: ReadonlyMap<string, { inputsHash: string; forecast: Forecast }>;
  },
): { flow: Map<string, TeamFlowFigures>; scopes: (ScopeForecast & { inputsHash: string })[] } {
  const t = opts.at.getTime();
  const today = dayString(Math.floor(t / 86_400_000));
  const weeks = opts.settings.windowWeeks;
  const flow = teamFlowOf(items, t, weeks);
  const leaves = leavesByContainer(items);
  const load = teamLoadAt(items, leaves, t);
  const subjects: { scope: string; kind: string; target: string | null; leaves: FlowItem[] }[] = [];
  for (const it of items) {
    if (!CONTAINER_KINDS.has(it.kind)) continue;
    const c = categoryAt(it, t);
    if (c !== 'todo' && c !== 'in_progress') continue;
    subjects.push({ scope: `epic:${it.ref}`, kind: it.kind, target: it.due, leaves: leaves.get(it.ref) ?? [] });
  }
  // Projects and programs are scopes of tracker projects, whatever team does their work.
  const byProject = new Map<string, FlowItem[]>();
  for (const it of items) {
    if (!FLOW_KINDS.has(it.kind)) continue;
    const key = it.project ?? it.team;
    const list = byProject.get(key) ?? [];
    list.push(it);
    byProject.set(key, list);
  }
  for (const [project, list] of byProject)
    subjects.push({ scope: `project:${project}`, kind: 'project', target: null, leaves: list });
  for (const p of opts.programs) {
    const list = p.include.flatMap((inc) => byProject.get(`${inc.connection}:${inc.project}`) ?? []);
    subjects.push({ scope: `program:${p.id}`, kind: 'program', target: null, leaves: list });
  }
  const scopes = subjects.map((s) => {
    const inputs = scopeInputs(s.leaves, flow, load, t, weeks);
    const inputsHash = hashOf([
      today,
      s.target,
      inputs.remaining,
      inputs.ahead,
      inputs.unit,
      inputs.series,
      opts.settings.trials,
    ]);
    const prior = opts.previous?.get(s.scope);
    const f =
      prior && prior.inputsHash === inputsHash
        ? prior.forecast
        : s.leaves.length === 0
          ? emptyForecast(opts.settings.trials)
          : {
              ...forecast({
                remaining: inputs.remaining > 0 ? inputs.remaining + inputs.ahead : 0,
                unit: inputs.unit,
                weeklyThroughput: inputs.series,
                today,
                target: s.target,
                trials: opts.settings.trials,
                seed: seedFor(s.scope),
              }),
              remaining: inputs.remaining,
            };
    return { scope: s.scope, kind: s.kind, target: s.target, inputs, forecast: f, inputsHash };
  });
  return { flow, scopes };
}

/** Open leaves per team, and those of them in started scopes (containers with a started leaf). */
function teamLoadAt(items: readonly FlowItem[], leaves: ReadonlyMap<string, FlowItem[]>, t: number): TeamLoad {
  const open = openLeavesByTeam(items, t);
  const inStarted = new Set<FlowItem>();
  const isOpen = (l: FlowItem) => {
    const c = categoryAt(l, t);
    return c === 'todo' || c === 'in_progress';
  };
  const contained = new Set<FlowItem>();
  for (const list of leaves.values()) {
    for (const l of list) contained.add(l);
    if (!list.some((l) => startedAt(l, t) !== null)) continue;
    for (const l of list) if (isOpen(l)) inStarted.add(l);
  }
  // Loose work in progress (under no container) is started work too.
  for (const it of items)
    if (FLOW_KINDS.has(it.kind) && !contained.has(it) && categoryAt(it, t) === 'in_progress') inStarted.add(it);
  const started = new Map<string, { items: number; points: number }>();
  for (const l of inStarted) {
    const s = started.get(l.team) ?? { items: 0, points: 0 };
    s.items += 1;
    s.points += l.points ?? 0;
    started.set(l.team, s);
  }
  return { open, started };
}

function emptyForecast(trials: number): Forecast {
  return {
    status: 'no-history',
    confidence: 'low',
    unit: 'items',
    remaining: 0,
    trials,
    weeksOfHistory: 0,
    p50: null,
    p85: null,
    p95: null,
    onTimeProbability: null,
    reason: 'no work items under it to forecast from',
  };
}

/** On-time probability as write-back shows it: 5% steps. */
export const roundOnTime = (p: number | null) => (p === null ? null : Math.round(p * 20) / 20);

/**
 * What write-back shows: the new value when it moved past the threshold from what is shown,
 * else what is shown. A stable forecast (or one that drifts a day as the calendar moves) keeps
 * its published values, so it causes no write.
 */
export function publish(
  f: Pick<Forecast, 'p85' | 'onTimeProbability'>,
  shown: { p85: string | null; onTime: number | null } | undefined,
  s: Pick<ForecastSettings, 'p85MoveDays' | 'onTimeMove'>,
): { p85: string | null; onTime: number | null } {
  let p85 = f.p85;
  if (
    shown &&
    shown.p85 !== null &&
    f.p85 !== null &&
    Math.abs(dayNumber(f.p85) - dayNumber(shown.p85)) < s.p85MoveDays
  )
    p85 = shown.p85;
  let onTime = roundOnTime(f.onTimeProbability);
  if (
    shown &&
    shown.onTime !== null &&
    f.onTimeProbability !== null &&
    Math.abs(f.onTimeProbability - shown.onTime) <= s.onTimeMove
  )
    onTime = shown.onTime;
  return { p85, onTime };
}

export interface RefreshResult {
  scopes: number;
  simulated: number;
  teams: number;
  /** Containers whose published forecast changed: their rules and write-back need another look. */
  changedRefs: string[];
}

export async function refreshForecasts(
  db: Db,
  opts: { now: Date; programs: readonly ProgramMembership[]; settings: ForecastSettings },
): Promise<RefreshResult> {
  const items = await loadFlowItems(db, { teams: opts.settings.teams });
  const stored = await db.select().from(forecasts);
  const previous = new Map(stored.map((r) => [r.scope, { inputsHash: r.inputsHash, forecast: rowForecast(r) }]));
  const shown = new Map(stored.map((r) => [r.scope, { p85: r.publishedP85, onTime: r.publishedOnTime }]));
  const { flow, scopes } = forecastAll(items, {
    at: opts.now,
    programs: opts.programs,
    settings: opts.settings,
    previous,
  });
  const changedRefs: string[] = [];
  let simulated = 0;
  const rows = scopes.map((s) => {
    const before = shown.get(s.scope);
    const pub = publish(s.forecast, before, opts.settings);
    if (s.scope.startsWith('epic:') && (!before || before.p85 !== pub.p85 || before.onTime !== pub.onTime))
      changedRefs.push(s.scope.slice(5));
    if (previous.get(s.scope)?.inputsHash !== s.inputsHash) simulated++;
    const f = s.forecast;
    return {
      scope: s.scope,
      kind: s.kind,
      status: f.status,
      confidence: f.confidence,
      unit: f.unit,
      remaining: f.remaining,
      basis: s.inputs.basis,
      p50: f.p50,
      p85: f.p85,
      p95: f.p95,
      target: s.target,
      onTimeProbability: f.onTimeProbability,
      weeksOfHistory: f.weeksOfHistory,
      reason: f.reason,
      publishedP85: pub.p85,
      publishedOnTime: pub.onTime,
      inputsHash: s.inputsHash,
      computedAt: opts.now.toISOString(),
    };
  });
  await db.transaction(async (tx) => {
    const keep = new Set(rows.map((r) => r.scope));
    const gone = stored.map((r) => r.scope).filter((s) => !keep.has(s));
    for (let i = 0; i < gone.length; i += 1000)
      await tx.delete(forecasts).where(inList(forecasts.scope, gone.slice(i, i + 1000)));
    for (let i = 0; i < rows.length; i += 500) {
      await tx
        .insert(forecasts)
        .values(rows.slice(i, i + 500))
        .onConflictDoUpdate({
          target: forecasts.scope,
          set: Object.fromEntries(
            Object.keys(rows[0]!)
              .filter((k) => k !== 'scope')
              .map((k) => [k, sql.raw(`excluded.${snake(k)}`)]),
          ),
        });
    }
    await tx.delete(teamFlow);
    const teams = [...flow.values()].map((f) => ({
      team: f.team,
      weeks: f.weeks.starts.map((s, i) => ({
        week: new Date(s).toISOString().slice(0, 10),
        items: f.weeks.items[i]!,
        points: f.weeks.points[i]!,
      })),
      cycleTime: f.cycleTimeDays,
      computedAt: opts.now.toISOString(),
    }));
    for (let i = 0; i < teams.length; i += 500) await tx.insert(teamFlow).values(teams.slice(i, i + 500));
  });
  return { scopes: rows.length, simulated, teams: flow.size, changedRefs };
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function rowForecast(r: typeof forecasts.$inferSelect): Forecast {
  return {
    status: r.status as Forecast['status'],
    confidence: r.confidence as Forecast['confidence'],
    unit: r.unit as Forecast['unit'],
    remaining: r.remaining,
    trials: 0,
    weeksOfHistory: r.weeksOfHistory,
    p50: r.p50,
    p85: r.p85,
    p95: r.p95,
    onTimeProbability: r.onTimeProbability,
    reason: r.reason,
  };
}
