// Baselines: each open epic's (and feature's) target, P85 and scope captured under a name, now or
// as of a past date reconstructed from the trackers' history (status, target date and parent as
// they were then); slip (target and forecast against the baseline) and scope change (items added
// or removed since) read against one.
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { baselineItems, baselines, forecasts } from '../../db/schema.ts';
import { UsageError } from '../core/errors.ts';
import type { ProgramMembership } from '../rollups/sql.ts';
import { type ForecastSettings, forecastAll, loadFlowItems } from './compute.ts';
import { dayNumber } from './forecaster.ts';
import { categoryAt, FLOW_KINDS, itemsAsOf, leavesByContainer } from './throughput.ts';

export interface BaselineSummary {
  id: number;
  name: string;
  program: string | null;
  asOf: string;
  epics: number;
}

export async function createBaseline(
  db: Db,
  opts: {
    name: string;
    program?: string | null;
    /** The instant it describes; omitted: now (then the stored forecasts are used). */
    asOf?: Date;
    now: Date;
    programs: readonly ProgramMembership[];
    settings: Pick<ForecastSettings, 'trials' | 'windowWeeks' | 'teams'>;
  },
): Promise<BaselineSummary> {
  const name = opts.name.trim();
  if (!name) throw new UsageError('a baseline needs a name');
  const program = opts.program ? opts.programs.find((p) => p.id === opts.program) : null;
  if (opts.program && !program)
    throw new UsageError(
      `unknown program "${opts.program}" (configured: ${opts.programs.map((p) => p.id).join(', ') || 'none'})`,
    );
  const [exists] = await db.select({ id: baselines.id }).from(baselines).where(eq(baselines.name, name));
  if (exists) throw new UsageError(`a baseline named "${name}" exists already (pick another name)`);
  const at = opts.asOf ?? opts.now;
  const t = at.getTime();
  // As of a past date: every item's target and parent as they were then, not as they are.
  const stored = await loadFlowItems(db, { teams: opts.settings.teams, asOf: opts.asOf !== undefined });
  const items = opts.asOf ? itemsAsOf(stored, t) : stored;
  const inProgram = (project: string) =>
    !program || program.include.some((inc) => `${inc.connection}:${inc.project}` === project);
  const leaves = leavesByContainer(items);
  // P85 as it was: the stored forecasts for now, a re-run from the history known then otherwise.
  const p85 = new Map<string, string | null>();
  if (opts.asOf) {
    for (const s of forecastAll(items, { at, programs: [], settings: opts.settings }).scopes)
      p85.set(s.scope, s.forecast.p85);
  } else {
    for (const f of await db.select({ scope: forecasts.scope, p85: forecasts.p85 }).from(forecasts))
      p85.set(f.scope, f.p85);
  }
  const rows = items
    .filter((it) => (it.kind === 'epic' || it.kind === 'feature') && inProgram(it.project ?? it.team))
    .filter((it) => {
      const c = categoryAt(it, t);
      return c === 'todo' || c === 'in_progress';
    })
    .map((it) => ({
      ref: it.ref,
      target: it.due,
      p85: p85.get(`epic:${it.ref}`) ?? null,
      scope: (leaves.get(it.ref) ?? [])
        .filter((l) => FLOW_KINDS.has(l.kind))
        .filter((l) => {
          const c = categoryAt(l, t);
          return c !== null && c !== 'removed';
        })
        .map((l) => l.ref)
        .sort(),
    }));
  return db.transaction(async (tx) => {
    const [b] = await tx
      .insert(baselines)
      .values({ name, program: program?.id ?? null, asOf: at.toISOString(), createdAt: opts.now.toISOString() })
      .returning({ id: baselines.id });
    for (let i = 0; i < rows.length; i += 500)
      await tx.insert(baselineItems).values(rows.slice(i, i + 500).map((r) => ({ ...r, baselineId: b!.id })));
    return { id: b!.id, name, program: program?.id ?? null, asOf: at.toISOString(), epics: rows.length };
  });
}

export async function listBaselines(db: Db): Promise<Omit<BaselineSummary, 'epics'>[]> {
  return (await db.select().from(baselines).orderBy(asc(baselines.id))).map((b) => ({
    id: b.id,
    name: b.name,
    program: b.program,
    asOf: b.asOf,
  }));
}

export interface SlipRow {
  ref: string;
  baselineTarget: string | null;
  target: string | null;
  /** Days the target moved since the baseline (later is positive); null without both. */
  targetSlipDays: number | null;
  baselineP85: string | null;
  p85: string | null;
  forecastSlipDays: number | null;
  /** Leaf items in scope now that were not in the baseline, and the other way round. */
  added: string[];
  removed: string[];
  /** The epic is no longer open (done or gone). */
  closed: boolean;
}

export async function slipAgainst(
  db: Db,
  name: string,
): Promise<{ baseline: Omit<BaselineSummary, 'epics'>; rows: SlipRow[] }> {
  const [b] = await db.select().from(baselines).where(eq(baselines.name, name));
  if (!b) throw new UsageError(`no baseline named "${name}" (pmo-sync baseline list shows them)`);
  const captured = await db.select().from(baselineItems).where(eq(baselineItems.baselineId, b.id));
  const items = await loadFlowItems(db);
  const byRef = new Map(items.map((i) => [i.ref, i]));
  const leaves = leavesByContainer(items);
  const refs = captured.map((c) => `epic:${c.ref}`);
  const now = new Map<string, string | null>();
  for (let i = 0; i < refs.length; i += 1000) {
    const rows = await db
      .select({ scope: forecasts.scope, p85: forecasts.p85 })
      .from(forecasts)
      .where(and(inArray(forecasts.scope, refs.slice(i, i + 1000))));
    for (const r of rows) now.set(r.scope, r.p85);
  }
  const diff = (a: string | null, b: string | null) => (a && b ? dayNumber(b) - dayNumber(a) : null);
  const rows = captured.map((c): SlipRow => {
    const it = byRef.get(c.ref);
    const scopeNow = new Set(
      (leaves.get(c.ref) ?? [])
        .filter((l) => FLOW_KINDS.has(l.kind) && l.statusCategory !== 'removed')
        .map((l) => l.ref),
    );
    const then = new Set(c.scope);
    const p85 = now.get(`epic:${c.ref}`) ?? null;
    return {
      ref: c.ref,
      baselineTarget: c.target,
      target: it?.due ?? null,
      targetSlipDays: diff(c.target, it?.due ?? null),
      baselineP85: c.p85,
      p85,
      forecastSlipDays: diff(c.p85, p85),
      added: [...scopeNow].filter((r) => !then.has(r)).sort(),
      removed: [...then].filter((r) => !scopeNow.has(r)).sort(),
      closed: !it || it.statusCategory === 'done' || it.statusCategory === 'removed',
    };
  });
  return { baseline: { id: b.id, name: b.name, program: b.program, asOf: b.asOf }, rows };
}
