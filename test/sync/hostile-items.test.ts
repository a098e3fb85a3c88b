// Any item a tracker can return can be stored: text with U+0000, lone surrogates, escapes that
// look like JSON's, emoji and right-to-left text, a 1 MB description, thousands of labels and
// links. Normalized fields are sanitized where Postgres cannot hold a character and the raw
// JSON's envelope says which; the raw JSON reads back exactly as the tracker sent it, through
// drizzle and through the reads rules make; rules and rollups see the item.
import { eq, getTableColumns, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { itemChecks, itemLinks, quarantine, rollups, workItems } from '../../db/schema.ts';
import { selectRows } from '../../db/select.ts';
import { storableValue, trackerJsonMeta } from '../../db/storable.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import { toReportItem } from '../../src/report/load.ts';
import { createSyncPipeline } from '../../src/sync/pipeline.ts';
import { commitChanges } from '../../src/sync/run.ts';
import { storeItems } from '../../src/sync/store.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { dbTargets } from '../helpers/db.ts';
import { hostileJson, hostileString, textAsRead } from '../helpers/hostile.ts';
import { item } from '../helpers/items.ts';
import { standardRuleSet } from '../helpers/rules.ts';

const now = new Date('2026-06-15T00:00:00.000Z');
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** Every normalized field as a read through drizzle gives it (the report's and the API's item). */
async function readItem(db: Db, ref: string) {
  const [row] = await db.select().from(workItems).where(eq(workItems.ref, ref));
  return row;
}

/** The item as rules load it: every column, through selectRows (no drizzle row mapping). */
async function readForRules(db: Db, ref: string) {
  const [row] = await selectRows(db, getTableColumns(workItems), workItems, eq(workItems.ref, ref));
  return row;
}

/** The raw column as stored, before any decoding: what an SQL client sees. */
async function storedRaw(db: Db, ref: string): Promise<unknown> {
  const [row] = await queryRows<{ raw: unknown }>(db, sql`select raw from work_items where ref = ${ref}`);
  return row?.raw;
}

/** The model's view of a stored item: what was sent, sanitized where Postgres holds no such text. */
function expectedNormalized(sent: WorkItem, db: string) {
  const { raw: _raw, ...normalized } = sent;
  const out = asJson(storableValue(normalized)) as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (typeof v === 'string') out[k] = textAsRead(v, db);
  return { ...out, deleted: false };
}

const hostileItem = (n: number) =>
  fc
    .record({
      title: hostileString(20),
      label: hostileString(),
      field: hostileJson,
      name: hostileString(),
      raw: hostileJson,
    })
    .map(
      ({ title, label, field, name, raw }): WorkItem =>
        item(`jira-main:PAY-${n}`, {
          title,
          labels: ['team', label],
          fields: { businessCase: field },
          assignee: { id: 'u1', name },
          owner: { id: 'u1', name },
          raw: { key: `PAY-${n}`, fields: { summary: title, custom: raw } },
        }),
    );

for (const target of dbTargets()) {
  describe(`hostile items on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    it('store whatever text they hold, sanitized where needed and raw read back as sent (copied, then upserted)', async () => {
      const { db } = database;
      let next = 1;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => hostileItem(i)))),
          async (drawn) => {
            const items = drawn.map((it) => {
              const key = `PAY-${next++}`;
              return { ...it, ref: `jira-main:${key}`, key, raw: { ...(it.raw as object), key } };
            });
            // New refs (the COPY path), then the same refs at a new revision (the upsert).
            for (const revision of ['1', '2']) {
              const batch = items.map((it) => ({ ...it, revision }));
              const stored = await storeItems(db, batch, now);
              expect(stored.quarantined).toEqual([]);
              for (const sent of batch) {
                const sanitized = ['title', 'assignee', 'owner', 'labels', 'fields'].filter(
                  (k) =>
                    JSON.stringify(storableValue(sent[k as keyof WorkItem])) !==
                    JSON.stringify(sent[k as keyof WorkItem]),
                );
                const drizzleRow = await readItem(db, sent.ref);
                expect(toReportItem(drizzleRow!)).toEqual(expectedNormalized(sent, target.name));
                expect(drizzleRow!.raw).toEqual(asJson(sent.raw));
                expect((await readForRules(db, sent.ref))!.raw).toEqual(asJson(sent.raw));
                expect(trackerJsonMeta(await storedRaw(db, sent.ref))?.sanitized.sort() ?? []).toEqual(
                  sanitized.sort(),
                );
              }
            }
          },
        ),
        { numRuns: 25 },
      );
    });

    it('store a 1 MB description, thousands of labels and links, emoji and right-to-left text, and rules and rollups see them', async () => {
      const { db } = database;
      // 23 UTF-16 units a repeat (the emoji is a surrogate pair), U+0000 near the end: 1 MiB of text.
      const description = `${'Ünïcödé описание 描述 😀 '.repeat(45_590)}\u0000 end!`;
      const labels = Array.from({ length: 5000 }, (_, i) => `label-${i}-${i % 2 ? 'שלום' : '😀'}`);
      const links = Array.from({ length: 3000 }, (_, i) => ({
        type: 'relates' as const,
        target: `jira-main:LNK-${i}`,
      }));
      const epic = item('jira-main:BIG-1', {
        kind: 'epic',
        title: 'Epic \u202Eright-to-left\u202C',
        statusCategory: 'in_progress',
      });
      const big = item('jira-main:BIG-2', {
        kind: 'story',
        parent: 'jira-main:BIG-1',
        project: 'BIG',
        title: 'مرحبا بالعالم — 👩🏽‍💻',
        labels,
        links,
        fields: { description },
        raw: { key: 'BIG-2', fields: { description, labels } },
      });

      const stored = await storeItems(db, [{ ...epic, project: 'BIG' }, big], now);
      const pipeline = createSyncPipeline({ config: oneJiraConnection(), ruleSet: standardRuleSet() });
      await commitChanges(db, pipeline, { refs: stored.changed, now, dryRun: true });

      const row = await readItem(db, big.ref);
      expect(toReportItem(row!)).toEqual(expectedNormalized(big, target.name));
      expect((row!.fields as { description: string }).description.length).toBe(1_048_576);
      expect(row!.raw).toEqual(big.raw);
      expect(trackerJsonMeta(await storedRaw(db, big.ref))).toEqual({ escaped: true, sanitized: ['fields'] });
      const linkRows = await db.select().from(itemLinks).where(eq(itemLinks.source, big.ref));
      expect(linkRows).toHaveLength(3000);
      // Evaluated (its rule count is the compliance denominator) and counted in its epic's rollup.
      expect(await db.select({ ref: itemChecks.ref }).from(itemChecks).where(eq(itemChecks.ref, big.ref))).toEqual([
        { ref: big.ref },
      ]);
      const [rollup] = await db
        .select()
        .from(rollups)
        .where(eq(rollups.scope, `epic:${epic.ref}`));
      expect((rollup!.metrics as { counts: { total: number } }).counts.total).toBe(1);
      expect(await db.select().from(quarantine).where(eq(quarantine.ref, big.ref))).toEqual([]);
    });

    it('a key too long for any index is quarantined alone, and the rest of its batch is stored', async () => {
      const { db } = database;
      // A hostile tracker's key: 3,000 characters that do not compress, over a btree entry's 2,704 bytes.
      let seed = 7;
      const noise = Array.from({ length: 3000 }, () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return String.fromCharCode(0x4e00 + (seed % 0x5000));
      }).join('');
      const long = item(`jira-main:LONG-${noise}`);
      const batch = [item('jira-main:LONG-1'), long, item('jira-main:LONG-2')];

      const stored = await storeItems(db, batch, now);

      expect(stored.changed).toEqual(['jira-main:LONG-1', 'jira-main:LONG-2']);
      expect(stored.quarantined).toEqual([
        { ref: long.ref, stage: 'store', reason: expect.stringMatching(/^index row .* exceeds .*work_items_pkey/) },
      ]);
      const rows = await db
        .select({ ref: quarantine.ref, key: quarantine.key })
        .from(quarantine)
        .where(sql`${quarantine.ref} like 'jira-main:LONG-%'`);
      expect(rows).toEqual([{ ref: long.ref, key: long.key }]);
    });
  });
}
