// Items and findings: filters, cursor pagination, CSV exports, one item, and bad parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { FINDINGS, ITEMS } from './fixture.ts';
import { type ApiHarness, openHarness, problemOf } from './helpers.ts';

const refs = (body: { items: { ref: string }[] }) => body.items.map((i) => i.ref);
const sorted = (xs: string[]) => [...xs].sort();

for (const target of dbTargets()) {
  describe(`item and finding routes on ${target.name}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => {
      await h.database.close();
    });
    const json = async (path: string) => {
      const res = await h.get(path);
      expect(res.status, path).toBe(200);
      return res.json();
    };

    it('GET /api/v1/items lists every live item in ref order, in the model field names', async () => {
      const body = await json('/api/v1/items');
      expect(refs(body)).toEqual(sorted(ITEMS.map((i) => i.ref)));
      expect(body.nextCursor).toBeNull();
      const { raw: _raw, ...model } = ITEMS.find((i) => i.ref === 'jira-main:PAY-3')!;
      expect(body.items.find((i: { ref: string }) => i.ref === 'jira-main:PAY-3')).toEqual({
        ...model,
        deleted: false,
      });
    });

    it.each([
      ['connection=ado-main', ['ado-main:100', 'ado-main:101', 'ado-main:102', 'ado-main:200', 'ado-main:201']],
      ['tracker=jira&kind=epic', ['jira-main:PAY-1', 'jira-main:PAY-10', 'jira-main:WEB-1']],
      ['connection=jira-main&project=WEB', ['jira-main:WEB-1', 'jira-main:WEB-2']],
      ['program=web', ['jira-main:WEB-1', 'jira-main:WEB-2']],
      ['statusCategory=done', ['ado-main:102', 'jira-main:PAY-2', 'jira-main:WEB-1', 'jira-main:WEB-2']],
      ['hasFindings=true', ['ado-main:100', 'ado-main:201', 'jira-main:PAY-10', 'jira-main:PAY-3', 'jira-main:PAY-4']],
      ['hasFindings=true&program=web', []],
      ['q=VAULT', ['jira-main:PAY-1', 'jira-main:PAY-4']],
      ['q=PAY-1', ['jira-main:PAY-1', 'jira-main:PAY-10', 'jira-main:PAY-11']],
      ['q=%25', []],
      ['q=_', []],
      ['kind=task&statusCategory=todo', ['ado-main:201']],
      ['unknownParam=1&kind=bug', ['jira-main:PAY-4']],
    ])('GET /api/v1/items?%s', async (qs, expected) => {
      expect(refs(await json(`/api/v1/items?${qs}`))).toEqual(expected);
    });

    it('hasFindings=false is the complement of hasFindings=true', async () => {
      const without = refs(await json('/api/v1/items?hasFindings=false'));
      const withF = refs(await json('/api/v1/items?hasFindings=true'));
      expect(sorted([...without, ...withF])).toEqual(sorted(ITEMS.map((i) => i.ref)));
      expect(without.filter((r) => withF.includes(r))).toEqual([]);
    });

    it('pages with an opaque cursor until nextCursor is null, never repeating or skipping', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const qs: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const body = await json(`/api/v1/items?limit=4${qs}`);
        expect(body.items.length).toBeLessThanOrEqual(4);
        seen.push(...refs(body));
        cursor = body.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(4);
      expect(seen).toEqual(sorted(ITEMS.map((i) => i.ref)));
    });

    it('keeps the filter across pages', async () => {
      const first = await json('/api/v1/items?connection=ado-main&limit=3');
      expect(refs(first)).toEqual(['ado-main:100', 'ado-main:101', 'ado-main:102']);
      const second = await json(`/api/v1/items?connection=ado-main&limit=3&cursor=${first.nextCursor}`);
      expect(refs(second)).toEqual(['ado-main:200', 'ado-main:201']);
      expect(second.nextCursor).toBeNull();
    });

    it.each([
      'limit=0',
      'limit=501',
      'limit=abc',
      'limit=1.5',
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('{"v":1,"k":5}').toString('base64url')}`,
      'kind=saga',
      'statusCategory=doing',
      'hasFindings=yes',
      'tracker=github',
      'program=nope',
      'format=xml',
      'kind=epic&kind=bug',
      `q=${'x'.repeat(201)}`,
      'q=',
    ])('GET /api/v1/items?%s answers 400 with a problem body', async (qs) => {
      const res = await h.get(`/api/v1/items?${qs}`);
      expect(res.status).toBe(400);
      await problemOf(res);
    });

    it('names each bad parameter in the problem body', async () => {
      const res = await h.get('/api/v1/items?limit=0&kind=saga');
      const body = await res.json();
      expect(body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['kind', 'limit']);
    });

    it('GET /api/v1/items?format=csv exports every match as CSV', async () => {
      const res = await h.get('/api/v1/items?format=csv&connection=ado-main&limit=1');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="items.csv"');
      const lines = (await res.text()).trimEnd().split('\r\n');
      expect(lines[0]).toBe(
        'ref,tracker,connection,project,kind,type,title,status,statusCategory,assignee,owner,priority,due,points,parent,url',
      );
      expect(lines).toHaveLength(6);
      expect(lines[4]).toBe(
        'ado-main:200,azure-devops,ado-main,Payments,epic,Story,Fraud scoring <b>&beta</b>,To Do,todo,,,,,,,https://example.test/200',
      );
    });

    it('GET /api/v1/items/:ref gives the item, its findings and its rollup when it is a container', async () => {
      const epic = await json('/api/v1/items/jira-main:PAY-10');
      expect(epic.item.ref).toBe('jira-main:PAY-10');
      expect(epic.findings.map((f: { rule: string }) => f.rule)).toEqual(['epic-overdue']);
      expect(epic.rollup.scope).toBe('epic:jira-main:PAY-10');
      const story = await json(`/api/v1/items/${encodeURIComponent('jira-main:PAY-3')}`);
      expect(story.rollup).toBeNull();
      expect(story.findings).toEqual([
        {
          ref: 'jira-main:PAY-3',
          rule: 'owner-required',
          severity: 'error',
          status: 'open',
          message: 'Fix it',
          firstSeen: '2026-06-13T12:00:00.000Z',
          lastSeen: '2026-06-14T12:00:00.000Z',
          resolvedAt: null,
          waivedReason: null,
          waivedUntil: null,
        },
      ]);
    });

    it('GET /api/v1/items/:ref answers 404 for an unknown ref and 400 for a too short one', async () => {
      const missing = await h.get('/api/v1/items/jira-main:NOPE-1');
      expect(missing.status).toBe(404);
      expect((await problemOf(missing)).detail).toBe('No item "jira-main:NOPE-1".');
      const short = await h.get('/api/v1/items/x');
      expect(short.status).toBe(400);
      await problemOf(short);
      const odd = await h.get('/api/v1/items/%E0%A4%A');
      expect(odd.status).toBeLessThan(500);
    });

    it.each([
      ['', FINDINGS.length],
      ['status=open', 5],
      ['status=resolved', 1],
      ['rule=owner-required', 3],
      ['rule=owner-required&status=open', 2],
      ['severity=warning', 2],
      ['program=web', 0],
      ['program=payments&severity=error', 4],
      ['ref=ado-main:100', 1],
    ])('GET /api/v1/findings?%s gives %i findings', async (qs, n) => {
      const body = await json(`/api/v1/findings?${qs}`);
      expect(body.findings).toHaveLength(n);
    });

    it('pages findings with a cursor', async () => {
      const first = await json('/api/v1/findings?limit=4');
      expect(first.findings).toHaveLength(4);
      const second = await json(`/api/v1/findings?limit=4&cursor=${first.nextCursor}`);
      expect(second.findings).toHaveLength(2);
      expect(second.nextCursor).toBeNull();
      const all = [...first.findings, ...second.findings].map(
        (f: { ref: string; rule: string }) => `${f.ref} ${f.rule}`,
      );
      expect(new Set(all).size).toBe(FINDINGS.length);
    });

    it.each([
      'severity=fatal',
      'status=closed',
      'program=nope',
      'limit=-1',
      'cursor=abc',
      `cursor=${Buffer.from('{"v":1,"k":"a"}').toString('base64url')}`,
      'format=pdf',
    ])('GET /api/v1/findings?%s answers 400', async (qs) => {
      const res = await h.get(`/api/v1/findings?${qs}`);
      expect(res.status).toBe(400);
      await problemOf(res);
    });

    it('GET /api/v1/findings?format=csv exports the filtered findings', async () => {
      const res = await h.get('/api/v1/findings?format=csv&status=open&severity=warning');
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect((await res.text()).split('\r\n')).toEqual([
        'ref,rule,severity,status,message,firstSeen,lastSeen,resolvedAt,waivedReason,waivedUntil',
        'ado-main:100,epic-gate,warning,open,Fix it,2026-06-13T12:00:00.000Z,2026-06-14T12:00:00.000Z,,,',
        'ado-main:201,estimate-before-start,warning,open,Fix it,2026-06-13T12:00:00.000Z,2026-06-14T12:00:00.000Z,,,',
        '',
      ]);
    });

    it('GET /api/v1/rules gives what the rules dependency gives, or none', async () => {
      expect(await json('/api/v1/rules')).toEqual({ rules: [] });
      const rules = [{ id: 'epic-target-date', severity: 'error', title: 'Open epics have a target date' }];
      const app = h.appWith({ rules: async () => rules });
      const res = await h.get('/api/v1/rules', h.tokens.read, app);
      expect(await res.json()).toEqual({ rules });
    });

    it('answers an unexpected failure with a bare 500 problem that leaks nothing', async () => {
      const app = h.appWith({
        rules: async () => {
          throw new Error('connection string postgres://u:hunter2@db');
        },
      });
      const res = await h.get('/api/v1/rules', h.tokens.read, app);
      expect(res.status).toBe(500);
      const body = await problemOf(res);
      expect(JSON.stringify(body)).not.toContain('hunter2');
    });

    it('answers unknown routes with a 404 problem', async () => {
      for (const path of ['/api/v1/nope', '/nope', '/api/v2/portfolio']) {
        const res = await h.get(path);
        expect(res.status, path).toBe(404);
        await problemOf(res);
      }
    });
  });
}
