// Start and stop of the real `pmo-sync serve` process (bin/pmo-sync.mjs as a child) against the
// tracker simulators run here: a busy port ends it with exit 1 and one line before anything
// starts; SIGTERM in the middle of a sync or of the write-back ends it with exit 0 well within
// 10 s, and a restart converges with nothing lost and no comment doubled; a second signal ends
// it at once; a CLI command beside it is told the embedded database is in use.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { openDatabase } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { type Spawned, spawnCli, until } from '../helpers/spawn.ts';

const root = mkdtempSync(join(tmpdir(), 'pmo-sync-lifecycle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Stopping must take well under the 10 s the guarantee allows. */
const STOP_DEADLINE_MS = 10_000;

interface Setup {
  dir: string;
  config: string;
  dbDir: string;
  jira: JiraSimulator;
  /** Every issue the simulator holds. */
  keys: string[];
  adminToken: string;
}

let n = 0;
async function setup(epics: number): Promise<Setup> {
  const dir = join(root, `case-${n++}`);
  const jira = await startJiraSimulator();
  const { keys } = jira.seedPortfolio({
    projects: ['PAY'],
    epics,
    storiesPerEpic: 8,
    bugsPerEpic: 2,
    violationRate: 0.6,
    seed: 5,
  });
  const dbDir = join(dir, 'db');
  const config = join(dir, 'pmo-sync.yaml');
  const yaml = `
database: { url: ${JSON.stringify(dbDir)} }
server: { port: 0, host: 127.0.0.1 }
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: t-1234 }
    scope: { projects: [PAY] }
    limits: { concurrency: 4, requestsPerSecond: 1000 }
`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(config, yaml);
  const db = await openDatabase(dbDir);
  await db.migrate();
  const { token } = await createToken(db.db, { scope: 'admin', name: 'test' });
  await db.close();
  return { dir, config, dbDir, jira, keys, adminToken: token };
}

async function startServe(s: Setup): Promise<{ proc: Spawned; url: string }> {
  const proc = spawnCli(['--config', s.config, 'serve', '--no-schedule'], {
    cwd: s.dir,
    env: { PMO_SYNC_LEASE_MS: '2000' },
  });
  const m = await proc.waitFor(/serving on (http:\/\/\S+) /);
  return { proc, url: m[1]! };
}

async function triggerSync(url: string, token: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/sync`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(202);
}

/** Outbox rows by status, items stored and the simulator's bot comments per issue. */
async function state(s: Setup) {
  const db = await openDatabase(s.dbDir);
  try {
    const outbox = await queryRows<{ status: string; n: number }>(
      db.db,
      sql`select status, count(*)::int as n from write_outbox group by status order by status`,
    );
    const items = await queryRows<{ ref: string }>(db.db, sql`select ref from work_items`);
    const commentRefs = await queryRows<{ ref: string }>(
      db.db,
      sql`select distinct ref from write_outbox where target = 'comment' and status <> 'superseded'`,
    );
    return {
      outbox: Object.fromEntries(outbox.map((r) => [r.status, Number(r.n)])) as Record<string, number>,
      items: items.map((r) => r.ref).sort(),
      commentRefs: commentRefs.map((r) => r.ref),
    };
  } finally {
    await db.close();
  }
}

function botComments(s: Setup, ref: string): number {
  const issue = s.jira.store.getIssue(ref.slice('jira-main:'.length));
  return (issue?.comments ?? []).filter((c) => c.author.accountId === s.jira.me.accountId).length;
}

/** A one-shot `pmo-sync sync --json` against the same config: the restart. */
async function syncOnce(s: Setup) {
  const proc = spawnCli(['--config', s.config, 'sync', '--json'], { cwd: s.dir });
  const { code } = await proc.exit(120_000);
  expect({ code, stderr: proc.stderr() }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(proc.stdout()) as {
    connections: { itemsPulled: number; status: string }[];
    writes: { planned: number; sent: number; failed: number };
  };
}

async function expectConverged(s: Setup) {
  const restart = await syncOnce(s);
  expect(restart.connections.map((c) => c.status)).toEqual(['ok']);
  expect(restart.writes.failed).toBe(0);
  const again = await syncOnce(s);
  // Converged: a pass over unchanged trackers plans and sends nothing.
  expect(again.writes).toMatchObject({ planned: 0, sent: 0, failed: 0 });
  const after = await state(s);
  // Nothing lost: every item stored, every planned write applied, none left in flight.
  expect(after.items).toEqual(s.keys.map((k) => `jira-main:${k}`).sort());
  expect(Object.keys(after.outbox).filter((k) => k !== 'done' && k !== 'superseded')).toEqual([]);
  // No comment doubled: one bot comment on each item a comment was planned for.
  expect(after.commentRefs.length).toBeGreaterThan(0);
  expect(after.commentRefs.filter((ref) => botComments(s, ref) !== 1)).toEqual([]);
}

describe('pmo-sync serve, start and stop (real process)', () => {
  let s: Setup;
  let running: Spawned | null = null;
  beforeEach(() => {
    running = null;
  });
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await running.exit(STOP_DEADLINE_MS).catch(() => {});
    }
    await s?.jira.close();
  });

  it('exits 1 with one line naming a busy port, having started nothing', async () => {
    s = await setup(1);
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const before = s.jira.totalRequests();
      // The config names 127.0.0.1; --port and the config's host are what serve binds.
      writeFileSync(s.config, readFileSync(s.config, 'utf8').replace('host: 127.0.0.1', 'host: 0.0.0.0'));
      const proc = spawnCli(['--config', s.config, 'serve', '--port', String(port)], { cwd: s.dir });
      running = proc;
      expect(await proc.exit(30_000)).toEqual({ code: 1, signal: null });
      expect(proc.stderr()).toBe(
        `pmo-sync: port ${port} is in use (EADDRINUSE) on 0.0.0.0: set server.port or --port\n`,
      );
      expect(proc.stdout()).toBe('');
      // Not a request to the tracker (no identity lookup, no sync) was made.
      expect(s.jira.totalRequests()).toBe(before);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  }, 60_000);

  it('stops on SIGTERM during a sync with exit 0 within 10 s; a restart converges with nothing lost', async () => {
    s = await setup(6);
    // Slow enough that the sync is still pulling when the signal comes.
    s.jira.setFaults({ latencyMs: 400 });
    const { proc, url } = await startServe(s);
    running = proc;
    // Meanwhile a CLI command on the same embedded database is told it is in use.
    const report = spawnCli(['--config', s.config, 'report'], { cwd: s.dir });
    expect(await report.exit(60_000)).toEqual({ code: 1, signal: null });
    expect(report.stderr()).toMatch(
      new RegExp(
        `^pmo-sync: database ${s.dbDir} is in use by another pmo-sync process \\(pid ${proc.child.pid}\\): .*\\n$`,
      ),
    );
    await triggerSync(url, s.adminToken);
    await until('the sync pulls', () => (s.jira.requestCounts()['POST search/jql'] ?? 0) >= 1);
    proc.child.kill('SIGTERM');
    expect(await proc.exit(STOP_DEADLINE_MS)).toEqual({ code: 0, signal: null });
    expect(proc.stderr()).toContain('pmo-sync: SIGTERM received; stopping');
    expect(proc.stderr()).not.toContain('PGlite is closed');
    // The pull was cut short: nothing planned yet, and the next start finds the database free.
    expect(existsSync(`${s.dbDir}.lock`)).toBe(false);
    s.jira.resetFaults();
    await expectConverged(s);
  }, 240_000);

  it('stops on SIGTERM during the write-back with exit 0 within 10 s; a restart sends the rest once', async () => {
    s = await setup(12);
    const { proc, url } = await startServe(s);
    running = proc;
    // Reads at full speed, then every request slow: the write-back is in progress for a while.
    await triggerSync(url, s.adminToken);
    await until('the write-back starts', () => (s.jira.requestCounts()['POST issue/{key}/comment'] ?? 0) >= 1, 60_000);
    s.jira.setFaults({ latencyMs: 150 });
    proc.child.kill('SIGTERM');
    expect(await proc.exit(STOP_DEADLINE_MS)).toEqual({ code: 0, signal: null });
    expect(proc.stderr()).not.toContain('PGlite is closed');
    const cut = await state(s);
    // Stopped mid-way: some writes applied, some still waiting, none left half-claimed.
    expect(cut.outbox.done).toBeGreaterThan(0);
    expect(cut.outbox.pending).toBeGreaterThan(0);
    expect(cut.outbox.in_flight).toBeUndefined();
    s.jira.resetFaults();
    await expectConverged(s);
  }, 240_000);

  it('exits at once on a second signal while stopping (SIGTERM, then SIGINT: exit 130)', async () => {
    s = await setup(12);
    const { proc, url } = await startServe(s);
    running = proc;
    // A pull's requests end with the stop signal; a tracker write already sent is waited for.
    // Each write takes seconds here, so stopping is still waiting when the second signal comes.
    await triggerSync(url, s.adminToken);
    await until('the write-back starts', () => (s.jira.requestCounts()['POST issue/{key}/comment'] ?? 0) >= 1, 60_000);
    s.jira.setFaults({ latencyMs: 5_000 });
    await until(
      'a slow write is in flight',
      () => (s.jira.requestCounts()['POST issue/{key}/comment'] ?? 0) >= 2,
      60_000,
    );
    proc.child.kill('SIGTERM');
    await proc.waitFor(/SIGTERM received; stopping/, STOP_DEADLINE_MS);
    proc.child.kill('SIGINT');
    // Well before the request in progress could have ended.
    expect(await proc.exit(3_000)).toEqual({ code: 130, signal: null });
    expect(proc.stderr()).toContain('pmo-sync: SIGINT again while stopping; exiting now (exit 130)');
  }, 120_000);
});
