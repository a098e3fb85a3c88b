// Portfolio, program, project and history routes over the seeded portfolio.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { NOW } from './fixture.ts';
import { type ApiHarness, openHarness, problemOf } from './helpers.ts';

const ALL_EPICS = ['ado-main:100', 'ado-main:200', 'jira-main:PAY-1', 'jira-main:PAY-10', 'jira-main:WEB-1'];

for (const target of dbTargets()) {
  describe(`rollup routes on ${target.name}`, () => {
    let h: ApiHarness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => {
      await h.database.close();
    });

    it('GET /api/v1/portfolio gives the headline, programs, projects and freshness', async () => {
      const res = await h.get('/api/v1/portfolio');
      expect(res.status).toBe(200);
      const body = await res.json();
      // 14 items × 4 checks, 5 open findings: 51/56.
      expect(body.headline).toEqual({
        epics: { total: 5, green: 2, amber: 1, red: 2 },
        compliance: 0.9107,
        overdueEpics: 2,
        openFindings: 5,
        items: 14,
      });
      expect(body.rollup.scope).toBe('portfolio');
      expect(body.rollup.metrics.compliance).toBe(body.headline.compliance);
      expect(body.programs.map((p: { id: string; rollup: { scope: string } }) => [p.id, p.rollup.scope])).toEqual([
        ['payments', 'program:payments'],
        ['web', 'program:web'],
      ]);
      expect(body.projects.map((p: { scope: string }) => p.scope)).toEqual([
        'project:ado-main:Payments',
        'project:jira-main:PAY',
        'project:jira-main:WEB',
      ]);
      expect(body.freshness).toEqual([
        {
          connection: 'jira-main',
          lastSuccessAt: new Date(NOW.getTime() - 598_000).toISOString(),
          ageSeconds: 598,
          lastStatus: 'ok',
        },
        {
          connection: 'ado-main',
          lastSuccessAt: new Date(NOW.getTime() - 86_400_000 + 4000).toISOString(),
          ageSeconds: 86_396,
          lastStatus: 'ok',
        },
      ]);
    });

    it('narrows the portfolio headline by program, tracker, connection and project', async () => {
      const headline = async (qs: string) => (await (await h.get(`/api/v1/portfolio?${qs}`)).json()).headline;
      expect(await headline('program=web')).toEqual({
        epics: { total: 1, green: 1, amber: 0, red: 0 },
        compliance: 1,
        overdueEpics: 0,
        openFindings: 0,
        items: 2,
      });
      expect(await headline('tracker=azure-devops')).toEqual({
        epics: { total: 2, green: 1, amber: 0, red: 1 },
        compliance: 0.9,
        overdueEpics: 1,
        openFindings: 2,
        items: 5,
      });
      expect((await headline('connection=jira-main&project=PAY')).items).toBe(7);
    });

    it('rejects bad portfolio filters with 400', async () => {
      for (const qs of ['program=nope', 'tracker=github', `project=${'x'.repeat(300)}`, 'program=a&program=b']) {
        const res = await h.get(`/api/v1/portfolio?${qs}`);
        expect(res.status, qs).toBe(400);
        await problemOf(res);
      }
    });

    it('GET /api/v1/programs/:id gives the program with its projects and epics', async () => {
      const body = await (await h.get('/api/v1/programs/payments')).json();
      expect(body.id).toBe('payments');
      expect(body.name).toBe('Payments modernisation');
      expect(body.rollup.scope).toBe('program:payments');
      expect(body.projects.map((p: { scope: string }) => p.scope)).toEqual([
        'project:jira-main:PAY',
        'project:ado-main:Payments',
      ]);
      expect(body.epics.map((e: { ref: string }) => e.ref).sort()).toEqual(
        ['ado-main:100', 'ado-main:200', 'jira-main:PAY-1', 'jira-main:PAY-10'].sort(),
      );
      // Red first, then by target date.
      expect(body.epics[0].rollup.health).toBe('red');
      expect(body.headline.epics.total).toBe(4);
    });

    it('GET /api/v1/programs/:id answers 404 for an unknown program', async () => {
      const res = await h.get('/api/v1/programs/nope');
      expect(res.status).toBe(404);
      expect((await problemOf(res)).detail).toBe('No program "nope".');
    });

    it('GET /api/v1/projects/:connection/:project gives the project rollup and epics', async () => {
      const body = await (await h.get('/api/v1/projects/ado-main/Payments')).json();
      expect(body.rollup.scope).toBe('project:ado-main:Payments');
      expect(body.epics.map((e: { ref: string }) => e.ref)).toEqual(['ado-main:100', 'ado-main:200']);
      expect(body.epics[1]).toMatchObject({
        ref: 'ado-main:200',
        title: 'Fraud scoring <b>&beta</b>',
        url: 'https://example.test/200',
        openFindings: 0,
      });
      expect(body.headline.items).toBe(5);
      const missing = await h.get('/api/v1/projects/ado-main/Nope');
      expect(missing.status).toBe(404);
      await problemOf(missing);
    });

    it('GET /api/v1/history gives daily snapshots oldest first, with a date range', async () => {
      const body = await (await h.get('/api/v1/history?scope=portfolio')).json();
      expect(body.scope).toBe('portfolio');
      expect(body.days.map((d: { day: string }) => d.day)).toEqual([
        '2026-06-12',
        '2026-06-13',
        '2026-06-14',
        '2026-06-15',
      ]);
      expect(body.days[0]).toEqual({
        day: '2026-06-12',
        percentComplete: 0.3,
        health: 'amber',
        compliance: 0.8,
        metrics: { compliance: 0.8 },
      });
      const ranged = await (await h.get('/api/v1/history?scope=portfolio&from=2026-06-13&to=2026-06-14')).json();
      expect(ranged.days.map((d: { day: string }) => d.day)).toEqual(['2026-06-13', '2026-06-14']);
      const epic = await (await h.get('/api/v1/history?scope=epic:jira-main:PAY-1')).json();
      expect(epic.days).toHaveLength(1);
    });

    it('GET /api/v1/history: 400 for a bad scope or date, 404 for a scope with no data', async () => {
      for (const qs of ['', 'scope=', 'scope=nonsense', 'scope=portfolio&from=yesterday', 'scope=program:']) {
        const res = await h.get(`/api/v1/history?${qs}`);
        expect(res.status, qs).toBe(400);
        await problemOf(res);
      }
      const none = await h.get('/api/v1/history?scope=program:nope');
      expect(none.status).toBe(404);
      await problemOf(none);
    });

    it('lists every epic across both trackers on the portfolio', async () => {
      const items = await (await h.get('/api/v1/items?kind=epic')).json();
      expect(items.items.map((i: { ref: string }) => i.ref)).toEqual(ALL_EPICS);
    });
  });
}
