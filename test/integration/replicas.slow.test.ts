// Several `pmo-sync serve` processes on one Postgres: every delivery goes to every replica,
// one replica is killed mid-load, and still each item ends with exactly one bot comment, the
// work is spread across replicas, and a sync triggered on all of them runs once.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findings, syncRuns, webhookInbox, writeAudit, writeOutbox } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { loadReport } from '../../src/report/load.ts';
import { openIsolatedPostgres, postgresUrl } from '../helpers/db.ts';
import {
  ADO_HOOK,
  ADO_PAT,
  JIRA_HOOK_SECRET,
  JIRA_TOKEN,
  type Portfolio,
  startPortfolio,
} from '../helpers/portfolio.ts';
import { tempDir } from '../helpers/temp.ts';

const bin = fileURLToPath(new URL('../../bin/pmo-sync.mjs', import.meta.url));

interface Replica {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

function startReplica(configFile: string): Promise<Replica> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--config', configFile, 'serve', '--port', '0', '--no-schedule'], {
      env: { ...process.env, PMO_SYNC_LEASE_MS: '1500', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on http:\/\/[^:]+:(\d+)/.exec(err);
      if (m) resolve({ child, port: Number(m[1]), exited });
    });
    child.on('exit', (code) => reject(new Error(`replica exited ${code}: ${err}`)));
  });
}

async function until(fn: () => Promise<boolean>, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.runIf(postgresUrl())('replicas on one Postgres', () => {
  let database: Awaited<ReturnType<typeof openIsolatedPostgres>>;
  let p: Portfolio;
  const replicas: Replica[] = [];
  beforeAll(async () => {
    database = await openIsolatedPostgres(postgresUrl()!);
    p = await startPortfolio({ database, jiraEpics: 4, adoEpics: 3 });
    await p.sync();
    await p.sync();
    const dir = tempDir();
    const file = join(dir, 'pmo-sync.yaml');
    writeFileSync(
      file,
      `
database: { url: "${database.url}" }
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${p.jira.url}
    auth: { email: pmo-bot@example.com, apiToken: ${JIRA_TOKEN} }
    scope: { projects: [PAY] }
    webhookSecret: ${JIRA_HOOK_SECRET}
    limits: { concurrency: 8, requestsPerSecond: 100 }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${p.ado.url}
    auth: { pat: ${ADO_PAT} }
    scope: { projects: [Payments] }
    webhookAuth: { username: ${ADO_HOOK.username}, password: ${ADO_HOOK.password} }
    limits: { concurrency: 8, requestsPerSecond: 100 }
portfolio:
  programs:
    - id: payments
      name: Payments modernisation
      include: [{ connection: jira-main, project: PAY }, { connection: ado-main, project: Payments }]
`,
    );
    replicas.push(...(await Promise.all([startReplica(file), startReplica(file), startReplica(file)])));
    for (const r of replicas) {
      p.jira.registerWebhook({ url: `http://127.0.0.1:${r.port}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });
      p.ado.subscribe({ url: `http://127.0.0.1:${r.port}/webhooks/azure-devops/ado-main`, ...ADO_HOOK });
    }
  }, 120_000);
  afterAll(async () => {
    for (const r of replicas) r.child.kill('SIGKILL');
    await p.close();
    await database.close();
  });

  it('shares webhook load, survives a killed replica, and never duplicates a comment', async () => {
    const report = await loadReport(database.db, { config: p.config });
    const flagged = new Set(report.findings.filter((f) => f.status === 'open').map((f) => f.ref));
    const targets = report.items
      .filter((i) => i.kind === 'story' && i.statusCategory === 'todo' && i.assignee && !flagged.has(i.ref))
      .slice(0, 16);
    expect(targets.length).toBeGreaterThanOrEqual(8);
    const change = (ref: string) => {
      const [conn, key] = [ref.slice(0, ref.indexOf(':')), ref.slice(ref.indexOf(':') + 1)];
      if (conn === 'jira-main') p.jira.store.updateIssue(key, { assignee: null });
      else p.ado.store.update(Number(key), { 'System.AssignedTo': null });
    };
    const half = Math.floor(targets.length / 2);
    for (const t of targets.slice(0, half)) change(t.ref);
    await p.jira.flushDeliveries();
    await p.ado.flushDeliveries();
    replicas[0]!.child.kill('SIGKILL');
    await replicas[0]!.exited;
    for (const t of targets.slice(half)) change(t.ref);
    await p.jira.flushDeliveries();
    await p.ado.flushDeliveries();

    const refs = targets.map((t) => t.ref);
    await until(async () => {
      const open = await database.db
        .select({ ref: findings.ref })
        .from(findings)
        .where(and(inArray(findings.ref, refs), eq(findings.rule, 'owner-required'), eq(findings.status, 'open')));
      const busy = await database.db
        .select({ n: sql<number>`count(*)::int` })
        .from(writeOutbox)
        .where(inArray(writeOutbox.status, ['pending', 'in_flight']));
      return open.length === refs.length && busy[0]!.n === 0 && refs.every((r) => p.botComments(r).length === 1);
    }, 'every changed item flagged and written back');

    for (const item of report.items)
      expect({ ref: item.ref, max1: p.botComments(item.ref).length <= 1 }).toEqual({ ref: item.ref, max1: true });
    const inboxDead = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(webhookInbox)
      .where(eq(webhookInbox.status, 'dead'));
    expect(inboxDead[0]!.n).toBe(0);
    const workers = await database.db
      .selectDistinct({ worker: sql<string>`${writeAudit.detail}->>'worker'` })
      .from(writeAudit)
      .where(sql`${writeAudit.detail}->>'worker' like 'worker-%'`);
    expect(workers.length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('runs a sync triggered on every live replica exactly once', async () => {
    const { token } = await createToken(database.db, { scope: 'admin', name: 'test' });
    const before = (await database.db.select({ n: sql<number>`count(*)::int` }).from(syncRuns))[0]!.n;
    const live = replicas.slice(1);
    const statuses = await Promise.all(
      live.map((r) =>
        fetch(`http://127.0.0.1:${r.port}/api/v1/sync`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        }).then((x) => x.status),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([202]));
    await until(async () => {
      const rows = await database.db.select({ status: syncRuns.status }).from(syncRuns);
      return rows.length > before && rows.every((r) => r.status !== 'running');
    }, 'the sync to finish');
    await new Promise((r) => setTimeout(r, 1000));
    const after = (await database.db.select({ n: sql<number>`count(*)::int` }).from(syncRuns))[0]!.n;
    expect(after - before).toBe(1);
  }, 60_000);

  it('stops cleanly on SIGTERM', async () => {
    for (const r of replicas.slice(1)) r.child.kill('SIGTERM');
    const codes = await Promise.all(replicas.slice(1).map((r) => r.exited));
    expect(codes).toEqual([0, 0]);
  }, 30_000);
});
