// CSV exports through the real app: tracker text that a spreadsheet would run as a formula comes
// out neutralized and RFC 4180-quoted, and an export larger than one read page streams whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { storeItems } from '../../src/sync/store.ts';
import { dbTargets } from '../helpers/db.ts';
import { item } from '../helpers/items.ts';

const HOSTILE = ["=cmd|' /C calc'!A0", '+SUM(1,2)', '-2+3', '@SUM(A1)', '\t=1', '\r=1', 'line one\nline "two"'];

for (const target of dbTargets()) {
  describe(`CSV exports on ${target.name}`, () => {
    let database: Database;
    let token: string;
    beforeAll(async () => {
      database = await target.open();
      const hostile = HOSTILE.map((title, i) =>
        item(`jira-main:EVIL-${i + 1}`, { title, assignee: { id: `u${i}`, name: title } }),
      );
      // More than one export page (1,000 rows), so the stream has to go on past the first.
      const bulk = Array.from({ length: 2100 }, (_, i) => item(`jira-main:BULK-${i + 1}`));
      await storeItems(database.db, [...hostile, ...bulk]);
      const at = '2026-06-14T12:00:00.000Z';
      await database.db.insert(findings).values({
        ref: 'jira-main:EVIL-1',
        rule: 'owner-required',
        severity: 'error',
        status: 'open',
        message: '=HYPERLINK("http://evil.test","fix")',
        firstSeen: at,
        lastSeen: at,
        ruleHash: 'r',
        itemHash: 'i',
      });
      ({ token } = await createToken(database.db, { scope: 'read' }));
    });
    afterAll(async () => {
      await database.close();
    });

    const get = (path: string) =>
      createApp({ database, config: null, log: silentLogger() }).request(path, {
        headers: { authorization: `Bearer ${token}` },
      });

    it('neutralizes formula cells in the items export and quotes per RFC 4180', async () => {
      const res = await get('/api/v1/items?format=csv&project=EVIL');
      expect(res.status).toBe(200);
      const text = await res.text();
      const row = (n: number, cell: string) =>
        `jira-main:EVIL-${n},jira,jira-main,EVIL,story,Story,${cell},To Do,todo,${cell},,,,,,https://example.test/EVIL-${n}`;
      expect(text.split('\r\n').slice(1, 5)).toEqual([
        row(1, `'=cmd|' /C calc'!A0`),
        row(2, `"'+SUM(1,2)"`),
        row(3, "'-2+3"),
        row(4, "'@SUM(A1)"),
      ]);
      expect(text).toContain(row(5, "'\t=1"));
      expect(text).toContain(row(6, `"'\r=1"`));
      expect(text).toContain(row(7, '"line one\nline ""two"""'));
    });

    it('neutralizes formula cells in the findings export', async () => {
      const res = await get('/api/v1/findings?format=csv');
      expect((await res.text()).split('\r\n')[1]).toBe(
        `jira-main:EVIL-1,owner-required,error,open,"'=HYPERLINK(""http://evil.test"",""fix"")",2026-06-14T12:00:00.000Z,2026-06-14T12:00:00.000Z,,,`,
      );
    });

    it('streams an export of several pages whole, one row per item', async () => {
      const res = await get('/api/v1/items?format=csv&project=BULK');
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const lines = (await res.text()).split('\r\n');
      expect(lines).toHaveLength(1 + 2100 + 1);
      expect(lines.at(-1)).toBe('');
      expect(new Set(lines.slice(1, -1).map((l) => l.split(',')[0])).size).toBe(2100);
    });
  });
}
