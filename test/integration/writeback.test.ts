// Write-back guarantees: crash safety under SIGKILL, people's concurrent edits survive, dry-run
// sends nothing, and a compliant item's comment can be removed by config.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { appliedState, writeAudit, writeOutbox } from '../../db/schema.ts';
import { loadReport } from '../../src/report/load.ts';
import { NONCOMPLIANT_LABEL } from '../../src/writeback/desired.ts';
import { createWriteWorker } from '../../src/writeback/worker.ts';
import { dbTargets, openIsolatedPostgres } from '../helpers/db.ts';
import { type Portfolio, startPortfolio } from '../helpers/portfolio.ts';

const worker = fileURLToPath(new URL('./crash-worker.ts', import.meta.url));

/** Runs the worker in a child process and kills it with SIGKILL after `killAfterMs` (if still running). */
function runChild(
  env: Record<string, string>,
  killAfterMs: number | null,
): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let killed = false;
    const timer =
      killAfterMs === null
        ? null
        : setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, killAfterMs);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ killed, code });
    });
  });
}

describe.runIf(process.env.TEST_DATABASE_URL)('write-back crash safety (Postgres)', () => {
  let database: Database & { url: string };
  let p: Portfolio;
  beforeAll(async () => {
    database = await openIsolatedPostgres(process.env.TEST_DATABASE_URL!);
    p = await startPortfolio({ database, jiraEpics: 5, adoEpics: 3 });
    // Plan every write without sending any, then let killed workers send them.
    await p.sync({ dryRun: true });
    await database.db.update(writeOutbox).set({ status: 'pending' }).where(eq(writeOutbox.status, 'planned'));
    p.jira.setFaults({ latencyMs: 15 });
    p.ado.configure({ latencyMs: 15 });
  }, 120_000);
  afterAll(async () => {
    await p.close();
    await database.close();
  });

  it('survives 20 SIGKILLs at random points: every planned write applied once, no comment duplicated', async () => {
    const planned = await database.db
      .select({ ref: writeOutbox.ref, target: writeOutbox.target, hash: writeOutbox.desiredHash })
      .from(writeOutbox);
    expect(planned.length).toBeGreaterThan(40);
    const env = { DATABASE_URL: database.url, JIRA_URL: p.jira.url, ADO_URL: p.ado.url, LEASE_MS: '300' };
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let kills = 0;
    for (let trial = 0; trial < 20; trial++) {
      const r = await runChild({ ...env, WORKER_ID: `crash-${trial}` }, 250 + Math.floor(rand() * 900));
      if (r.killed) kills++;
      // Let the dead worker's lease expire so the next one takes its rows over.
      await new Promise((res) => setTimeout(res, 350));
    }
    const final = await runChild({ ...env, WORKER_ID: 'final' }, null);
    expect(final.code).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(10);

    const left = await database.db
      .select({ status: writeOutbox.status, n: sql<number>`count(*)::int` })
      .from(writeOutbox)
      .groupBy(writeOutbox.status);
    expect(left.filter((r) => r.status !== 'done' && r.status !== 'superseded')).toEqual([]);
    const applied = await database.db.select().from(appliedState);
    const appliedBy = new Map(applied.map((a) => [`${a.ref}|${a.target}`, a.hash]));
    for (const w of planned)
      expect({ w: `${w.ref}|${w.target}`, hash: appliedBy.get(`${w.ref}|${w.target}`) }).toEqual({
        w: `${w.ref}|${w.target}`,
        hash: w.hash,
      });
    for (const ref of new Set(planned.filter((w) => w.target === 'comment').map((w) => w.ref))) {
      expect({ ref, comments: p.botComments(ref).length }).toEqual({ ref, comments: 1 });
    }
    const audited = await database.db.select({ n: sql<number>`count(*)::int` }).from(writeAudit);
    expect(audited[0]!.n).toBeGreaterThanOrEqual(planned.length);
  }, 240_000);
});

for (const target of dbTargets()) {
  describe(`write-back on ${target.name}`, () => {
    let database: Database;
    let p: Portfolio;
    beforeAll(async () => {
      database = await target.open();
      p = await startPortfolio({ database, mode: 'dry-run', whenCompliant: 'delete' });
    });
    afterAll(async () => {
      await p.close();
      await database.close();
    });

    it('dry-run plans every write, visibly, and sends none', async () => {
      const s = await p.sync();
      expect(s.mode).toBe('dry-run');
      expect(s.writes.planned).toBeGreaterThan(0);
      expect(s.writes.sent).toBe(0);
      const rows = await database.db.select({ status: writeOutbox.status }).from(writeOutbox);
      expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['planned']));
      expect(rows).toHaveLength(s.writes.planned);
      const report = await loadReport(database.db, { config: p.config });
      for (const i of report.items) expect(p.botComments(i.ref)).toEqual([]);
      // Planning again changes nothing: the planned rows are updated in place.
      const again = await p.sync({ full: true });
      const rows2 = await database.db.select({ n: sql<number>`count(*)::int` }).from(writeOutbox);
      expect(rows2[0]!.n).toBe(rows.length);
      expect(again.writes.sent).toBe(0);
    });

    it('never drops labels or tags a person added between our read and our write', async () => {
      // Plan for real, then let people tag the flagged items before the worker runs.
      await database.db.update(writeOutbox).set({ status: 'pending' }).where(eq(writeOutbox.status, 'planned'));
      const labelRows = await database.db
        .select({ ref: writeOutbox.ref })
        .from(writeOutbox)
        .where(eq(writeOutbox.target, 'labels'));
      const jiraRef = labelRows.map((r) => r.ref).find((r) => r.startsWith('jira-main:'))!;
      const adoRef = labelRows.map((r) => r.ref).find((r) => r.startsWith('ado-main:'))!;
      const jiraKey = jiraRef.split(':')[1]!;
      const adoId = Number(adoRef.split(':')[1]);
      const jiraLabels = (p.jira.store.getIssue(jiraKey)?.fields.labels as string[]) ?? [];
      p.jira.store.updateIssue(jiraKey, { labels: [...jiraLabels, 'customer-escalation'] });
      p.ado.store.update(adoId, { 'System.Tags': 'customer-escalation' });

      const r = await createWriteWorker({ database, connectors: p.connectors, log: p.log }).drain();
      expect(r.failed + r.dead).toBe(0);
      expect(p.jira.store.getIssue(jiraKey)?.fields.labels).toEqual(
        expect.arrayContaining(['customer-escalation', NONCOMPLIANT_LABEL]),
      );
      const tags = String(p.ado.store.get(adoId).fields['System.Tags'])
        .split(';')
        .map((t) => t.trim());
      expect(tags).toEqual(expect.arrayContaining(['customer-escalation', NONCOMPLIANT_LABEL]));
    });

    it('removes the bot comment once an item is compliant when configured to', async () => {
      p.config.mode = 'enforce';
      await p.sync();
      const report = await loadReport(database.db, { config: p.config });
      const flagged = new Set(report.findings.filter((f) => f.status === 'open').map((f) => f.ref));
      const story = report.items.find(
        (i) =>
          i.connection === 'jira-main' &&
          i.kind === 'story' &&
          i.statusCategory === 'todo' &&
          i.assignee &&
          !flagged.has(i.ref),
      )!;
      const key = story.key;
      const assignee = p.jira.store.getIssue(key)?.fields.assignee as { accountId: string; displayName: string };
      p.jira.store.updateIssue(key, { assignee: null });
      await p.sync();
      expect(p.botComments(story.ref)).toHaveLength(1);
      p.jira.store.updateIssue(key, { assignee });
      await p.sync();
      expect(p.botComments(story.ref)).toEqual([]);
      const [applied] = await database.db
        .select()
        .from(appliedState)
        .where(and(eq(appliedState.ref, story.ref), eq(appliedState.target, 'comment')));
      expect(applied?.hash).toBe('deleted');
      expect(p.jira.store.getIssue(key)?.fields.labels).not.toContain(NONCOMPLIANT_LABEL);
    });
  });
}
