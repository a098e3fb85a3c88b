// Scope on every path: an item is checked against its connection's scope before it is stored,
// evaluated or written, whether a pull, a webhook's re-read, the reconcile sweep or an
// API-triggered sync brought it (Connector.checkScope decides membership, the tracker's answer
// for a query scope).
//
// An item that left the scope (moved to another project, no longer matched by the scope's
// JQL/WIQL) is not deleted in the tracker, but it leaves pmo-sync's view exactly as if it had
// never been in scope: its row and outward links go (links to it then read as "not synced",
// `found == false`, as for any item outside the scope), its findings resolve when its ref is
// evaluated with nothing stored under it, its parent, children and linked items are
// re-evaluated (their aggregates and link checks change), and writes waiting for it are
// superseded, so nothing more is ever written to it. What pmo-sync last applied to it (the bot
// comment's id) is kept: if it comes back into scope, the same comment is edited, not doubled.
import { sql } from 'drizzle-orm';
import type { Connector, UnreadableItem } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import { inList, queryRows } from '../../db/query.ts';
import { storableText } from '../../db/storable.ts';
import type { Logger } from '../core/log.ts';
import { makeRef, type WorkItem } from '../core/work-item.ts';
import { type QuarantinedItem, recordQuarantine, unreadableItems } from './quarantine.ts';
import { markDeleted, storeItems } from './store.ts';

export interface Admitted {
  inScope: WorkItem[];
  /** Refs of the items that were outside the scope. */
  outOfScope: string[];
}

/** Splits items a connector returned by its scope; the out-of-scope ones are never stored. */
export async function admitInScope(
  connector: Connector,
  items: WorkItem[],
  opts: { viaScopeQuery?: boolean; log?: Logger } = {},
): Promise<Admitted> {
  if (items.length === 0) return { inScope: [], outOfScope: [] };
  const checked = await connector.checkScope(items, { viaScopeQuery: opts.viaScopeQuery });
  const outOfScope = checked.outOfScope.map((k) => makeRef(connector.id, k));
  if (outOfScope.length > 0) {
    opts.log?.info(
      { connection: connector.id, items: outOfScope.length, first: outOfScope[0] },
      'items outside the connection scope were not stored',
    );
  }
  return { inScope: checked.inScope, outOfScope };
}

/**
 * Takes items out of pmo-sync's view (see the header). Returns the refs to evaluate: the items
 * themselves (their findings resolve) and the stored items whose evaluation reads them. Refs
 * that were never stored cost nothing and return nothing. One statement: the removal, the
 * evaluation queue (so a crash before the evaluation loses nothing) and the superseded writes.
 */
export async function leaveScope(db: Db, refs: readonly string[]): Promise<string[]> {
  if (refs.length === 0) return [];
  const out = new Set<string>();
  for (let i = 0; i < refs.length; i += 1000) {
    const rows = await queryRows<{ ref: string }>(
      db,
      sql`with gone as (
        delete from work_items where ${inList(sql`ref`, refs.slice(i, i + 1000))}
        returning ref, parent, owner->>'id' as owner
      ), links_out as (
        delete from item_links where source in (select ref from gone) returning target
      ), links_in as (
        -- Not the rows links_out deletes: one statement may change a row only once.
        update item_links set target_container = null
        where target in (select ref from gone) and source not in (select ref from gone)
      ), affected as (
        select ref from gone
        union select parent from gone where parent is not null
        union select target from links_out
        union select source from item_links where target in (select ref from gone)
        union select ref from work_items where parent in (select ref from gone)
      ), checks as (
        delete from item_checks where ref in (select ref from gone)
      ), superseded as (
        update write_outbox set status = 'superseded', last_error = 'the item left the connection''s scope',
          lease_until = null, updated_at = now()
        where ref in (select ref from gone) and status in ('pending', 'planned')
      ), queued as (
        -- With no row left to name it, the owner whose work in progress it was rides on the
        -- queue row (store.ts ItemReach), so that owner's WIP findings are evaluated again.
        insert into eval_queue (ref, reach_owners)
        select a.ref, coalesce((select array_agg(g.owner) from gone g where g.ref = a.ref and g.owner is not null), '{}')
        from affected a
        on conflict (ref) do update set queued_at = excluded.queued_at,
          reach_owners = eval_queue.reach_owners || excluded.reach_owners
      )
      select ref from affected`,
    );
    for (const r of rows) out.add(r.ref);
  }
  return [...out];
}

/**
 * The reconcile sweep's stored refs that its scope query no longer lists: read again by key,
 * an item the tracker still has left the scope (unless it is back in it by now: then it is
 * stored), one it no longer returns was deleted. Then the items whose links name an item that
 * is not stored, or no longer live, are read again (rereadDangling). Returns the refs whose
 * evaluation changed.
 */
export async function sweepGone(
  db: Db,
  connector: Connector,
  gone: readonly string[],
  now: Date,
): Promise<{ deleted: string[]; leftScope: string[]; stored: string[]; unreadable: QuarantinedItem[] }> {
  const out = {
    deleted: [] as string[],
    leftScope: [] as string[],
    stored: [] as string[],
    unreadable: [] as QuarantinedItem[],
  };
  if (gone.length > 0) {
    const prefix = `${connector.id}:`;
    const keys = gone.map((r) => r.slice(prefix.length));
    // An item that comes back unreadable still exists: quarantined, not deleted.
    const refused: UnreadableItem[] = [];
    const found = await connector.fetchItems(keys, { onUnreadable: (u) => void refused.push(...u) });
    out.unreadable.push(...unreadableItems(connector.id, refused));
    await recordQuarantine(db, out.unreadable);
    const { inScope, outOfScope } = await admitInScope(connector, found);
    const returned = new Set([...found, ...refused].map((i) => makeRef(connector.id, storableText(i.key))));
    out.deleted = await markDeleted(
      db,
      gone.filter((r) => !returned.has(r)),
      now,
    );
    out.leftScope = await leaveScope(db, outOfScope);
    out.stored = (await storeItems(db, inScope, now)).changed;
  }
  const again = await rereadDangling(db, connector, now);
  out.stored.push(...again.stored);
  out.leftScope.push(...again.leftScope);
  out.unreadable.push(...again.unreadable);
  return out;
}

/**
 * Reads again, and stores, the connection's live items whose own links within the tracker name
 * an item pmo-sync does not hold live: deleted, never stored, or outside the scope. A tracker
 * drops the links of an item it deletes without touching the items on their other end (Jira
 * deletes them with the issue, no changelog and no `updated` on the others; Azure DevOps hides
 * them while the item is in the Recycle Bin, no new revision), so no incremental pull reads those
 * items again: without this they would keep the link for good, where a run that read them after
 * the deletion has none. Links to items outside the scope are read again on every sweep, and
 * stay. Cross-tracker pointers are the item's own fields: they change only with its `updated`.
 */
export async function rereadDangling(
  db: Db,
  connector: Connector,
  now: Date,
  opts: { targets?: readonly string[] } = {},
): Promise<{ stored: string[]; leftScope: string[]; unreadable: QuarantinedItem[] }> {
  // `targets`: only links to these (items just deleted, by a webhook say), read by index.
  const toTargets = opts.targets ? sql` and ${inList(sql`l.target`, opts.targets)}` : sql``;
  const rows = await queryRows<{ ref: string }>(
    db,
    sql`select distinct s.ref from item_links l
      join work_items s on s.ref = l.source
      where s.connection = ${connector.id} and s.deleted_at is null and l.type <> 'cross_tracker'${toTargets}
        and not exists (select 1 from work_items t where t.ref = l.target and t.deleted_at is null)
      order by s.ref`,
  );
  if (rows.length === 0) return { stored: [], leftScope: [], unreadable: [] };
  const prefix = `${connector.id}:`;
  const refused: UnreadableItem[] = [];
  const found = await connector.fetchItems(
    rows.map((r) => r.ref.slice(prefix.length)),
    { onUnreadable: (u) => void refused.push(...u) },
  );
  const unreadable = unreadableItems(connector.id, refused);
  await recordQuarantine(db, unreadable);
  // One the tracker no longer returns was deleted after the sweep listed its keys: the next
  // sweep marks it.
  const { inScope, outOfScope } = await admitInScope(connector, found);
  const leftScope = await leaveScope(db, outOfScope);
  const stored = (await storeItems(db, inScope, now)).changed;
  return { stored, leftScope, unreadable };
}
