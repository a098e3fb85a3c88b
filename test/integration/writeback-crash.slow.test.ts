// Write-back crash safety: worker processes killed with SIGKILL at random points while they
// send planned writes; afterwards every write is applied exactly once and no comment doubled.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { appliedState, writeAudit, writeOutbox } from '../../db/schema.ts';
import { openIsolatedPostgres, postgresUrl } from '../helpers/db.ts';
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

describe.runIf(postgresUrl())('write-back crash safety (Postgres)', () => {
  let database: Database & { url: string };
  let p: Portfolio;
  beforeAll(async () => {
    database = await openIsolatedPostgres(postgresUrl()!);
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
