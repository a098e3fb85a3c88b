// The quarantine (db/schema.ts `quarantine`): items a stage could not handle, kept with the stage
// and the reason while the rest of their batch goes on, and tried again by the next pass.
import { sql } from 'drizzle-orm';
import type { UnreadableItem } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import { queryRows, textArray } from '../../db/query.ts';
import { storableText, storableValue } from '../../db/storable.ts';
import { makeRef, splitRef } from '../core/work-item.ts';

/**
 * `read`: the tracker returned the item in a shape pmo-sync cannot read; `store`: the database
 * refused it; `evaluate`, `plan`: its rules or its writes could not be worked out.
 */
export const QUARANTINE_STAGES = ['read', 'store', 'evaluate', 'plan'] as const;
export type QuarantineStage = (typeof QUARANTINE_STAGES)[number];
/** Stages whose items the next pass reads again from the tracker, by key. */
export const REREAD_STAGES: readonly QuarantineStage[] = ['read', 'store'];

/** An item a stage failed on, and why (db/errors.ts failureReason). */
export interface QuarantinedItem {
  ref: string;
  stage: QuarantineStage;
  reason: string;
}

/** A quarantine row as `report` and the API show it. */
export interface QuarantineEntry extends QuarantinedItem {
  connection: string;
  key: string;
  /** Times in a row the item failed this stage. */
  failures: number;
  firstFailedAt: string;
  lastFailedAt: string;
}

/**
 * The rows of these refs, found by the hash of their ref (the unique index): a ref too long for
 * a btree entry may be why its item is here.
 */
export const ofRefs = (refs: readonly string[]) =>
  sql`md5(ref) = any(array(select md5(r) from unnest(${textArray(refs)}::text[]) r))`;

/** Items a connector could not read, as quarantine entries at `read`. */
export function unreadableItems(connection: string, items: readonly UnreadableItem[]): QuarantinedItem[] {
  return items.map((u) => ({ ref: makeRef(connection, storableText(u.key)), stage: 'read', reason: u.reason }));
}

/** Records failures; an item already quarantined at that stage counts one failure more. */
export async function recordQuarantine(db: Db, items: readonly QuarantinedItem[]): Promise<void> {
  if (items.length === 0) return;
  const rows = items.map((q) => {
    const { connection, key } = splitRef(q.ref);
    return { ref: q.ref, connection, key, stage: q.stage, reason: q.reason };
  });
  await db.execute(sql`insert into quarantine (ref, connection, key, stage, reason)
    select ref, connection, key, stage, reason
    from jsonb_to_recordset(${JSON.stringify(storableValue(rows))}::jsonb)
      as x(ref text, connection text, key text, stage text, reason text)
    on conflict (md5(ref), stage) do update set reason = excluded.reason,
      failures = quarantine.failures + 1, last_failed_at = now()`);
}

/** Removes the rows of these refs at these stages: their items got through. */
export async function clearQuarantine(
  db: Db,
  refs: readonly string[],
  stages: readonly QuarantineStage[],
): Promise<void> {
  if (refs.length === 0) return;
  await db.execute(sql`delete from quarantine where stage = any(${textArray(stages)}::text[]) and ${ofRefs(refs)}`);
}

/**
 * Removes the rows at `stage` of the items among `refs` (every item when undefined) but those in
 * `keep`: the others went through that stage.
 */
export async function releaseQuarantine(
  db: Db,
  stage: QuarantineStage,
  refs: readonly string[] | undefined,
  keep: readonly string[],
): Promise<void> {
  await db.execute(sql`delete from quarantine where stage = ${stage} ${refs ? sql`and ${ofRefs(refs)}` : sql``}
    and ref <> all(${textArray(keep)}::text[])`);
}

/** Keys of a connection's items quarantined at `read` or `store`: the next pass reads them again. */
export async function quarantinedKeys(db: Db, connection: string): Promise<string[]> {
  const rows = await queryRows<{ key: string }>(
    db,
    sql`select distinct key from quarantine where connection = ${connection}
      and stage = any(${textArray(REREAD_STAGES)}::text[]) order by key`,
  );
  return rows.map((r) => r.key);
}

/** Whether any item is quarantined at one of these stages. */
export async function anyQuarantined(db: Db, stages: readonly QuarantineStage[]): Promise<boolean> {
  const [row] = await queryRows<{ any: boolean }>(
    db,
    sql`select exists (select 1 from quarantine where stage = any(${textArray(stages)}::text[])) as any`,
  );
  return row?.any === true;
}

/** Every quarantined item, optionally of some connections only, by connection, ref and stage. */
export async function listQuarantine(db: Db, connections?: readonly string[]): Promise<QuarantineEntry[]> {
  const rows = await queryRows<{
    ref: string;
    connection: string;
    key: string;
    stage: QuarantineStage;
    reason: string;
    failures: number;
    first_failed_at: string;
    last_failed_at: string;
  }>(
    db,
    sql`select ref, connection, key, stage, reason, failures, first_failed_at, last_failed_at from quarantine
      ${connections ? sql`where connection = any(${textArray(connections)}::text[])` : sql``}
      order by connection, ref, stage`,
  );
  const iso = (v: string) => new Date(v).toISOString();
  return rows.map((r) => ({
    ref: r.ref,
    connection: r.connection,
    key: r.key,
    stage: r.stage,
    reason: r.reason,
    failures: Number(r.failures),
    firstFailedAt: iso(r.first_failed_at),
    lastFailedAt: iso(r.last_failed_at),
  }));
}
