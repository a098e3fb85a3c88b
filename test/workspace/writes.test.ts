// The write review behind `report --writes` and GET /api/v1/admin/writes: each planned write's
// comment text, labels and field values, and what it changes since the state last applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { appliedState, writeOutbox } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { commentText, lineDiff } from '../../src/report/writes.ts';
import { dbTargets } from '../helpers/db.ts';
import { seedWorkspace, workspaceConfig } from './fixture.ts';

const now = new Date('2026-06-15T12:00:00.000Z');
const config = workspaceConfig();

const doc = (health: string, findings: string[]) => ({
  marker: 'pmo-sync:jira-main:PAY-20',
  blocks: [
    { type: 'heading' as const, text: 'PMO check' },
    { type: 'paragraph' as const, content: [{ text: `Health: ${health}`, bold: true }] },
    { type: 'bullets' as const, items: findings.map((f) => [{ text: f }]) },
  ],
});

for (const target of dbTargets()) {
  describe(`write review on ${target.name}`, () => {
    let database: Database;
    let admin: string;
    let read: string;
    const get = (path: string, token: string) =>
      createApp({ database, config, log: silentLogger(), now: () => now }).request(path, {
        headers: { authorization: `Bearer ${token}` },
      });

    beforeAll(async () => {
      database = await target.open();
      const { db } = database;
      await seedWorkspace(db, config, now);
      admin = (await createToken(db, { scope: 'admin' })).token;
      read = (await createToken(db, { scope: 'read' })).token;
      const base = { connection: 'jira-main', status: 'planned' };
      await db.insert(writeOutbox).values([
        {
          ...base,
          ref: 'jira-main:PAY-20',
          target: 'comment',
          desiredHash: 'c2',
          payload: { comment: { action: 'ensure', doc: doc('RED', ['Set an owner.', 'Add acceptance criteria.']) } },
        },
        {
          ...base,
          ref: 'jira-main:PAY-20',
          target: 'fields',
          desiredHash: 'f2',
          payload: { fields: { health: 'red' } },
        },
        {
          ...base,
          ref: 'jira-main:PAY-2',
          target: 'labels',
          desiredHash: 'l1',
          payload: { labels: { add: ['pmo:noncompliant'], remove: [] } },
        },
        {
          connection: 'ado-main',
          status: 'pending',
          ref: 'ado-main:100',
          target: 'comment',
          desiredHash: 'x',
          payload: { comment: { action: 'delete' } },
        },
      ]);
      await db.insert(appliedState).values([
        {
          ref: 'jira-main:PAY-20',
          target: 'comment',
          hash: 'c1',
          externalId: '10001',
          value: { comment: { action: 'ensure', doc: doc('AMBER', ['Set an owner.']) } },
        },
        { ref: 'jira-main:PAY-20', target: 'fields', hash: 'f1', value: { fields: { health: 'amber' } } },
      ]);
    });
    afterAll(async () => {
      await database.close();
    });

    it('shows each write’s text, labels and fields, and what changes since the last applied state', async () => {
      const res = await get('/api/v1/admin/writes', admin);
      expect(res.status).toBe(200);
      const { writes } = (await res.json()) as { writes: Record<string, unknown>[] };
      const pick = (w: Record<string, unknown>) => ({
        ref: w.ref,
        target: w.target,
        status: w.status,
        change: w.change,
        commentText: w.commentText,
        commentDiff: w.commentDiff,
        labels: w.labels,
        fieldChanges: w.fieldChanges,
      });
      expect(writes.map(pick)).toEqual([
        {
          ref: 'ado-main:100',
          target: 'comment',
          status: 'pending',
          change: 'new',
          commentText: null,
          commentDiff: [],
          labels: null,
          fieldChanges: [],
        },
        {
          ref: 'jira-main:PAY-2',
          target: 'labels',
          status: 'planned',
          change: 'new',
          commentText: null,
          commentDiff: [],
          labels: { add: ['pmo:noncompliant'], remove: [] },
          fieldChanges: [],
        },
        {
          ref: 'jira-main:PAY-20',
          target: 'comment',
          status: 'planned',
          change: 'changed',
          commentText: 'PMO check\nHealth: RED\n- Set an owner.\n- Add acceptance criteria.',
          commentDiff: ['- Health: AMBER', '+ Health: RED', '+ - Add acceptance criteria.'],
          labels: null,
          fieldChanges: [],
        },
        {
          ref: 'jira-main:PAY-20',
          target: 'fields',
          status: 'planned',
          change: 'changed',
          commentText: null,
          commentDiff: [],
          labels: null,
          fieldChanges: [{ field: 'health', before: 'amber', after: 'red' }],
        },
      ]);
      expect(writes.find((w) => w.ref === 'ado-main:100')?.action).toBe('delete');
    });

    it('narrows to a filter’s items, and is for admins only', async () => {
      const ado = (await (await get('/api/v1/admin/writes?tracker=azure-devops', admin)).json()) as {
        writes: { ref: string }[];
      };
      expect(ado.writes.map((w) => w.ref)).toEqual(['ado-main:100']);
      const owner = (await (await get('/api/v1/admin/writes?owner=alice%20adams', admin)).json()) as {
        writes: { ref: string }[];
      };
      expect(owner.writes.map((w) => w.ref)).toEqual(['jira-main:PAY-20', 'jira-main:PAY-20']);
      expect((await get('/api/v1/admin/writes', read)).status).toBe(403);
      expect((await get('/api/v1/admin/writes?program=nope', admin)).status).toBe(400);
    });
  });
}

describe('comment text', () => {
  it('renders links with their address and diffs by line', () => {
    expect(
      commentText({
        marker: 'm',
        blocks: [{ type: 'paragraph', content: [{ text: 'see ' }, { text: 'rule', href: 'https://x.test/r' }] }],
      }),
    ).toBe('see rule <https://x.test/r>');
    expect(lineDiff(null, 'a\nb')).toEqual(['+ a', '+ b']);
    expect(lineDiff('a\nb', 'a\nb')).toEqual([]);
  });
});
