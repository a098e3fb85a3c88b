// One sync pass, top-down. Steps 1–2 run per connection, side by side; 3 outside any
// transaction; 4–6 in one transaction (the transactional outbox: a write is planned exactly when
// the findings it reflects are committed); 7 once that commits.
//   1. pull     each connection's changes from its cursor                       pull.ts
//   2. store    behind the pull, in batches; deletions swept when asked         pull.ts, store.ts
//   3. history  status histories and forecasts (pipeline.history)               src/forecast/
//   4. evaluate the rules over what changed and what depends on it              steps.ts evaluate
//   5. roll up  epics above what changed, then projects, programs, portfolio    steps.ts rollUp
//   6. plan     each item's desired comment, labels and fields into the outbox  steps.ts plan
//   7. send     the planned writes (enforce mode, when asked)                   pipeline.send
// A large change set (a first sync, a full pass) takes steps 4–6 through first-sync.ts.
// The webhook processor stores its own items, then ends with the same commitChanges.
import { eq } from 'drizzle-orm';
import type { Connector } from '../../connectors/types.ts';
import type { Database, Db } from '../../db/client.ts';
import { syncRuns } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { splitRef } from '../core/work-item.ts';
import { count } from '../util/plural.ts';
import { countDryRunPlans, hasDryRunPlans } from '../writeback/plan.ts';
import { commitLargeChange, isLargeChange } from './first-sync.ts';
import type { SyncPhase, SyncProgress } from './phases.ts';
import type { SyncPipeline } from './pipeline.ts';
import { type PullOptions, pullConnection } from './pull.ts';
import type { QuarantinedItem } from './quarantine.ts';
import { evaluate, failures, plan, rollUp, settle, takeQueue } from './steps.ts';
import { emptyFindings, type FindingsSummary, type SyncSummary, type WritesSummary } from './summary.ts';

export interface SyncDeps {
  database: Database;
  config: Config;
  connectors: ReadonlyMap<string, Connector>;
  log: Logger;
  /** Steps 3–7. Without it a pass pulls and stores only (what the pull's own tests need). */
  pipeline?: SyncPipeline;
  now?: () => Date;
}

export interface SyncOptions extends PullOptions {
  /** Only these connections (default: all). */
  connections?: string[];
  dryRun?: boolean;
  /**
   * Send the planned writes once committed (enforce mode only; default true). False where
   * something else drains the outbox: the server's write loop, a Worker's `writes` queue.
   */
  send?: boolean;
  /** Where the pass is: each connection's phase and items, then the steps over all of them. */
  onProgress?(event: SyncProgress): void;
}

export async function runSync(deps: SyncDeps, opts: SyncOptions = {}): Promise<SyncSummary> {
  const now = deps.now ?? (() => new Date());
  const started = now();
  const t0 = performance.now();
  const { db } = deps.database;
  const mode = opts.dryRun || deps.config.mode === 'dry-run' ? 'dry-run' : 'enforce';
  const ids = opts.connections ?? [...deps.connectors.keys()];
  const connectors = ids.map((id) => {
    const connector = deps.connectors.get(id);
    if (!connector) throw new Error(`unknown connection "${id}"`);
    return connector;
  });
  const phase = (p: SyncPhase, total: number | null = null) =>
    opts.onProgress?.({ connection: null, phase: p, done: 0, total });
  const [run] = await db
    .insert(syncRuns)
    .values({
      kind: opts.reconcile && !opts.full ? 'reconcile' : 'sync',
      mode,
      connection: ids.length === 1 ? ids[0] : null,
    })
    .returning({ id: syncRuns.id });

  // Items quarantined in this pass, by connection and ref: what the summary counts and names.
  const quarantined = new Map<string, Map<string, QuarantinedItem>>(ids.map((id) => [id, new Map()]));
  const quarantine = (items: readonly QuarantinedItem[]) => {
    for (const q of items) quarantined.get(splitRef(q.ref).connection)?.set(q.ref, q);
  };

  // 1–2. Pull and store. Connections are independent (each has its own lock, cursor and rate
  // limits): pulling them side by side lets one tracker's round trips overlap the other's and
  // the database's work.
  const changed = new Set<string>();
  const warned = connectors.map((c) => ({ ...c.stats().warnings })); // to report only this run's
  const connections = await Promise.all(
    connectors.map((c) => pullConnection(deps, c, opts, now, { changed, quarantine })),
  );
  const warnings: string[] = [];
  for (const summary of connections) {
    if (summary.error) warnings.push(`${summary.id}: ${summary.error}`);
    for (const d of summary.drift ?? []) warnings.push(`${summary.id}: mapping drift: ${d}`);
  }
  for (const [i, c] of connectors.entries())
    for (const [w, n] of Object.entries(c.stats().warnings ?? {}))
      if (n > (warned[i]![w] ?? 0)) warnings.push(`${c.id}: ${w}`);

  let findings = emptyFindings();
  const writes: WritesSummary = { planned: 0, sent: 0, skippedUnchanged: 0, failed: 0 };
  const anyOk = connections.some((c) => c.status === 'ok');
  const pipeline = anyOk ? deps.pipeline : undefined;
  if (pipeline) {
    // 3. History and forecasts: outside the transaction, as it calls the trackers.
    if (pipeline.history) {
      const more = await pipeline.history(db, { changedRefs: opts.full ? undefined : [...changed], now: started });
      for (const ref of more) changed.add(ref);
    }
    // 4–6. Evaluate, roll up, plan. A full pass re-evaluates everything: a rule or waiver may
    // have changed since the last one.
    const refs = opts.full ? undefined : [...changed];
    // The list has the refs now; the set's table is garbage through the evaluation.
    changed.clear();
    const committed = await commitChanges(db, pipeline, {
      refs,
      now: started,
      dryRun: mode === 'dry-run',
      // PGlite has one connection, which the transaction holds.
      reader: deps.database.driver === 'postgres' ? db : undefined,
      // What a failed connection stored waits, queued, for a pass that reads it through.
      hold: connections.filter((c) => c.status === 'failed').map((c) => c.id),
      onPhase: phase,
    });
    findings = committed.findings;
    // A rule that errs (or spends its cost budget) on items leaves their findings as they were.
    for (const e of findings.ruleErrors)
      warnings.push(`rule ${e.rule} failed on ${count(e.items, 'item')}, first ${e.firstRef}: ${e.error}`);
    // A dry run's plan is every write it leaves planned, of earlier dry runs' too: what an
    // enforce run on this state sends (takeDryRunPlans), not only what changed since the last.
    writes.planned = mode === 'dry-run' ? await countDryRunPlans(db, ids) : committed.planned;
    writes.skippedUnchanged = committed.skippedUnchanged;
    quarantine(committed.quarantined);
  }
  for (const summary of connections) {
    const items = [...(quarantined.get(summary.id)?.values() ?? [])];
    summary.itemsQuarantined = items.length;
    warnings.push(...quarantineWarnings(summary.id, items));
  }
  // 7. Send.
  if (pipeline && mode === 'enforce' && opts.send !== false) {
    phase('write');
    Object.assign(writes, await pipeline.send({ connections: ids }));
  }

  const { changedRefs: _c, quarantined: _q, ...findingCounts } = findings;
  const summary: SyncSummary = {
    runId: run?.id ?? null,
    mode,
    full: opts.full === true,
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    connections,
    findings: findingCounts,
    writes,
    warnings,
  };
  const failed = connections.some((c) => c.status === 'failed');
  await db
    .update(syncRuns)
    .set({
      finishedAt: new Date().toISOString(),
      status: failed ? 'failed' : 'ok',
      summary: summary as unknown as Record<string, unknown>,
      error: failed ? warnings.join('; ') : null,
    })
    .where(eq(syncRuns.id, run!.id));
  phase('done');
  return summary;
}

export interface CommitOptions {
  /** Refs that changed; undefined re-evaluates everything (a full pass). */
  refs: string[] | undefined;
  now: Date;
  dryRun: boolean;
  priority?: number;
  /**
   * Leave the project, program and portfolio rollups to steps.ts refreshAggregates (the webhook
   * path does them at most every few seconds); the epics' are always done.
   */
  deferAggregates?: boolean;
  /**
   * A connection pool outside the transaction (Postgres only). A large evaluation reads its
   * next items and findings through it while the transaction writes the last ones: both were
   * committed before the transaction began, and it writes only findings of refs already read.
   */
  reader?: Db;
  /** Connections whose pull failed in this pass: their queued changes wait (steps.ts takeQueue). */
  hold?: readonly string[];
  /**
   * Which path steps 4–6 take: first-sync.ts's for a large change set, the plain one otherwise.
   * Chosen by size unless given (tests compare the two on one state).
   */
  largeChange?: boolean;
  /** Told as each step begins; awaited, so an observer may hold the pass at a step's start. */
  onPhase?(phase: 'evaluate' | 'roll up', total: number | null): void | Promise<void>;
}

export interface CommitResult {
  findings: FindingsSummary;
  planned: number;
  skippedUnchanged: number;
  /** Items whose evaluation or planning failed in this commit (the others' went through). */
  quarantined: QuarantinedItem[];
}

/** Steps 4–6 over stored changes, in one transaction. Sync passes and webhook batches end here. */
export async function commitChanges(db: Db, pipeline: SyncPipeline, opts: CommitOptions): Promise<CommitResult> {
  const result: CommitResult = { findings: emptyFindings(), planned: 0, skippedUnchanged: 0, quarantined: [] };
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    // What this pass evaluates: its refs, and whatever an earlier pass or batch left queued.
    const pass = await takeQueue(tx, opts.refs, opts.hold ?? []);
    // Nothing changed: an enforce pass still has a dry run's plans to take (takeDryRunPlans).
    if (pass.refs !== undefined && pass.refs.length === 0 && (opts.dryRun || !(await hasDryRunPlans(tx)))) return;
    let planned: Awaited<ReturnType<typeof plan>>;
    if (opts.largeChange ?? (!opts.deferAggregates && isLargeChange(pass.refs))) {
      ({ findings: result.findings, planned } = await commitLargeChange(tx, pipeline, pass, opts));
    } else {
      // 4. Evaluate.
      await opts.onPhase?.('evaluate', pass.refs?.length ?? null);
      result.findings = await evaluate(tx, pipeline, pass, { now: opts.now, reader: opts.reader });
      // 5. Roll up.
      await opts.onPhase?.('roll up', pass.refs?.length ?? null);
      const touched = await rollUp(tx, pipeline, {
        refs: pass.refs,
        findings: result.findings,
        now: opts.now,
        deferAggregates: opts.deferAggregates,
      });
      // 6. Plan.
      planned = await plan(tx, pipeline, {
        candidates: touched,
        triggers: pass.refs,
        dryRun: opts.dryRun,
        priority: opts.priority,
        reader: opts.reader,
      });
    }
    result.planned = planned.planned;
    result.skippedUnchanged = planned.skippedUnchanged;
    result.quarantined = [
      ...failures('evaluate', result.findings.quarantined),
      ...failures('plan', planned.quarantined),
    ];
    await settle(tx, pass, result.quarantined);
  });
  return result;
}

/** How many quarantined items a pass names in its warnings, per connection. */
const NAMED_QUARANTINES = 5;

/** The summary's warnings for a connection's quarantined items: the first few by name, then a count. */
function quarantineWarnings(connection: string, items: readonly QuarantinedItem[]): string[] {
  const out = items
    .slice(0, NAMED_QUARANTINES)
    .map((q) => `${connection}: ${q.ref} quarantined (${q.stage}): ${q.reason}`);
  if (items.length > NAMED_QUARANTINES)
    out.push(
      `${connection}: ${items.length - NAMED_QUARANTINES} more items quarantined (pmo-sync report lists them all)`,
    );
  return out;
}
