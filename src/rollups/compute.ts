// Recomputes rollups for the scopes a change can affect and stores them with a daily snapshot.
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { coversMostItems, inList } from '../../db/query.ts';
import { forecasts, rollups } from '../../db/schema.ts';
import { hashOf } from '../core/hash.ts';
import { refreshBurnUps } from '../forecast/burnup.ts';
import { buildRollup, type HealthThresholds, type Rollup } from './health.ts';
import { refreshItemRollups } from './items.ts';
import { aggregateScopes, ancestorContainers, type ProgramMembership } from './sql.ts';

export interface RecomputeOptions {
  now: Date;
  programs: ProgramMembership[];
  thresholds: HealthThresholds;
  /** Items that changed: only their ancestor epics are recomputed. All epics when undefined. */
  changedRefs?: string[];
  /** Project, program and portfolio scopes too (default true; a full pass always does them). */
  aggregates?: boolean;
}

export interface RecomputeResult {
  rollups: Rollup[];
  /** Epic rollups whose stored value changed (write-back re-renders their comments). */
  changedEpics: string[];
}

export async function recomputeRollups(db: Db, opts: RecomputeOptions): Promise<RecomputeResult> {
  // Time-dependent figures (schedule index, overdue, days late) move by the day, not by the
  // second: two passes on the same day compute the same rollup, so an epic's comment is not
  // rewritten on every sync just because a few minutes passed.
  const computedAt = opts.now.toISOString();
  const today = new Date(opts.now);
  today.setUTCHours(0, 0, 0, 0);
  opts = { ...opts, now: today };
  // Every epic when the change set covers most items: climbing from each changed item to its
  // containers would cost more than recomputing them all.
  const epicRoots =
    opts.changedRefs === undefined || (await coversMostItems(db, opts.changedRefs))
      ? undefined
      : await ancestorContainers(db, opts.changedRefs);
  const withAggregates = opts.changedRefs === undefined || opts.aggregates !== false;
  const aggregates = await aggregateScopes(db, {
    now: opts.now,
    programs: opts.programs,
    epicRoots,
    aggregates: withAggregates,
  });
  // Open epics with a target can be amber for their forecast (health rule forecast-on-time):
  // the stored forecasts are read for those alone, by the scope name both tables share.
  const judged = aggregates
    .filter(
      (a) => a.scope.startsWith('epic:') && a.targetDate && (a.selfStatus === 'todo' || a.selfStatus === 'in_progress'),
    )
    .map((a) => a.scope);
  const forecastOf = new Map(
    judged.length === 0
      ? []
      : (
          await db
            .select({ scope: forecasts.scope, p85: forecasts.p85, onTimeProbability: forecasts.onTimeProbability })
            .from(forecasts)
            .where(inList(forecasts.scope, judged))
        ).map((f) => [f.scope, f]),
  );
  const computed = aggregates.map((a) => buildRollup(a, opts.thresholds, opts.now, forecastOf.get(a.scope)));
  const previous = new Map(
    (
      await db
        .select({
          scope: rollups.scope,
          health: rollups.health,
          reason: rollups.healthReason,
          pc: rollups.percentComplete,
          metrics: rollups.metrics,
        })
        .from(rollups)
        .where(
          inList(
            rollups.scope,
            computed.filter((r) => r.kind === 'epic').map((r) => r.scope),
          ),
        )
    ).map((r) => [r.scope, r]),
  );
  const day = computedAt.slice(0, 10);
  // Rows travel as one jsonb parameter per chunk, as in store.ts.
  for (let i = 0; i < computed.length; i += 5000) {
    const records = JSON.stringify(
      computed.slice(i, i + 5000).map((r) => ({
        scope: r.scope,
        kind: r.kind,
        percent_complete: r.percentComplete,
        health: r.health,
        health_reason: r.healthReason,
        metrics: r.metrics,
      })),
    );
    await db.execute(sql`insert into rollups (scope, kind, percent_complete, health, health_reason, metrics, computed_at)
      select scope, kind, percent_complete, health, health_reason, metrics, ${computedAt}::timestamptz
      from jsonb_to_recordset(${records}::jsonb)
        as x(scope text, kind text, percent_complete float8, health text, health_reason text, metrics jsonb)
      on conflict (scope) do update set kind = excluded.kind, percent_complete = excluded.percent_complete,
        health = excluded.health, health_reason = excluded.health_reason, metrics = excluded.metrics,
        computed_at = excluded.computed_at`);
    await db.execute(sql`insert into rollup_snapshots (day, scope, percent_complete, health, metrics)
      select ${day}::date, scope, percent_complete, health, metrics
      from jsonb_to_recordset(${records}::jsonb)
        as x(scope text, percent_complete float8, health text, metrics jsonb)
      on conflict (day, scope) do update set percent_complete = excluded.percent_complete,
        health = excluded.health, metrics = excluded.metrics`);
  }
  if (epicRoots === undefined && withAggregates) {
    // Every scope was computed: drop rollups of epics and scopes that are gone.
    const keep = computed.map((r) => r.scope);
    await db.delete(rollups).where(sql`not (${inList(rollups.scope, keep)})`);
  } else {
    const present = new Set(computed.map((c) => c.scope));
    const gone = (epicRoots ?? []).map((r) => `epic:${r}`).filter((s) => !present.has(s));
    if (gone.length > 0) await db.delete(rollups).where(inList(rollups.scope, gone));
  }
  // Each item's own roll-up reads the rollups just stored (a container's health).
  await refreshItemRollups(db, { refs: epicRoots === undefined ? undefined : opts.changedRefs, containers: epicRoots });
  // The programs' burn-ups read the leaves' rows just stored, as the program rollups read every item.
  if (withAggregates) await refreshBurnUps(db, { programs: opts.programs, now: new Date(computedAt) });
  const changedEpics = computed
    .filter((r) => r.kind === 'epic')
    .filter((r) => {
      const p = previous.get(r.scope);
      // Every figure the epic's comment shows counts, not only its health and progress: a
      // child started moves "in progress" alone, and the comment must follow.
      return (
        !p ||
        p.health !== r.health ||
        p.reason !== r.healthReason ||
        p.pc !== r.percentComplete ||
        hashOf(p.metrics) !== hashOf(r.metrics)
      );
    })
    .map((r) => r.scope.slice(5));
  return { rollups: computed, changedEpics };
}
