// COPY on both drivers: values that need escaping arrive unchanged, a refused copy is reported
// with the database's own error and leaves the transaction usable through its savepoint, and
// statements pipelined beside a copy on one transaction neither fail nor overtake it.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../db/client.ts';
import {
  COPY_PIECE,
  CopyError,
  canCopy,
  copyOrElse,
  copyPieces,
  copyRows,
  copyText,
  copyValue,
} from '../../db/copy.ts';
import { queryRows, withPipeline } from '../../db/query.ts';
import { workItems } from '../../db/schema.ts';
import { storeItems } from '../../src/sync/store.ts';
import { dbTargets } from '../helpers/db.ts';
import { item } from '../helpers/items.ts';

describe('copyText', () => {
  it('escapes what COPY reads specially and writes null as \\N', () => {
    expect(copyValue(null)).toBe('\\N');
    expect(copyValue(undefined)).toBe('\\N');
    expect(copyValue('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyValue({ q: 'say "hi"\n' })).toBe('{"q":"say \\\\"hi\\\\"\\\\n"}');
    expect(copyValue(1.5)).toBe('1.5');
    expect(copyValue(Number.NaN)).toBe('NaN');
    expect(copyValue(true)).toBe('t');
    expect(copyText([])).toBe('');
    expect(
      copyText([
        ['a', null],
        ['b', 2],
      ]),
    ).toBe('a\t\\N\nb\t2\n');
  });

  it('cuts the text into pieces of whole rows of about COPY_PIECE characters', () => {
    const rows = Array.from({ length: 500 }, (_, i) => [i, 'x'.repeat(300)]);
    const pieces = [...copyPieces(rows)];
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('')).toBe(rows.map((r) => `${r[0]}\t${r[1]}\n`).join(''));
    for (const p of pieces) {
      expect(p.endsWith('\n')).toBe(true);
      expect(p.length).toBeLessThan(COPY_PIECE + 400);
    }
    expect([...copyPieces([])]).toEqual([]);
  });
});

const TABLE = `create table copy_probe (id int primary key, label text, doc jsonb, at timestamptz, n float8)`;

async function probeRows(db: Db): Promise<Record<string, unknown>[]> {
  return queryRows(db, sql`select id, label, doc, at::text as at, n from copy_probe order by id`);
}

for (const target of dbTargets()) {
  describe(`COPY on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    it('copies values with tabs, newlines, backslashes, quotes and unicode unchanged', async () => {
      const { db } = database;
      expect(canCopy(db)).toBe(true);
      await db.execute(sql.raw('drop table if exists copy_probe'));
      await db.execute(sql.raw(TABLE));
      const label = 'tab\there\nnew "line" \\ back – ünïcode';
      const doc = { text: 'a\tb\nc\\d "q"', list: [1, null, 'x'], nested: { ok: true } };
      await copyRows(
        db,
        'copy_probe',
        ['id', 'label', 'doc', 'at', 'n'],
        copyText([
          [1, label, doc, '2026-02-03T04:05:06.789Z', 2.25],
          [2, null, null, null, null],
        ]),
      );
      const rows = await probeRows(db);
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ id: 1, label, doc, n: 2.25 });
      expect(new Date(String(rows[0]!.at)).toISOString()).toBe('2026-02-03T04:05:06.789Z');
      expect(rows[1]).toMatchObject({ id: 2, label: null, doc: null, at: null, n: null });
    });

    it('streams a copy of many pieces, and fails one whose row cannot be written without keeping any of it', async () => {
      const { db } = database;
      await db.execute(sql.raw('drop table if exists copy_probe'));
      await db.execute(sql.raw(TABLE));
      // Two bytes a character in UTF-8, and megabytes in all: PGlite's input buffer grows in place.
      const doc = { text: 'ü'.repeat(600), list: [1, 2, 3] };
      const rows = Array.from({ length: 2000 }, (_, i) => [i, `row ${i}\t${'y'.repeat(i % 50)}`, doc]);
      expect([...copyPieces(rows)].length).toBeGreaterThan(10);
      expect(copyText(rows).length).toBeGreaterThan(2 ** 20);
      await copyRows(db, 'copy_probe', ['id', 'label', 'doc'], copyPieces(rows));
      const back = await probeRows(db);
      expect(back).toHaveLength(2000);
      expect(back[1999]).toMatchObject({ id: 1999, label: `row 1999\t${'y'.repeat(1999 % 50)}`, doc });

      // A value JSON cannot represent, far enough in that earlier pieces have gone out already.
      await db.execute(sql.raw('delete from copy_probe'));
      const bad = [...rows.slice(0, 1500), [1500, 'bad', { n: 10n }], ...rows.slice(1501)];
      const err = await copyRows(db, 'copy_probe', ['id', 'label', 'doc'], copyPieces(bad)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CopyError);
      expect(String((err as Error).message)).toMatch(/copy_probe.*BigInt/);
      expect(await probeRows(db)).toEqual([]);
      // The connection is fine afterwards.
      await copyRows(db, 'copy_probe', ['id', 'label'], copyPieces([[1, 'after']]));
      expect((await probeRows(db)).map((r) => r.label)).toEqual(['after']);
    });

    it('reports a refused copy with the database error, and a savepoint keeps the transaction going', async () => {
      const { db } = database;
      await db.execute(sql.raw('drop table if exists copy_probe'));
      await db.execute(sql.raw(TABLE));
      await db.execute(sql.raw(`insert into copy_probe (id, label) values (2, 'there first')`));
      // Outside a transaction: the error names the table and carries the database's reason.
      const err = await copyRows(
        db,
        'copy_probe',
        ['id', 'label'],
        copyText([
          [3, 'x'],
          [2, 'clash'],
        ]),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CopyError);
      expect(String((err as Error).message)).toMatch(/copy_probe.*(duplicate key|unique)/i);
      // A transaction of its own around the copy (how a store batch is copied) ends with the
      // same error, and nothing of it stays.
      const own = await db
        .transaction(async (tx) => {
          await copyRows(
            tx as unknown as Db,
            'copy_probe',
            ['id', 'label'],
            copyText([
              [4, 'x'],
              [2, 'clash'],
            ]),
          );
        })
        .catch((e: unknown) => e);
      expect(own).toBeInstanceOf(CopyError);
      expect((await probeRows(db)).map((r) => r.id)).toEqual([2]);
      // Inside one: the conflicting copy falls back to the caller's upsert, the rest commits.
      await db.transaction(async (txRaw) => {
        const tx = txRaw as unknown as Db;
        await tx.execute(sql.raw(`insert into copy_probe (id, label) values (10, 'before')`));
        let fellBack = false;
        await copyOrElse(
          tx,
          'copy_probe',
          ['id', 'label'],
          [
            [11, 'copied'],
            [2, 'clash'],
          ],
          () => {
            fellBack = true;
            return tx.execute(
              sql.raw(`insert into copy_probe (id, label) values (11, 'upserted'), (2, 'upserted')
                on conflict (id) do update set label = excluded.label`),
            );
          },
        );
        expect(fellBack).toBe(true);
        await copyOrElse(tx, 'copy_probe', ['id', 'label'], [[12, 'copied']], () => {
          throw new Error('no conflict: no fallback');
        });
      });
      const rows = await probeRows(database.db);
      expect(rows.map((r) => [r.id, r.label])).toEqual([
        [2, 'upserted'],
        [10, 'before'],
        [11, 'upserted'],
        [12, 'copied'],
      ]);
    });

    it('runs copies and pipelined statements on one transaction without either failing', async () => {
      const { db } = database;
      await db.execute(sql.raw('drop table if exists copy_probe'));
      await db.execute(sql.raw(TABLE));
      await db.transaction(async (txRaw) => {
        const tx = txRaw as unknown as Db;
        await withPipeline(async (pipeline) => {
          const seen: number[] = [];
          for (let k = 0; k < 5; k++) {
            const rows = Array.from({ length: 600 }, (_, i) => [k * 1000 + i, `c${k}`]);
            // In a savepoint and without one: the bare copy starts in the same turn as the
            // statements queued before it, and must still go after them.
            pipeline.exclusive(() =>
              k % 2 === 0
                ? copyOrElse(tx, 'copy_probe', ['id', 'label'], rows, () => {
                    throw new Error('unexpected fallback');
                  })
                : copyRows(tx, 'copy_probe', ['id', 'label'], copyText(rows)),
            );
            // Added while the copy may still be sending: starts after it, and sees its rows.
            pipeline.add(() =>
              queryRows<{ n: number }>(tx, sql`select count(*)::int as n from copy_probe`).then((r) =>
                seen.push(Number(r[0]!.n)),
              ),
            );
            pipeline.add(tx.execute(sql.raw(`insert into copy_probe (id, label) values (${900 + k * 1000}, 'i')`)));
          }
          await pipeline.drain();
          expect(seen).toEqual([600, 1201, 1802, 2403, 3004]);
        });
      });
      const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from copy_probe`);
      expect(Number(row!.n)).toBe(3005);
    });

    it('stores a first batch by COPY and later batches, overlapping it, by upsert', async () => {
      const { db } = database;
      const items = Array.from({ length: 30 }, (_, i) =>
        item(`jira-main:CP-${i}`, { title: `item\t${i}\n"quoted" \\`, labels: ['a'], raw: { tab: '\t', i } }),
      );
      const first = await storeItems(db, items.slice(0, 20));
      expect(first.changed).toHaveLength(20);
      // Half stored, half new: the copy is not tried for a batch with stored items.
      const second = await storeItems(db, [
        ...items.slice(10, 20).map((it) => ({ ...it, title: `${it.title} (edited)` })),
        ...items.slice(20),
      ]);
      expect(second.changed).toHaveLength(20);
      const rows = await queryRows<{ ref: string; title: string; raw: unknown }>(
        db,
        sql`select ref, title, raw from ${workItems} where ref like '%:CP-%' order by ref`,
      );
      expect(rows).toHaveLength(30);
      const byRef = new Map(rows.map((r) => [r.ref, r]));
      expect(byRef.get(items[0]!.ref)).toMatchObject({ title: items[0]!.title, raw: { tab: '\t', i: 0 } });
      expect(byRef.get(items[15]!.ref)?.title).toBe(`${items[15]!.title} (edited)`);
      const queued = await queryRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from eval_queue where ref like '%:CP-%'`,
      );
      expect(Number(queued[0]!.n)).toBe(30);
    });
  });
}
