// The zero-config demo: both simulators seeded, first sync written back, dashboard and API
// served, and a change in a tracker reaching pmo-sync through webhooks alone.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workItems } from '../../db/schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { DEMO_CREDENTIALS, type Demo, startDemo } from '../../src/demo/run.ts';
import { loadHistory } from '../../src/http/queries.ts';
import { loadReport } from '../../src/report/load.ts';
import { tempDir } from '../helpers/temp.ts';

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, tries = 100): Promise<T> {
  let v = await fn();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

describe('demo', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo({ cwd: tempDir(), log: silentLogger(), port: 0, databaseUrl: 'memory://' });
  }, 120_000);
  afterAll(async () => {
    await demo.stop();
  });

  it('seeds two programs across both trackers with at least 10 epics and 200 items, and writes back', async () => {
    const report = await loadReport(demo.database.db, { config: demo.config });
    expect(report.items.length).toBeGreaterThanOrEqual(200);
    expect(report.items.filter((i) => i.kind === 'epic').length).toBeGreaterThanOrEqual(10);
    expect(new Set(report.items.map((i) => i.tracker))).toEqual(new Set(['jira', 'azure-devops']));
    const programs = report.rollups.filter((r) => r.scope.startsWith('program:')).map((r) => r.scope);
    expect(programs.sort()).toEqual(['program:digital', 'program:payments']);
    const open = report.findings.filter((f) => f.status === 'open');
    const flaggedItems = new Set(open.map((f) => f.ref));
    expect(flaggedItems.size).toBeGreaterThan(20);
    expect(flaggedItems.size).toBeLessThan(report.items.length);
    expect(demo.firstSync.writes.sent).toBeGreaterThan(0);
    expect(demo.firstSync.writes.failed).toBe(0);
    expect(demo.example).not.toBeNull();
    const comments = demo.jira.store
      .getIssue(demo.example!.key)!
      .comments.filter((c) => c.author.accountId === demo.jira.me.accountId);
    expect(comments).toHaveLength(1);
  });

  it('shows a mix of green, amber and red epics with distinct names, and weeks of history', async () => {
    const report = await loadReport(demo.database.db, { config: demo.config });
    const byHealth = { green: 0, amber: 0, red: 0 } as Record<string, number>;
    for (const e of report.epics) byHealth[e.rollup!.health] = (byHealth[e.rollup!.health] ?? 0) + 1;
    // Each colour present, none of them the whole portfolio.
    for (const colour of ['green', 'amber', 'red']) {
      expect(byHealth[colour]).toBeGreaterThan(0);
      expect(byHealth[colour]).toBeLessThan(report.epics.length / 2 + 1);
    }
    const titles = report.epics.map((e) => e.title);
    expect(new Set(titles).size).toBe(titles.length);
    // A done epic is judged as done, never "past target".
    for (const e of report.epics.filter((x) => x.statusCategory === 'done'))
      expect(e.rollup!.healthReason).not.toMatch(/past-target/);
    const history = await loadHistory(demo.database.db, 'portfolio');
    expect(history.length).toBeGreaterThanOrEqual(9);
    const first = Date.parse(history[0]!.day);
    const last = Date.parse(history.at(-1)!.day);
    expect((last - first) / 86_400_000).toBeGreaterThanOrEqual(7 * 8);
    expect(history[0]!.percentComplete!).toBeLessThan(history.at(-1)!.percentComplete!);
  });

  it('links every epic to a page that opens: the simulator shows the item, not a JSON 401', async () => {
    const report = await loadReport(demo.database.db, { config: demo.config });
    for (const tracker of ['jira', 'azure-devops']) {
      const epic = report.epics.find((e) => e.tracker === tracker)!;
      const res = await fetch(epic.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await res.text()).toContain(epic.title.replace(/&/g, '&amp;'));
    }
  });

  it('resolves cross-tracker dependencies to refs', async () => {
    const rows = await demo.database.db.select({ ref: workItems.ref, links: workItems.links }).from(workItems);
    const cross = rows.flatMap((r) =>
      r.links.filter((l) => l.type === 'cross_tracker').map((l) => `${r.ref}->${l.target}`),
    );
    expect(cross.length).toBeGreaterThanOrEqual(demo.seed.crossLinks.length);
    for (const l of demo.seed.crossLinks) expect(cross).toContain(`${l.from}->${l.to}`);
  });

  it('serves the API with the printed read token', async () => {
    const res = await fetch(`${demo.url.replace('localhost', '127.0.0.1')}/api/v1/portfolio`, {
      headers: { authorization: `Bearer ${demo.token}` },
    });
    expect(res.status).toBe(200);
    const anonymous = await fetch(`${demo.url.replace('localhost', '127.0.0.1')}/api/v1/portfolio`);
    expect(anonymous.status).toBe(401);
  });

  /** Edits an issue through the Jira simulator's REST API as a team member would. */
  const editAsPerson = (key: string, fields: Record<string, unknown>) => {
    const { email, apiToken } = DEMO_CREDENTIALS.jiraPerson;
    return fetch(`${demo.jira.url}/rest/api/3/issue/${key}`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`,
      },
      body: JSON.stringify({ fields }),
    });
  };

  it('picks up a change made through the Jira REST API as a person, through webhooks, without a sync', async () => {
    const key = demo.example!.key;
    expect((await editAsPerson(key, { summary: 'Edited in the demo' })).status).toBe(204);
    const row = await eventually(
      async () =>
        (
          await demo.database.db
            .select({ title: workItems.title })
            .from(workItems)
            .where(eq(workItems.ref, `jira-main:${key}`))
        )[0],
      (r) => r?.title === 'Edited in the demo',
    );
    expect(row?.title).toBe('Edited in the demo');
  });
  it('observes the change-to-write latency of a webhook-driven write in /metrics', async () => {
    const observed = async () => {
      const text = await (await fetch(`${demo.url.replace('localhost', '127.0.0.1')}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('pmo_sync_change_to_write_seconds_count'));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await observed();
    // Pushing the example's due date out resolves its schedule findings: its comment is rewritten.
    expect((await editAsPerson(demo.example!.key, { duedate: '2027-12-31' })).status).toBe(204);
    expect(await eventually(observed, (n) => n > before)).toBeGreaterThan(before);
  });
});
