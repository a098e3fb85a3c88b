// Stores normalized items: one batched upsert per page, writing only rows whose content or
// revision changed, never letting an older revision overwrite a newer one.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { CopyError, canCopy, copyPieces, copyRows, JsonText } from '../../db/copy.ts';
import { failureReason, isDataError } from '../../db/errors.ts';
import { inList, queryRows, textArray } from '../../db/query.ts';
import { itemLinks, workItems } from '../../db/schema.ts';
import { isStorableText, jsonNeedsEscaping, storableText, storableValue, trackerJsonText } from '../../db/storable.ts';
import { hashText, shapeStringifier } from '../core/hash.ts';
import { parseInstant } from '../core/instant.ts';
import type { WorkItem } from '../core/work-item.ts';
import { rawReadText } from '../http/scope.ts';
import { clearQuarantine, ofRefs, type QuarantinedItem, REREAD_STAGES, recordQuarantine } from './quarantine.ts';

/**
 * Hash of what rules and rollups read. `updated`, `revision` and `raw` are left out: a change
 * that only bumps them (our own comment, say) must not trigger re-evaluation. What is read from
 * `raw` itself is in (RAW_READS: the Azure DevOps area path, an item's team where no team field
 * is mapped).
 */
export function contentHash(item: WorkItem): string {
  return hashOfContent(itemContent(item as unknown as Record<string, unknown>), item);
}

/** The content hash from the item's normalized content as text (itemContent). */
const hashOfContent = (content: string, item: WorkItem) => hashText(content + rawReadText(item.raw));

/**
 * The model's fields and the work_items column each is stored in, in one table: the hash, the
 * row a stored item becomes, the COPY column list and the upsert's column definitions all come
 * from it. Every field of the model but `raw` (kept losslessly on its own), checked against the
 * model's type: a field added to WorkItem and not listed here fails to compile. The order is the
 * content hash's: changing it re-evaluates every stored item once.
 */
const FIELD_COLUMNS: { readonly [K in Exclude<keyof WorkItem, 'raw'>]: readonly [column: string, type: string] } = {
  ref: ['ref', 'text'],
  connection: ['connection', 'text'],
  tracker: ['tracker', 'text'],
  key: ['key', 'text'],
  project: ['project', 'text'],
  kind: ['kind', 'text'],
  type: ['type', 'text'],
  title: ['title', 'text'],
  status: ['status', 'text'],
  statusCategory: ['status_category', 'text'],
  assignee: ['assignee', 'jsonb'],
  owner: ['owner', 'jsonb'],
  priority: ['priority', 'text'],
  labels: ['labels', 'jsonb'],
  created: ['created', 'timestamptz'],
  updated: ['updated', 'timestamptz'],
  started: ['started', 'timestamptz'],
  resolved: ['resolved', 'timestamptz'],
  start: ['start', 'timestamptz'],
  due: ['due', 'timestamptz'],
  points: ['points', 'float8'],
  estimateHours: ['estimate_hours', 'float8'],
  remainingHours: ['remaining_hours', 'float8'],
  parent: ['parent', 'text'],
  links: ['links', 'jsonb'],
  iteration: ['iteration', 'jsonb'],
  fields: ['fields', 'jsonb'],
  url: ['url', 'text'],
  revision: ['revision', 'text'],
};
/** Every field of the model but `raw`, in the table's order. */
const NORMALIZED = Object.keys(FIELD_COLUMNS) as (keyof typeof FIELD_COLUMNS)[];
/** What the content hash covers: `updated` and `revision` change without the content changing. */
const HASHED = NORMALIZED.filter((k) => k !== 'updated' && k !== 'revision');
const itemContent = shapeStringifier(HASHED, ['raw', 'updated', 'revision']);

/** Orders two revisions: numbers numerically (Azure DevOps rev), otherwise as timestamps. */
export function compareRevision(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return Number(a) - Number(b);
  const ta = parseInstant(a);
  const tb = parseInstant(b);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return a < b ? -1 : a > b ? 1 : 0;
  return ta - tb;
}

export interface StoreResult {
  /** Refs whose content changed (new, edited or undeleted): these need re-evaluation. */
  changed: string[];
  /** Rows written at all (content changes plus revision-only touches). */
  written: number;
  /** Items the database refused even alone, sanitized: recorded in the quarantine at `store`. */
  quarantined: QuarantinedItem[];
}

/** An item made storable, the normalized fields that had to be sanitized for it, and its contentHash. */
interface Storable {
  item: WorkItem;
  sanitized: string[];
  hash: string;
}

/** The item with every normalized value Postgres cannot hold as it is sanitized (db/storable.ts). */
export function storableItem(item: WorkItem): Storable {
  // The hash's text writes every hashed string as JSON does, U+0000 and lone surrogates as escapes:
  // without such an escape (nearly always) no hashed field needs sanitizing, and the one pass over
  // the item is the one the hash needs anyway.
  const text = itemContent(item as unknown as Record<string, unknown>);
  if (!jsonNeedsEscaping(text) && storable(item.updated) && storable(item.revision))
    return { item, sanitized: [], hash: hashOfContent(text, item) };
  let out: WorkItem | null = null;
  const sanitized: string[] = [];
  for (const key of NORMALIZED) {
    const v = item[key];
    const s = storableValue(v);
    if (s === v) continue;
    out ??= { ...item };
    (out as unknown as Record<string, unknown>)[key] = s;
    sanitized.push(key);
  }
  const made = out ?? item;
  return { item: made, sanitized, hash: contentHash(made) };
}

const storable = (v: unknown) => typeof v !== 'string' || isStorableText(v);

/**
 * Stores a page of items. A batch the database refuses for its data (db/errors.ts isDataError) is
 * stored again in halves, down to single items, and an item refused alone is quarantined: one
 * unstorable item never costs its neighbours their pass. The halving runs only after a failure.
 */
export async function storeItems(db: Db, items: readonly WorkItem[], now: Date = new Date()): Promise<StoreResult> {
  if (items.length === 0) return { changed: [], written: 0, quarantined: [] };
  // Within one page the same item may appear twice (overlap windows): keep the newest.
  const byRef = new Map<string, Storable>();
  const unreadable: QuarantinedItem[] = [];
  for (const it of items) {
    let s: Storable;
    try {
      s = storableItem(it);
    } catch (err) {
      // A value nested deeper than the stack reaches.
      if (!isDataError(err)) throw err;
      unreadable.push({ ref: storableText(it.ref), stage: 'store', reason: failureReason(err) });
      continue;
    }
    const prev = byRef.get(s.item.ref);
    if (!prev || compareRevision(s.item.revision, prev.item.revision) >= 0) byRef.set(s.item.ref, s);
  }
  await recordQuarantine(db, unreadable);
  const result = byRef.size > 0 ? await storeBatch(db, [...byRef.values()], now.toISOString()) : null;
  if (unreadable.length === 0 && result) return result;
  return {
    changed: result?.changed ?? [],
    written: result?.written ?? 0,
    quarantined: [...unreadable, ...(result?.quarantined ?? [])],
  };
}

async function storeBatch(db: Db, batch: Storable[], nowIso: string): Promise<StoreResult> {
  try {
    return { ...(await writeBatch(db, batch, nowIso)), quarantined: [] };
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (batch.length === 1) {
      const quarantined: QuarantinedItem[] = [{ ref: batch[0]!.item.ref, stage: 'store', reason: failureReason(err) }];
      await recordQuarantine(db, quarantined);
      return { changed: [], written: 0, quarantined };
    }
    const half = Math.ceil(batch.length / 2);
    const a = await storeBatch(db, batch.slice(0, half), nowIso);
    const b = await storeBatch(db, batch.slice(half), nowIso);
    return {
      changed: [...a.changed, ...b.changed],
      written: a.written + b.written,
      quarantined: [...a.quarantined, ...b.quarantined],
    };
  }
}

/**
 * Writes the rows of a batch that changed, their links and their evaluation queue entries in one
 * transaction, and clears the quarantine of its items: all of it, or (on a failure) none.
 */
async function writeBatch(db: Db, batch: Storable[], nowIso: string): Promise<Omit<StoreResult, 'quarantined'>> {
  const refs = batch.map((s) => s.item.ref);
  // The stored versions, and which of these items wait in the quarantine, in one round trip.
  // With each stored version, where it was: its owner, parent and link targets (ItemReach).
  const found = await queryRows<{
    ref: string;
    hash: string;
    revision: string;
    deleted_at: unknown;
    q: boolean;
    owner: string | null;
    parent: string | null;
    targets: string | null;
  }>(
    db,
    sql`select ref, content_hash as hash, revision, deleted_at, false as q, owner->>'id' as owner, parent,
        (select json_agg(l->>'target')::text from jsonb_array_elements(links) l) as targets
      from work_items where ${inList(sql`ref`, refs)}
      union all
      select ref, null, null, null, true, null, null, null from quarantine
      where stage = any(${textArray(REREAD_STAGES)}::text[]) and ${ofRefs(refs)}`,
  );
  const known = new Map<string, { hash: string; revision: string; deleted: boolean; was: ItemPlace }>();
  const cleared: string[] = [];
  for (const r of found) {
    if (r.q)
      cleared.push(r.ref); // once per stage it waits at: clearing twice is harmless
    else
      known.set(r.ref, {
        hash: r.hash,
        revision: r.revision,
        deleted: r.deleted_at !== null,
        was: { owner: r.owner, parent: r.parent, targets: r.targets ? (JSON.parse(r.targets) as string[]) : [] },
      });
  }

  const changed: string[] = [];
  const changedItems: WorkItem[] = [];
  const rows: unknown[][] = [];
  const left: ItemReach[] = [];
  for (const { item, sanitized, hash } of batch) {
    const prev = known.get(item.ref);
    if (prev && compareRevision(item.revision, prev.revision) < 0 && !prev.deleted) continue;
    const contentChanged = !prev || prev.hash !== hash || prev.deleted;
    if (!contentChanged && prev.revision === item.revision) continue;
    if (contentChanged) {
      changed.push(item.ref);
      changedItems.push(item);
      const reach = prev && placesLeft(prev.was, item);
      if (reach) left.push(reach);
    }
    rows.push(toRow(item, sanitized, hash, nowIso));
  }
  if (rows.length === 0 && cleared.length === 0) return { changed, written: 0 };
  const rest = async (tx: Db) => {
    if (changedItems.length > 0) await replaceLinks(tx, changedItems);
    await queueReach(tx, left);
    await clearQuarantine(tx, cleared, REREAD_STAGES);
  };
  // A batch of items none of which is stored yet (a first sync) is copied in; the upsert is for
  // the rest, and for a batch another writer stored part of in the meantime.
  if (rows.length > 0 && known.size === 0 && canCopy(db)) {
    try {
      await db.transaction(async (txRaw) => {
        const tx = txRaw as unknown as Db;
        await copyRows(tx, 'work_items', ROW_NAMES, copyPieces(rows));
        await tx.execute(sql`insert into eval_queue (ref) select unnest(${textArray(changed)}::text[]) ${REQUEUE}`);
        await rest(tx);
      });
      return { changed, written: rows.length };
    } catch (e) {
      // Refused: a row another writer stored meanwhile, or this batch's data (the upsert says which).
      if (!(e instanceof CopyError)) throw e;
    }
  }
  await db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    await upsertRows(tx, rows, changed);
    await rest(tx);
  });
  return { changed, written: rows.length };
}

/** Where a stored item sat among the others: what its owner's WIP, its parent and its links read. */
interface ItemPlace {
  owner: string | null;
  parent: string | null;
  targets: string[];
}

/** The places a changed item left: its previous owner and parent, the targets of links it dropped. */
export interface ItemReach {
  ref: string;
  owners: string[];
  refs: string[];
}

/** What `item` left of the place it had (`was`), or null when it left nothing. */
export function placesLeft(was: ItemPlace, item: WorkItem): ItemReach | null {
  const owners = was.owner !== null && was.owner !== (item.owner?.id ?? null) ? [was.owner] : [];
  const refs = was.parent !== null && was.parent !== item.parent ? [was.parent] : [];
  if (was.targets.length > 0) {
    const now = new Set(item.links.map((l) => l.target));
    for (const t of was.targets) if (!now.has(t) && !refs.includes(t)) refs.push(t);
  }
  return owners.length + refs.length > 0 ? { ref: item.ref, owners, refs } : null;
}

/**
 * Keeps, on the queue rows of changed items, the places they left (ItemReach), added to what the
 * row already names: the pass that settles the row evaluates the old side too, however many
 * changes came between. Runs in the transaction that queued the rows.
 */
async function queueReach(db: Db, reach: readonly ItemReach[]): Promise<void> {
  if (reach.length === 0) return;
  await db.execute(sql`insert into eval_queue (ref, reach_owners, reach_refs)
    select ref, owners, refs from jsonb_to_recordset(${JSON.stringify(reach)}::jsonb) as x(ref text, owners text[], refs text[])
    on conflict (ref) do update set queued_at = excluded.queued_at,
      reach_owners = eval_queue.reach_owners || excluded.reach_owners,
      reach_refs = eval_queue.reach_refs || excluded.reach_refs`);
}

/** One row's values in ROW_COLUMNS order. */
function toRow(item: WorkItem, sanitized: string[], hash: string, nowIso: string): unknown[] {
  const row: unknown[] = NORMALIZED.map((k) => item[k]);
  row.push(
    // Made when the row is written, never held for the whole batch.
    new JsonText(() => trackerJsonText(item.raw ?? null, sanitized)),
    hash,
    null,
    nowIso,
    nowIso,
  );
  return row;
}

// Rows travel as one JSON parameter (jsonb_to_recordset) rather than ~35 bound parameters per
// row: building and binding those cost more than the database's work on a large first sync.
const COLUMNS: (readonly [string, string])[] = [
  ...NORMALIZED.map((k) => FIELD_COLUMNS[k]),
  ['raw', 'jsonb'],
  ['content_hash', 'text'],
];
// What a stored row adds: not deleted, synced now (first_synced_at belongs to the first sync).
const ROW_COLUMNS: (readonly [string, string])[] = [
  ...COLUMNS,
  ['deleted_at', 'timestamptz'],
  ['first_synced_at', 'timestamptz'],
  ['last_synced_at', 'timestamptz'],
];
const ROW_NAMES = ROW_COLUMNS.map(([c]) => c);
const q = (c: string) => `"${c}"`;
const COLUMN_DEFS = sql.raw(ROW_COLUMNS.map(([c, t]) => `${q(c)} ${t}`).join(', '));
const INSERT_COLUMNS = sql.raw(ROW_NAMES.map(q).join(', '));
const SELECT_COLUMNS = sql.raw(ROW_NAMES.map((c) => `x.${q(c)}`).join(', '));
const UPDATE_SET = sql.raw(
  [
    ...COLUMNS.filter(([c]) => c !== 'ref').map(([c]) => `${q(c)} = excluded.${q(c)}`),
    'deleted_at = null',
    'last_synced_at = excluded.last_synced_at',
  ].join(', '),
);

/**
 * How a change is queued for evaluation. A ref already queued gets a new row version (its
 * `xmin` changes), so a pass that took its snapshot of the queue before this change does not
 * settle it (settleQueued).
 */
const REQUEUE = sql`on conflict (ref) do update set queued_at = excluded.queued_at`;

/** Writes the rows and, in the same statement, queues the changed ones for evaluation. */
async function upsertRows(db: Db, rows: unknown[][], changed: readonly string[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    await db.execute(sql`with stored as (
        insert into work_items (${INSERT_COLUMNS})
        select ${SELECT_COLUMNS} from jsonb_to_recordset(${recordsJson(rows.slice(i, i + 1000))}::jsonb) as x(${COLUMN_DEFS})
        on conflict (ref) do update set ${UPDATE_SET}
        returning ref
      )
      insert into eval_queue (ref) select ref from stored where ${inList(sql`ref`, changed)}
      ${REQUEUE}`);
  }
}

/** Rows as a JSON array of records by column name; a JsonText value (raw) is spliced in as written. */
function recordsJson(rows: readonly unknown[][]): string {
  const out: string[] = [];
  for (const r of rows) {
    const record: Record<string, unknown> = {};
    const texts: string[] = [];
    for (let k = 0; k < ROW_NAMES.length; k++) {
      const v = r[k];
      if (v instanceof JsonText) texts.push(`${JSON.stringify(ROW_NAMES[k])}:${v.make()}`);
      else record[ROW_NAMES[k]!] = v;
    }
    const json = JSON.stringify(record);
    out.push(texts.length === 0 ? json : `${json.slice(0, -1)},${texts.join(',')}}`);
  }
  return `[${out.join(',')}]`;
}

async function replaceLinks(db: Db, items: WorkItem[]): Promise<void> {
  const sources = items.map((i) => i.ref);
  await db.delete(itemLinks).where(inList(itemLinks.source, sources));
  const rows = new Map<string, { source: string; target: string; type: string; relation: string | null }>();
  for (const it of items) {
    for (const l of it.links) {
      rows.set(`${it.ref}|${l.target}|${l.type}`, {
        source: it.ref,
        target: l.target,
        type: l.type,
        relation: l.relation ?? null,
      });
    }
  }
  if (rows.size === 0) return;
  // Where each end sits on a roadmap, as the items stand now (refreshItemRollups reads it again
  // for every item whose parent chain moves later).
  await db.execute(sql`insert into item_links (source, target, type, relation, source_container, target_container)
    select source, target, type, relation, link_end_container(source), link_end_container(target)
    from jsonb_to_recordset(${JSON.stringify([...rows.values()])}::jsonb) as x(source text, target text, type text, relation text)
    on conflict do nothing`);
}

/**
 * Queues refs for evaluation again (an item whose evaluation or planning failed). Inside a
 * pass's transaction the rows get that transaction's version, so settleQueued leaves them.
 */
export async function queueForEvaluation(db: Db, refs: readonly string[]): Promise<void> {
  if (refs.length === 0) return;
  await db.execute(sql`insert into eval_queue (ref) select unnest(${textArray(refs)}::text[]) ${REQUEUE}`);
}

/** Marks items the tracker no longer has as deleted; returns the refs newly marked. */
export async function markDeleted(db: Db, refs: readonly string[], now: Date = new Date()): Promise<string[]> {
  if (refs.length === 0) return [];
  const out: string[] = [];
  for (let i = 0; i < refs.length; i += 1000) {
    // Marked and queued for evaluation in one statement (see upsertRows).
    const rows = await queryRows<{ ref: string }>(
      db,
      sql`with gone as (
        update work_items set deleted_at = ${now.toISOString()}
        where ${inList(sql`ref`, refs.slice(i, i + 1000))} and deleted_at is null
        returning ref
      ), queued as (
        insert into eval_queue (ref) select ref from gone ${REQUEUE}
      )
      select ref from gone`,
    );
    out.push(...rows.map((r) => r.ref));
  }
  return out;
}

/** Refs of a connection's stored, not deleted items. */
export async function storedRefs(db: Db, connection: string): Promise<string[]> {
  const rows = await db
    .select({ ref: workItems.ref })
    .from(workItems)
    .where(and(eq(workItems.connection, connection), isNull(workItems.deletedAt)));
  return rows.map((r) => r.ref);
}

/**
 * The evaluation queue as a pass found it: the refs, and the versions of their rows (`xmin`, the
 * id of the transaction that queued each; a handful per pass, one per storing transaction).
 * Kept as two lists, not a row per change: a first sync queues 150,000 refs, and the pass holds
 * this until it commits.
 */
export interface QueueSnapshot {
  refs: string[];
  versions: string[];
  /** The places the queued items left (ItemReach): previous owners, and refs to evaluate too. */
  reach: { owners: string[]; refs: string[] };
}

/** The evaluation queue as it stands: what a pass that begins now must evaluate and settle. */
export async function queuedChanges(db: Db, hold: readonly string[] = []): Promise<QueueSnapshot> {
  if (hold.length > 0) {
    // Without the rows of held connections (CommitOptions.hold); `versions` stay the whole queue's.
    const [row] = await queryRows<{ refs: string[] | null; owners: string[] | null; reach: string[] | null }>(
      db,
      sql`with q as (
          select * from eval_queue where split_part(ref, ':', 1) <> all(${textArray(hold)}::text[])
        )
        select (select array_agg(ref) from q) as refs,
          (select array_agg(distinct o) from q, unnest(reach_owners) o) as owners,
          (select array_agg(distinct r) from q, unnest(reach_refs) r) as reach`,
    );
    return { refs: row?.refs ?? [], versions: [], reach: { owners: row?.owners ?? [], refs: row?.reach ?? [] } };
  }
  const [row] = await queryRows<{
    refs: string[] | null;
    versions: string[] | null;
    owners: string[] | null;
    reach: string[] | null;
  }>(
    db,
    sql`select array_agg(ref) as refs, array_agg(distinct xmin::text) as versions,
      (select array_agg(distinct o) from eval_queue, unnest(reach_owners) o) as owners,
      (select array_agg(distinct r) from eval_queue, unnest(reach_refs) r) as reach
      from eval_queue`,
  );
  return {
    refs: row?.refs ?? [],
    versions: row?.versions ?? [],
    reach: { owners: row?.owners ?? [], refs: row?.reach ?? [] },
  };
}

/**
 * Records that the changes of a queue snapshot have been evaluated and their writes planned:
 * removes the rows of `refs` whose version is one of the snapshot's. A ref queued again since
 * (another writer stored a newer content meanwhile, maybe after the pass read the item) has a
 * version from a transaction that committed after the snapshot, none of these, and stays queued
 * for the next pass; a row that writer has not committed yet holds this delete until it does,
 * and is then left alone. `refs` may hold more than the snapshot's refs (the pass's own changes):
 * a row with a snapshot version is a snapshot row whatever its ref.
 */
export async function settleQueued(db: Db, refs: readonly string[], versions: readonly string[]): Promise<void> {
  if (versions.length === 0) return;
  for (let i = 0; i < refs.length; i += 20_000) {
    // An index scan by ref, filtered by the short list of versions.
    await db.execute(
      sql`delete from eval_queue where ${inList(sql`ref`, refs.slice(i, i + 20_000))} and xmin::text = any(${textArray(versions)}::text[])`,
    );
  }
}
