// What Postgres cannot hold: sanitized where pmo-sync reads the value itself, kept losslessly in a
// tracker's raw JSON. Property-based over hostile text (U+0000, lone surrogates, escapes that look
// like JSON's, emoji, right-to-left text), then through both databases on every write path: a
// drizzle insert, COPY, and the SQL of the bulk paths.
import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { copyPieces, copyRows, copyValue } from '../../db/copy.ts';
import { queryRows } from '../../db/query.ts';
import { kv, syncRuns, webhookInbox } from '../../db/schema.ts';
import {
  decodeTrackerJson,
  isStorableText,
  isStorableValue,
  jsonNeedsEscaping,
  REPLACEMENT_CHARACTER as R,
  storableText,
  storableValue,
  trackerJsonMeta,
  trackerJsonText,
} from '../../db/storable.ts';
import { dbTargets } from '../helpers/db.ts';
import { hostileJson, hostileString, textAsRead } from '../helpers/hostile.ts';

/** A value as JSON holds it (JSON.stringify writes -0 as 0): what lossless can mean. */
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('storableText', () => {
  it('replaces U+0000 and lone surrogates with U+FFFD and leaves everything else alone', () => {
    const cases = [
      'plain',
      '问题分布的帕累托图\u0000',
      'a\uD800b',
      'a\uDC00b',
      '\uDC00\uD800',
      '😀 emoji, 👩🏽‍💻 and שלום עולם \u202E',
      '\uFFFE\uFFFF\uFEFF',
      '\\u0000 as text',
    ];
    expect(cases.map(storableText)).toEqual([
      'plain',
      `问题分布的帕累托图${R}`,
      `a${R}b`,
      `a${R}b`,
      `${R}${R}`,
      '😀 emoji, 👩🏽‍💻 and שלום עולם \u202E',
      '\uFFFE\uFFFF\uFEFF',
      '\\u0000 as text',
    ]);
  });

  it('always gives storable text of the same length, and storable text back unchanged', () => {
    fc.assert(
      fc.property(hostileString(40), (s) => {
        const out = storableText(s);
        expect(isStorableText(out)).toBe(true);
        expect(out.length).toBe(s.length);
        if (isStorableText(s)) expect(out).toBe(s);
      }),
    );
  });

  it('makes every string of a JSON value storable, keys too, and returns a storable value itself', () => {
    fc.assert(
      fc.property(hostileJson, (v) => {
        const out = storableValue(v);
        expect(isStorableValue(out)).toBe(true);
        expect(JSON.stringify(out).length).toBe(JSON.stringify(storableValue(out)).length);
        if (isStorableValue(v)) expect(out).toBe(v);
      }),
    );
    expect(storableValue({ ['__proto__']: 'a\u0000', list: ['\uD800', 1, null] })).toEqual(
      JSON.parse(`{"__proto__":"a${R}","list":["${R}",1,null]}`),
    );
  });
});

describe('trackerJsonText', () => {
  it('gives back exactly the value it was given, and never an escape jsonb refuses', () => {
    fc.assert(
      fc.property(hostileJson, fc.array(fc.constantFrom('title', 'labels', 'fields')), (v, sanitized) => {
        const text = trackerJsonText(v, sanitized);
        expect(jsonNeedsEscaping(text)).toBe(false);
        expect(decodeTrackerJson(JSON.parse(text))).toEqual(asJson(v));
        expect(trackerJsonMeta(JSON.parse(text))?.sanitized ?? []).toEqual(sanitized);
      }),
    );
  });

  it('stores plain JSON as it is and says nothing about it', () => {
    const issue = { key: 'PAY-1', fields: { summary: 'Plain 😀 text', labels: ['a\\b'] } };
    expect(trackerJsonText(issue)).toBe(JSON.stringify(issue));
    expect(trackerJsonMeta(issue)).toBeNull();
  });

  it('escapes in an envelope, says so, and keeps a tracker value shaped like an envelope apart', () => {
    const issue = { key: 'EE-4', fields: { summary: 'Pareto\u0000', 'odd\uD800key': '\\0' } };
    const stored = JSON.parse(trackerJsonText(issue, ['title']));
    expect(stored).toEqual({
      'pmo-sync:raw': { key: 'EE-4', fields: { summary: 'Pareto\\0', 'odd\\uD800key': '\\\\0' } },
      'pmo-sync:escaped': true,
      'pmo-sync:sanitized': ['title'],
    });
    expect(trackerJsonMeta(stored)).toEqual({ escaped: true, sanitized: ['title'] });
    expect(decodeTrackerJson(stored)).toEqual(issue);

    const lookalike = { 'pmo-sync:raw': { a: 1 }, 'pmo-sync:escaped': true };
    expect(decodeTrackerJson(JSON.parse(trackerJsonText(lookalike)))).toEqual(lookalike);
  });
});

for (const target of dbTargets()) {
  describe(`hostile text into ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    it('keeps a tracker JSON column lossless through drizzle, and sanitizes text and jsonb columns', async () => {
      const { db } = database;
      let n = 0;
      await fc.assert(
        fc.asyncProperty(hostileJson, hostileString(), async (payload, text) => {
          const deliveryId = `d-${n++}`;
          // As the receiver stores a delivery (a JSON null would be SQL null to drizzle).
          const body = { event: { kind: 'updated' }, payload };
          await db.insert(webhookInbox).values({
            connection: 'jira-main',
            tracker: 'jira',
            deliveryId,
            event: 'updated',
            keys: [text],
            body,
            lastError: text,
          });
          const [row] = await db
            .select({ body: webhookInbox.body, keys: webhookInbox.keys, lastError: webhookInbox.lastError })
            .from(webhookInbox)
            .where(eq(webhookInbox.deliveryId, deliveryId));
          expect(row).toEqual({
            body: asJson(body),
            keys: [storableText(text)],
            lastError: textAsRead(storableText(text), target.name),
          });
        }),
        { numRuns: 60 },
      );
      // What the sync writes of the trackers' text into its own tables.
      const drift = [{ what: 'status', name: 'In\u0000Review\uD800', message: 'unknown \u0000' }];
      await db.insert(kv).values({ key: 'drift:jira-main', value: drift });
      const [run] = await db
        .insert(syncRuns)
        .values({ kind: 'sync', mode: 'enforce', error: 'jira-main: bad \u0000', summary: { warnings: ['\uDC00'] } })
        .returning({ id: syncRuns.id });
      expect(await db.select({ value: kv.value }).from(kv)).toEqual([{ value: storableValue(drift) }]);
      expect(
        await db
          .select({ error: syncRuns.error, summary: syncRuns.summary })
          .from(syncRuns)
          .where(eq(syncRuns.id, run!.id)),
      ).toEqual([{ error: `jira-main: bad ${R}`, summary: { warnings: [R] } }]);
    });

    it('reads back a key it escaped after reading a key its escape spells', async () => {
      // V8's JSON.parse (nodejs/node#63785) read the escaped "\\0" + U+200F of the second body's
      // key as the first body's key, backslash backslash 0, once that one had been parsed.
      const { db } = database;
      const bodies = [
        { event: { kind: 'updated' }, payload: { '': '', '\\\\0': false } },
        { event: { kind: 'updated' }, payload: { '': '', '\u0000\u200f': false } },
      ];
      const read = [];
      for (const [i, body] of bodies.entries()) {
        const deliveryId = `v8-key-${i}`;
        await db
          .insert(webhookInbox)
          .values({ connection: 'jira-main', tracker: 'jira', deliveryId, event: 'updated', keys: [], body });
        const [row] = await db
          .select({ body: webhookInbox.body })
          .from(webhookInbox)
          .where(eq(webhookInbox.deliveryId, deliveryId));
        read.push(row!.body);
      }
      expect(read.map((b) => Object.keys((b as { payload: object }).payload))).toEqual([
        ['', '\\\\0'],
        ['', '\u0000\u200f'],
      ]);
    });

    it('copies text and JSON holding U+0000 and lone surrogates, sanitized', async () => {
      const { db } = database;
      await db.execute(sql.raw('drop table if exists storable_probe'));
      await db.execute(sql.raw('create table storable_probe (id int primary key, label text, doc jsonb)'));
      const rows = [
        [1, 'nul\u0000 and \uD800 lone', { a: 'x\u0000', 'k\uDFFF': ['\uD83D\uDE00', '\uD83D'] }],
        [2, 'שלום 😀', { plain: true }],
      ];
      expect(copyValue(rows[0]![1])).toBe(`nul${R} and \uD800 lone`);
      await copyRows(db, 'storable_probe', ['id', 'label', 'doc'], copyPieces(rows));
      expect(await queryRows(db, sql`select id, label, doc from storable_probe order by id`)).toEqual([
        { id: 1, label: `nul${R} and ${R} lone`, doc: { a: `x${R}`, [`k${R}`]: ['😀', R] } },
        { id: 2, label: 'שלום 😀', doc: { plain: true } },
      ]);
    });
  });
}
