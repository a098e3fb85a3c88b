// Plans tracker writes: compares each item's desired state with what pmo-sync last applied
// (and with the item's actual labels) and stores only the differences in the outbox. Runs in
// the same transaction as the findings and rollups that caused it.
import { and, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { sendRows } from '../../db/copy.ts';
import { inList, letIoRun, type Pipeline, queryRows, withPipeline } from '../../db/query.ts';
import { appliedState, findings, forecasts, itemChecks, rollups, workItems, writeOutbox } from '../../db/schema.ts';
import { selectRows } from '../../db/select.ts';
import type { Config, Connection } from '../config/schema.ts';
import { hashOf } from '../core/hash.ts';
import type { RollupMetrics } from '../rollups/health.ts';
import { type Desired, type DesiredFinding, desiredState, type WritebackSettings } from './desired.ts';

export const PRIORITY_WEBHOOK = 10;
export const PRIORITY_SYNC = 100;

export interface PlanOptions {
  refs: readonly string[];
  dryRun: boolean;
  priority?: number;
  /**
   * The refs whose own content changed in this pass. A write to any other ref (an epic whose
   * rollup moved, an item whose dependency changed) was caused by them, so its `changedAt` is
   * their newest change, not the item's own last edit. Distinct refs (a pass's change set).
   */
  triggers?: readonly string[];
  /**
   * A connection outside `db`'s transaction (CommitOptions.reader): applied state and earlier
   * plans are read through it, beside the transaction's own statements. This pass's plans are
   * of other refs (chunks are disjoint), so it never needs to see them.
   */
  reader?: Db;
}

export interface PlanResult {
  planned: number;
  skippedUnchanged: number;
  /** Items whose writes could not be planned: their other writes go on; the sync quarantines them. */
  quarantined?: { ref: string; reason: string }[];
}

export type WriteTarget = 'comment' | 'labels' | 'fields';

export interface OutboxPayload {
  /** The item's `updated` when this write was planned: the start of change-to-write latency. */
  changedAt?: string;
  comment?: Extract<Desired['comment'], object>;
  labels?: { add: string[]; remove: string[] };
  fields?: Record<string, string | number | null>;
}

export function writebackSettings(conn: Connection): WritebackSettings {
  const w = conn.writeback;
  return {
    comment: w.comment,
    labels: conn.kind === 'jira' ? conn.writeback.labels : conn.writeback.tags,
    fields: w.fields,
    whenCompliant: w.whenCompliant,
  };
}

const PLAN_ITEM_COLUMNS = {
  ref: workItems.ref,
  connection: workItems.connection,
  kind: workItems.kind,
  labels: workItems.labels,
  ruleChecks: itemChecks.ruleChecks,
  updated: workItems.updated,
};
// Only what desiredState reads: these rows cross the wire for every item of a first sync.
const FINDING_COLUMNS = {
  ref: findings.ref,
  rule: findings.rule,
  severity: findings.severity,
  status: findings.status,
  message: findings.message,
  waivedReason: findings.waivedReason,
  waivedUntil: findings.waivedUntil,
};
const ROLLUP_COLUMNS = {
  scope: rollups.scope,
  health: rollups.health,
  healthReason: rollups.healthReason,
  percentComplete: rollups.percentComplete,
  metrics: rollups.metrics,
  // The forecast as write-back shows it (issue 26): null for scopes without one.
  forecastP85: forecasts.publishedP85,
  forecastOnTime: forecasts.publishedOnTime,
};
const APPLIED_COLUMNS = {
  ref: appliedState.ref,
  target: appliedState.target,
  hash: appliedState.hash,
  externalId: appliedState.externalId,
};
const WAITING_COLUMNS = { ref: writeOutbox.ref, target: writeOutbox.target, hash: writeOutbox.desiredHash };

/** Items planned per round of reads: large enough that a first sync makes few round trips. */
export const PLAN_CHUNK = 10_000;
/** Items planned between two turns of the event loop (see letIoRun and src/findings/evaluate.ts EVAL_SLICE). */
const PLAN_SLICE = 250;
const INSERT_ROWS = 2500;
const OUTBOX_COLUMNS = ['connection', 'ref', 'target', 'payload', 'desired_hash', 'status', 'priority'];

/** One item as the planner reads it. */
export interface PlanItem {
  ref: string;
  connection: string;
  kind: string;
  labels: string[];
  ruleChecks: number | null;
  updated: string;
}

type PlanFinding = DesiredFinding & { ref: string };
type PlanRollup = {
  health: string;
  healthReason: string;
  percentComplete: number | null;
  metrics: unknown;
  forecastP85?: string | null;
  forecastOnTime?: number | null;
};
type StoredWrites = [
  { ref: string; target: string; hash: string; externalId: string | null }[],
  { ref: string; target: string; hash: string }[],
];

/**
 * Plans the writes of a set of items from what they are and what is stored for them: the
 * per-item half of planWrites, shared with a first sync's evaluation, which plans the items
 * without a rollup from its own results while it runs (src/findings/evaluate.ts, `onChunk`).
 */
export function createItemPlanner(
  config: Config,
  opts: { dryRun: boolean; priority?: number; changedAt: (ref: string, updated: string) => string },
) {
  const settings = new Map(config.connections.map((c) => [c.id, writebackSettings(c)]));
  const status = opts.dryRun ? 'planned' : 'pending';
  const priority = opts.priority ?? PRIORITY_SYNC;
  const result: PlanResult = { planned: 0, skippedUnchanged: 0 };
  return {
    result,
    /**
     * Applied state and waiting writes of `refs`, read through `reader` (see PlanOptions.reader).
     * Waiting means what a worker will send: a dry run's plans are not, in either mode, so that
     * both modes plan the same rows on the same state (a dry run replaces its earlier plans of
     * these refs; an enforce pass has taken them all, takeDryRunPlans).
     */
    readStored(reader: Db, refs: string[]): Promise<StoredWrites> {
      return Promise.all([
        selectRows(reader, APPLIED_COLUMNS, appliedState, inList(appliedState.ref, refs)),
        selectRows(
          reader,
          WAITING_COLUMNS,
          writeOutbox,
          and(inList(writeOutbox.ref, refs), inArray(writeOutbox.status, ['pending', 'in_flight'])),
        ),
      ]) as Promise<StoredWrites>;
    },
    /** The outbox rows of these items, a slice at a time with the event loop let run between. */
    async plan(
      items: readonly PlanItem[],
      itemFindings: readonly PlanFinding[],
      rollupByRef: ReadonlyMap<string, PlanRollup>,
      stored: StoredWrites,
    ): Promise<OutboxRow[]> {
      const [applied, waiting] = stored;
      const findingsByRef = groupBy(itemFindings, (f) => f.ref);
      const appliedBy = new Map(applied.map((a) => [`${a.ref}|${a.target}`, a]));
      const waitingBy = new Map<string, string[]>();
      for (const w of waiting)
        waitingBy.set(`${w.ref}|${w.target}`, [...(waitingBy.get(`${w.ref}|${w.target}`) ?? []), w.hash]);

      const rows: OutboxRow[] = [];
      let n = 0;
      for (const it of items) {
        // The last chunk's inserts go on reaching the database, and the next chunk's rows
        // arriving, while this one is planned.
        if (++n % PLAN_SLICE === 0) await letIoRun();
        const s = settings.get(it.connection);
        if (!s) continue;
        const before = rows.length;
        try {
          const appliedComment = appliedBy.get(`${it.ref}|comment`);
          const rollup = rollupByRef.get(it.ref);
          const desired = desiredState(
            {
              ref: it.ref,
              kind: it.kind,
              labels: it.labels,
              ruleChecks: it.ruleChecks,
              findings: findingsByRef.get(it.ref) ?? [],
              rollup: rollup
                ? {
                    health: rollup.health,
                    healthReason: rollup.healthReason,
                    percentComplete: rollup.percentComplete,
                    metrics: rollup.metrics as RollupMetrics,
                    forecast:
                      rollup.forecastP85 || rollup.forecastOnTime != null
                        ? { p85: rollup.forecastP85 ?? null, onTime: rollup.forecastOnTime ?? null }
                        : null,
                  }
                : null,
              hasComment: Boolean(appliedComment?.externalId) && appliedComment?.hash !== 'deleted',
            },
            s,
          );
          const consider = (target: WriteTarget, payload: OutboxPayload | null, hash: string) => {
            if (!payload) return;
            const key = `${it.ref}|${target}`;
            // Labels are diffed against the item as read, so there is no applied hash to compare.
            if (target !== 'labels' && appliedBy.get(key)?.hash === hash) {
              result.skippedUnchanged++;
              return;
            }
            if (waitingBy.get(key)?.includes(hash)) {
              result.skippedUnchanged++;
              return;
            }
            rows.push({
              connection: it.connection,
              ref: it.ref,
              target,
              payload: { ...payload, changedAt: opts.changedAt(it.ref, it.updated) },
              desired_hash: hash,
              status,
              priority,
            });
          };
          if (desired.comment) {
            const hash = desired.comment.action === 'delete' ? 'deleted' : hashOf(desired.comment.doc);
            consider('comment', { comment: desired.comment }, hash);
          } else if (appliedComment) result.skippedUnchanged++;
          if (desired.labels) consider('labels', { labels: desired.labels }, hashOf(desired.labels));
          if (desired.fields) consider('fields', { fields: desired.fields }, hashOf(desired.fields));
        } catch (e) {
          // This item's stored data broke its plan: none of its writes, the other items' go on.
          rows.length = before;
          result.quarantined ??= [];
          result.quarantined.push({ ref: it.ref, reason: e instanceof Error ? e.message : String(e) });
        }
      }
      result.planned += rows.length;
      return rows;
    },
    /**
     * Sends the rows to the outbox through `pipeline`: one jsonb parameter per statement (see
     * store.ts); `status` is one of two literals. At most INSERT_ROWS rows a statement: the JSON
     * text and the driver's copy of it are the largest buffers a first sync holds at once.
     * `copy`: none of the rows' items has a write waiting (a first sync), so they are copied in
     * (db/copy.ts), unless a pass planned one meanwhile, when the upsert takes them after all.
     * `refs`: the items these rows were planned for. A dry run's plan of them replaces its earlier
     * one whole, so a write no longer wanted does not linger as planned.
     */
    insert(
      pipeline: Pipeline,
      db: Db,
      rows: readonly OutboxRow[],
      into: { copy?: boolean; refs: readonly string[] },
    ): Promise<unknown>[] {
      const replaced = opts.dryRun
        ? [
            pipeline.add(() =>
              db.execute(sql`delete from write_outbox where status = 'planned' and ${inList(sql`ref`, into.refs)}`),
            ),
          ]
        : [];
      const upsert = (part: readonly OutboxRow[]) =>
        db.execute(sql`insert into write_outbox (connection, ref, target, payload, desired_hash, status, priority)
        select connection, ref, target, payload, desired_hash, status, priority
        from jsonb_to_recordset(${JSON.stringify(part)}::jsonb)
          as x(connection text, ref text, target text, payload jsonb, desired_hash text, status text, priority int)
        on conflict (ref, target) where status = ${sql.raw(`'${status}'`)} do update set
          payload = excluded.payload, desired_hash = excluded.desired_hash,
          priority = least(write_outbox.priority, excluded.priority), attempts = 0, failures = 0,
          next_attempt_at = now(),
          last_error = null, updated_at = now()`);
      const parts: (readonly OutboxRow[])[] = [];
      for (let i = 0; i < rows.length; i += INSERT_ROWS) parts.push(rows.slice(i, i + INSERT_ROWS));
      if (!into.copy) return [...replaced, ...parts.map((part) => pipeline.add(() => upsert(part)))];
      // One copy, and one savepoint, for all the rows: a first sync's commit opens a savepoint
      // per copy, and each one that writes takes a subtransaction id.
      return [
        ...replaced,
        sendRows(pipeline, db, {
          table: 'write_outbox',
          columns: OUTBOX_COLUMNS,
          rows: () => rows.map((r) => [r.connection, r.ref, r.target, r.payload, r.desired_hash, r.status, r.priority]),
          count: rows.length,
          insert: async () => {
            for (const part of parts) await upsert(part);
          },
          conflicts: true,
        }),
      ];
    },
  };
}

/**
 * Removes every dry-run plan and returns the refs it was for: an enforce pass plans those refs
 * again, with everything it plans itself, so the writes a dry run showed are the writes that go
 * out once the mode is enforce, whether or not the items changed since.
 */
export async function takeDryRunPlans(db: Db): Promise<string[]> {
  const rows = await queryRows<{ ref: string }>(
    db,
    sql`with taken as (delete from write_outbox where status = 'planned' returning ref) select distinct ref from taken`,
  );
  return rows.map((r) => r.ref);
}

/** Whether any dry-run plan waits for an enforce pass to take it (takeDryRunPlans). */
export async function hasDryRunPlans(db: Db): Promise<boolean> {
  const rows = await queryRows<{ one: number }>(
    db,
    sql`select 1 as one from write_outbox where status = 'planned' limit 1`,
  );
  return rows.length > 0;
}

/** Dry-run plans of these connections: what an enforce run would send on the same state. */
export async function countDryRunPlans(db: Db, connections: readonly string[]): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from write_outbox where status = 'planned' and ${inList(sql`connection`, connections)}`,
  );
  return Number(row?.n ?? 0);
}

/** An item's own last change, as an outbox row's `changedAt` (large passes: see planWrites). */
export const ownChange = (_ref: string, updated: string) => new Date(Date.parse(updated)).toISOString();

export async function planWrites(db: Db, config: Config, opts: PlanOptions): Promise<PlanResult> {
  const refs = [...new Set(opts.refs)];
  // Only a small change set (a webhook burst) says when a rollup-driven write's cause
  // happened; across a large pass the newest of thousands of edits would say nothing, and each
  // write's own change is its time (a set of a first sync's triggers would be garbage).
  const triggers = (opts.triggers?.length ?? 0) <= PLAN_CHUNK ? new Set(opts.triggers) : null;
  const reader = opts.reader ?? db;
  const newestTrigger = triggers ? await newestUpdate(db, [...triggers]) : null;
  const planner = createItemPlanner(config, {
    dryRun: opts.dryRun,
    priority: opts.priority,
    changedAt: (ref, updated) => {
      const own = Date.parse(updated);
      const at = !triggers || triggers.has(ref) || newestTrigger === null ? own : Math.max(own, newestTrigger);
      return new Date(at).toISOString();
    },
  });
  // Through selectRows: a first sync plans every item, and drizzle's row mapper cost more than
  // the planning.
  const readChunk = (chunk: string[]) =>
    Promise.all([
      selectRows(
        db,
        PLAN_ITEM_COLUMNS,
        sql`${workItems} left join ${itemChecks} on ${itemChecks.ref} = ${workItems.ref}`,
        and(inList(workItems.ref, chunk), isNull(workItems.deletedAt)),
      ),
      selectRows(
        db,
        FINDING_COLUMNS,
        findings,
        and(inList(findings.ref, chunk), inArray(findings.status, ['open', 'waived'])),
      ),
      selectRows(
        db,
        ROLLUP_COLUMNS,
        sql`${rollups} left join ${forecasts} on ${forecasts.scope} = ${rollups.scope}`,
        inList(
          rollups.scope,
          chunk.map((r) => `epic:${r}`),
        ),
      ),
      planner.readStored(reader, chunk),
    ]);
  // The database reads the next chunk and stores the last one's rows while this one is
  // computed: chunks are disjoint, so their statements do not depend on each other.
  const chunks: string[][] = [];
  for (let i = 0; i < refs.length; i += PLAN_CHUNK) chunks.push(refs.slice(i, i + PLAN_CHUNK));
  await withPipeline(async (pipeline) => {
    let next = chunks.length > 0 ? pipeline.add(readChunk(chunks[0]!)) : null;
    for (let c = 0; c < chunks.length; c++) {
      const [items, itemFindings, itemRollups, stored] = await next!;
      next = c + 1 < chunks.length ? pipeline.add(readChunk(chunks[c + 1]!)) : null;
      const rollupByRef = new Map(itemRollups.map((r) => [r.scope.slice(5), r]));
      planner.insert(pipeline, db, await planner.plan(items as PlanItem[], itemFindings, rollupByRef, stored), {
        refs: chunks[c]!,
      });
    }
  });
  return planner.result;
}

/** The newest `updated` among these refs (epoch ms), or null. */
async function newestUpdate(db: Db, refs: string[]): Promise<number | null> {
  if (refs.length === 0) return null;
  const [row] = await db
    .select({ at: sql<string | null>`max(${workItems.updated})` })
    .from(workItems)
    .where(inList(workItems.ref, refs));
  return row?.at ? Date.parse(new Date(row.at).toISOString()) : null;
}

interface OutboxRow {
  connection: string;
  ref: string;
  target: WriteTarget;
  payload: OutboxPayload;
  desired_hash: string;
  status: string;
  priority: number;
}

function groupBy<T>(rows: readonly T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}
