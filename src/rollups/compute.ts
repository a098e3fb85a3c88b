// Recomputes rollups for the scopes a change can affect and stores them with a daily snapshot.
import { and, inArray, like, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { rollupSnapshots, rollups } from '../../db/schema.ts';
import { buildRollup, type HealthThresholds, type Rollup } from './health.ts';
import { aggregateScopes, ancestorContainers, type ProgramMembership } from './sql.ts';

export interface RecomputeOptions {
  now: Date;
  programs: ProgramMembership[];
  thresholds: HealthThresholds;
  /** Items that changed: only their ancestor epics are recomputed. All epics when undefined. */
  changedRefs?: string[];
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
  const epicRoots = opts.changedRefs === undefined ? undefined : await ancestorContainers(db, opts.changedRefs);
  const aggregates = await aggregateScopes(db, { now: opts.now, programs: opts.programs, epicRoots });
  const computed = aggregates.map((a) => buildRollup(a, opts.thresholds, opts.now));
  const previous = new Map(
    (
      await db
        .select({
          scope: rollups.scope,
          health: rollups.health,
          reason: rollups.healthReason,
          pc: rollups.percentComplete,
        })
        .from(rollups)
        .where(
          inArray(
            rollups.scope,
            computed.filter((r) => r.kind === 'epic').map((r) => r.scope),
          ),
        )
    ).map((r) => [r.scope, r]),
  );
  const day = computedAt.slice(0, 10);
  for (let i = 0; i < computed.length; i += 500) {
    const chunk = computed.slice(i, i + 500);
    await db
      .insert(rollups)
      .values(
        chunk.map((r) => ({
          scope: r.scope,
          kind: r.kind,
          percentComplete: r.percentComplete,
          health: r.health,
          healthReason: r.healthReason,
          metrics: r.metrics as unknown as Record<string, unknown>,
          computedAt,
        })),
      )
      .onConflictDoUpdate({
        target: rollups.scope,
        set: {
          kind: sql`excluded.kind`,
          percentComplete: sql`excluded.percent_complete`,
          health: sql`excluded.health`,
          healthReason: sql`excluded.health_reason`,
          metrics: sql`excluded.metrics`,
          computedAt: sql`excluded.computed_at`,
        },
      });
    await db
      .insert(rollupSnapshots)
      .values(
        chunk.map((r) => ({
          day,
          scope: r.scope,
          percentComplete: r.percentComplete,
          health: r.health,
          metrics: r.metrics as unknown as Record<string, unknown>,
        })),
      )
      .onConflictDoUpdate({
        target: [rollupSnapshots.day, rollupSnapshots.scope],
        set: {
          percentComplete: sql`excluded.percent_complete`,
          health: sql`excluded.health`,
          metrics: sql`excluded.metrics`,
        },
      });
  }
  if (opts.changedRefs === undefined) {
    // A full pass knows every scope that exists: drop rollups of epics and scopes that are gone.
    const keep = computed.map((r) => r.scope);
    await db.delete(rollups).where(keep.length > 0 ? notInArray(rollups.scope, keep) : like(rollups.scope, '%'));
  } else {
    const gone = (epicRoots ?? []).map((r) => `epic:${r}`).filter((s) => !computed.some((c) => c.scope === s));
    if (gone.length > 0) await db.delete(rollups).where(and(inArray(rollups.scope, gone)));
  }
  const changedEpics = computed
    .filter((r) => r.kind === 'epic')
    .filter((r) => {
      const p = previous.get(r.scope);
      return !p || p.health !== r.health || p.reason !== r.healthReason || p.pc !== r.percentComplete;
    })
    .map((r) => r.scope.slice(5));
  return { rollups: computed, changedEpics };
}
