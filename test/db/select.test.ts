// selectRows must give exactly what drizzle's select gives, on both drivers: every column type
// the schema uses (text, jsonb, timestamps, dates, integers, bigserial ids), nulls included.
import { eq, getTableColumns, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { inList } from '../../db/query.ts';
import { findings, itemChecks, workItems } from '../../db/schema.ts';
import { selectRows } from '../../db/select.ts';
import { dbTargets } from '../helpers/db.ts';

const base = {
  connection: 'jira-main',
  tracker: 'jira',
  project: 'PAY',
  kind: 'story',
  type: 'Story',
  status: 'In Progress',
  statusCategory: 'in_progress',
  created: '2026-01-02T03:04:05.000Z',
  updated: '2026-02-02T03:04:05.678Z',
  url: 'https://acme.atlassian.net/browse/PAY-1',
  revision: '2026-02-02T03:04:05.678Z',
  contentHash: 'h',
};

for (const target of dbTargets()) {
  describe(`selectRows on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
      const { db } = database;
      await db.insert(workItems).values([
        {
          ...base,
          ref: 'jira-main:PAY-1',
          key: 'PAY-1',
          title: 'Card "vault" – ünïcode',
          assignee: { id: 'u1', name: 'Ada' },
          owner: { id: 'u1', name: 'Ada' },
          priority: 'High',
          labels: ['pmo', 'q3'],
          started: '2026-01-05T00:00:00.000Z',
          start: '2026-01-01',
          due: '2026-03-31',
          points: 5.5,
          estimateHours: 12,
          parent: 'jira-main:PAY-0',
          links: [{ type: 'blocks', target: 'ado-main:7' }],
          iteration: { name: 'Sprint 4', start: null, end: null },
          fields: { team: 'Payments', nested: { n: 1 } },
          raw: { key: 'PAY-1', fields: { summary: 'x', list: [1, null, 'y'] } },
        },
        { ...base, ref: 'jira-main:PAY-2', key: 'PAY-2', title: 'Bare', deletedAt: '2026-02-03T00:00:00.000Z' },
      ]);
      await db.insert(itemChecks).values({ ref: 'jira-main:PAY-1', ruleChecks: 7 });
      await db.insert(findings).values([
        {
          ref: 'jira-main:PAY-1',
          rule: 'needs-owner',
          severity: 'high',
          status: 'waived',
          message: 'm',
          firstSeen: '2026-02-01T00:00:00.000Z',
          lastSeen: '2026-02-02T00:00:00.000Z',
          waivedReason: 'agreed',
          waivedUntil: '2026-12-31',
          ruleHash: 'r',
          itemHash: 'i',
        },
        {
          ref: 'jira-main:PAY-2',
          rule: 'needs-due',
          severity: 'low',
          status: 'open',
          message: 'n',
          firstSeen: '2026-02-01T00:00:00.000Z',
          lastSeen: '2026-02-01T00:00:00.000Z',
          ruleHash: 'r',
          itemHash: 'i',
        },
      ]);
    });
    afterAll(async () => {
      await database.close();
    });

    it('reads whole rows of every column type as drizzle does', async () => {
      const { db } = database;
      const order = (rows: { ref: string }[]) => [...rows].sort((a, b) => a.ref.localeCompare(b.ref));
      expect(order(await selectRows(db, getTableColumns(workItems), workItems))).toEqual(
        order(await db.select().from(workItems)),
      );
      expect(order(await selectRows(db, getTableColumns(findings), findings))).toEqual(
        order(await db.select().from(findings)),
      );
      const [finding] = await selectRows(db, getTableColumns(findings), findings, eq(findings.rule, 'needs-owner'));
      expect(typeof finding?.id).toBe('number');
    });

    it('reads chosen columns, computed ones and joins with a condition', async () => {
      const { db } = database;
      const columns = {
        ref: workItems.ref,
        labels: workItems.labels,
        ruleChecks: itemChecks.ruleChecks,
        updated: workItems.updated,
      };
      const from = sql`${workItems} left join ${itemChecks} on ${itemChecks.ref} = ${workItems.ref}`;
      const where = inList(workItems.ref, ['jira-main:PAY-1', 'jira-main:PAY-2']);
      const drizzle = await db
        .select(columns)
        .from(workItems)
        .leftJoin(itemChecks, eq(itemChecks.ref, workItems.ref))
        .where(where);
      const rows = await selectRows(db, columns, from, where);
      expect([...rows].sort((a, b) => a.ref.localeCompare(b.ref))).toEqual(
        [...drizzle].sort((a, b) => a.ref.localeCompare(b.ref)),
      );
      expect(rows.find((r) => r.ref === 'jira-main:PAY-2')?.ruleChecks).toBeNull();
    });
  });
}
