// The reliability soak (`npm run soak`, `npm run soak -- --short` for CI): the pipeline runs in
// child processes against simulators that inject 429 storms, ~20% 5xx, timeouts, connection
// resets, schema-breaking responses, dropped/duplicated/late webhooks, while the children are
// SIGKILLed mid-sync, mid-write-back and mid-webhook-processing. Then the trackers' state is
// compared with a clean run over identical trackers and identical people's changes: same open
// findings, at most one bot comment per item with the same text, same labels/tags. Exits 1 when
// anything differs. Seeded (faults, changes, kill times); thread interleavings are not.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import { PERSON } from '../connectors/azure-devops/simulator/index.ts';
import { createRng } from '../connectors/jira/simulator/faults.ts';
import { PEOPLE as JIRA_PEOPLE } from '../connectors/jira/simulator/index.ts';
import type { Database } from '../db/client.ts';
import { findings } from '../db/schema.ts';
import { type BenchDatabase, openBenchDatabase, postgresReachable } from './lib/db.ts';
import { ADO_HOOK, JIRA_HOOK_SECRET, type Seeded, startSimulators } from './lib/simulators.ts';
import { sleep } from './lib/stats.ts';
import { SOAK_CONFIG_YAML, type WorldOptions, wireWorld } from './lib/world.ts';

const WORKER = fileURLToPath(new URL('./soak-worker.ts', import.meta.url));

export interface SoakProfile {
  jiraItems: number;
  adoItems: number;
  syncKills: number;
  writeKills: number;
  serveKills: number;
  changesPerBatch: number;
  /** Write and webhook leases in the children: a killed child's work is retaken after this. */
  leaseMs: number;
}

export const SOAK_PROFILES: Record<'short' | 'long', SoakProfile> = {
  short: {
    jiraItems: 150,
    adoItems: 75,
    syncKills: 3,
    writeKills: 3,
    serveKills: 2,
    changesPerBatch: 30,
    leaseMs: 15_000,
  },
  long: {
    jiraItems: 1_000,
    adoItems: 500,
    syncKills: 8,
    writeKills: 8,
    serveKills: 5,
    changesPerBatch: 150,
    leaseMs: 15_000,
  },
};

/** A person's change, applied identically to the faulty trackers and to the clean ones. */
type Change =
  | { tracker: 'jira'; key: string; kind: 'assign' | 'title' }
  | { tracker: 'jira'; key: string; kind: 'delete' }
  | { tracker: 'ado'; id: number; kind: 'assign' | 'title' };

export function planChanges(seeded: Seeded, n: number, rng: () => number, batch: number): Change[] {
  const out: Change[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.6) {
      const key = seeded.jiraKeys[Math.floor(rng() * seeded.jiraKeys.length)]!;
      out.push({ tracker: 'jira', key, kind: rng() < 0.7 ? 'assign' : 'title' });
    } else if (r < 0.97) {
      const id = seeded.adoIds[Math.floor(rng() * seeded.adoIds.length)]!;
      out.push({ tracker: 'ado', id, kind: rng() < 0.7 ? 'assign' : 'title' });
    } else {
      // Deleting a sub-task or a story keeps the hierarchy valid; the last keys are sub-tasks.
      const key = seeded.jiraKeys[seeded.jiraKeys.length - 1 - ((batch * 7 + i) % 20)]!;
      out.push({ tracker: 'jira', key, kind: 'delete' });
    }
  }
  return out;
}

export function applyChange(s: Seeded, c: Change, n: number): void {
  if (c.tracker === 'jira') {
    const issue = s.jira.store.getIssue(c.key);
    if (!issue) return;
    if (c.kind === 'delete') s.jira.store.deleteIssue(c.key);
    else if (c.kind === 'title') s.jira.store.updateIssue(c.key, { summary: `${issue.fields.summary} (edit ${n})` });
    else
      s.jira.store.updateIssue(c.key, {
        assignee: issue.fields.assignee != null ? null : JIRA_PEOPLE[n % JIRA_PEOPLE.length],
      });
  } else {
    const it = s.ado.store.get(c.id);
    if (c.kind === 'title') s.ado.store.update(c.id, { 'System.Title': `${it.fields['System.Title']} (edit ${n})` });
    else s.ado.store.update(c.id, { 'System.AssignedTo': it.fields['System.AssignedTo'] != null ? null : PERSON });
  }
}

interface ChildResult {
  killed: boolean;
  code: number | null;
  out: Record<string, unknown> | null;
}

function runChild(
  env: Record<string, string>,
  killAfterMs: number | null,
): { child: ChildProcess; done: Promise<ChildResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout!.on('data', (d) => {
    stdout += String(d);
  });
  let killed = false;
  const timer =
    killAfterMs === null
      ? null
      : setTimeout(() => {
          killed = child.kill('SIGKILL');
        }, killAfterMs);
  const done = new Promise<ChildResult>((resolve) => {
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      const line = stdout.trim().split('\n').filter(Boolean).pop();
      let out: Record<string, unknown> | null = null;
      try {
        out = line ? (JSON.parse(line) as Record<string, unknown>) : null;
      } catch {
        out = null;
      }
      resolve({ killed: killed && code === null, code, out });
    });
  });
  return { child, done };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const rowsOf = <T>(r: unknown): T[] => ((r as { rows?: T[] }).rows ?? (r as T[])) as T[];

async function outboxBusy(db: Database): Promise<number> {
  const r = rowsOf<{ n: number }>(
    await db.db.execute(sql`
      select ((select count(*) from write_outbox where status in ('pending','in_flight'))
            + (select count(*) from webhook_inbox where status in ('pending','processing')))::int as n`),
  );
  return r[0]?.n ?? 0;
}

/**
 * Milliseconds until the outbox's next write may be tried: a pending write's backoff (up to 5
 * minutes; 24–40 s after six failures), or an in-flight write's lease. 0 when none is waiting.
 */
async function outboxDueInMs(db: Database): Promise<number> {
  const r = rowsOf<{ ms: number | null }>(
    await db.db.execute(sql`
      select (extract(epoch from least(
        (select min(next_attempt_at) from write_outbox where status = 'pending'),
        (select min(lease_until) from write_outbox where status = 'in_flight')) - now()) * 1000)::float8 as ms`),
  );
  return Math.max(0, Number(r[0]?.ms ?? 0));
}

/** What a person sees in the trackers: bot comments (text, URLs normalized), labels/tags. */
export interface TrackerState {
  comments: Map<string, string[]>;
  labels: Map<string, string>;
}

export function trackerState(s: Seeded): TrackerState {
  const norm = (x: string) => x.split(s.jira.url).join('<jira>').split(s.ado.url).join('<ado>');
  const comments = new Map<string, string[]>();
  const labels = new Map<string, string>();
  for (const key of s.jiraKeys) {
    const issue = s.jira.store.getIssue(key);
    if (!issue) continue;
    const ref = `jira-main:${key}`;
    comments.set(
      ref,
      issue.comments.filter((c) => c.author.accountId === s.jira.me.accountId).map((c) => norm(JSON.stringify(c.body))),
    );
    labels.set(ref, [...((issue.fields.labels as string[] | undefined) ?? [])].sort().join(','));
  }
  for (const id of s.adoIds) {
    let it: ReturnType<typeof s.ado.store.get>;
    try {
      it = s.ado.store.get(id);
    } catch {
      continue;
    }
    const ref = `ado-main:${id}`;
    comments.set(
      ref,
      it.comments.filter((c) => !c.isDeleted && c.createdBy.id === s.ado.identity.id).map((c) => norm(c.text)),
    );
    const tags = String(it.fields['System.Tags'] ?? '')
      .split(';')
      .map((t) => t.trim())
      .filter(Boolean)
      .sort();
    labels.set(ref, tags.join(','));
  }
  return { comments, labels };
}

async function openFindings(db: Database): Promise<Set<string>> {
  const rows = await db.db
    .select({ ref: findings.ref, rule: findings.rule })
    .from(findings)
    .where(eq(findings.status, 'open'));
  return new Set(rows.map((r) => `${r.ref} ${r.rule}`));
}

export interface SoakDiff {
  findingsOnlyClean: string[];
  findingsOnlySoak: string[];
  commentDiffs: string[];
  duplicateComments: string[];
  labelDiffs: string[];
}

/**
 * The comments that say something. With `whenCompliant: update` an item that was ever flagged
 * keeps a "compliant" comment once it is not, and one never flagged has none: which of the two
 * a run ends with depends on the states it happened to observe (a sync killed before it saw an
 * item's first state, a burst of webhooks read once), not on the final state the runs must
 * agree on. Every other comment (findings, waivers, rollups) must match exactly.
 */
function saying(comments: readonly string[]): string[] {
  return comments.filter((c) => !c.includes('PMO check: compliant'));
}

export function compareStates(
  clean: TrackerState,
  soak: TrackerState,
  cleanFindings: Set<string>,
  soakFindings: Set<string>,
): SoakDiff {
  const d: SoakDiff = {
    findingsOnlyClean: [],
    findingsOnlySoak: [],
    commentDiffs: [],
    duplicateComments: [],
    labelDiffs: [],
  };
  for (const f of cleanFindings) if (!soakFindings.has(f)) d.findingsOnlyClean.push(f);
  for (const f of soakFindings) if (!cleanFindings.has(f)) d.findingsOnlySoak.push(f);
  const refs = new Set([...clean.comments.keys(), ...soak.comments.keys()]);
  for (const ref of refs) {
    const a = clean.comments.get(ref) ?? [];
    const b = soak.comments.get(ref) ?? [];
    if (b.length > 1) d.duplicateComments.push(`${ref}: ${b.length} bot comments`);
    if (JSON.stringify(saying(a)) !== JSON.stringify(saying(b))) d.commentDiffs.push(ref);
    if ((clean.labels.get(ref) ?? '') !== (soak.labels.get(ref) ?? ''))
      d.labelDiffs.push(`${ref}: clean [${clean.labels.get(ref)}] soak [${soak.labels.get(ref)}]`);
  }
  return d;
}

const say = (m: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

export async function runSoak(p: SoakProfile, seed: number) {
  const t0 = performance.now();
  // Local simulators: the clean run needs no politeness caps (the children set their own).
  const fast = { concurrency: 8, requestsPerSecond: 1000 };
  const worldOpts: WorldOptions = {
    jiraItems: p.jiraItems,
    adoItems: p.adoItems,
    seed,
    violationRate: 0.3,
    jiraLimits: fast,
    adoLimits: fast,
    extraYaml: SOAK_CONFIG_YAML,
  };
  const faulty = await startSimulators(worldOpts);
  const clean = await startSimulators(worldOpts);
  const db: BenchDatabase = await openBenchDatabase('postgres');
  const rng = createRng(seed ^ 0x50a4);
  const counts = {
    kills: { sync: 0, writeBack: 0, webhooks: 0 },
    childrenCompleted: 0,
    faults: {} as Record<string, number>,
    clientRetries: 0,
    clientThrottled: 0,
    writeErrors: 0,
    changes: 0,
    finalPasses: 0,
  };
  const bump = (k: string, n = 1) => {
    counts.faults[k] = (counts.faults[k] ?? 0) + n;
  };
  /** Faults the soak aimed at one item (the simulators' own random faults are read from their logs). */
  const hits = new Map<string, string[]>();
  const hit = (ref: string, what: string) => {
    const list = hits.get(ref) ?? [];
    list.push(what);
    hits.set(ref, list);
  };
  const env = {
    DATABASE_URL: db.url,
    JIRA_URL: faulty.jira.url,
    ADO_URL: faulty.ado.url,
    SOAK_LEASE_MS: String(p.leaseMs),
  };
  const completed = (r: ChildResult) => {
    const s = r.out?.summary as
      | { connections: { id: string; status: string; error?: string }[]; writes: unknown }
      | undefined;
    say(
      `  child ${r.out?.mode ?? ''} ${r.killed ? 'killed' : `exit ${r.code}`}${s ? ` ${s.connections.map((c) => `${c.id}:${c.status}${c.error ? `(${c.error.slice(0, 80)})` : ''}`).join(' ')} writes ${JSON.stringify(s.writes)}` : ''}${r.out?.drain ? ` drain ${JSON.stringify(r.out.drain)}` : ''}`,
    );
    if (r.killed) return;
    counts.childrenCompleted++;
    const stats = r.out?.stats as Record<string, { retries: number; throttled: number }> | undefined;
    for (const s of Object.values(stats ?? {})) {
      counts.clientRetries += s.retries;
      counts.clientThrottled += s.throttled;
    }
  };

  // Faults on the faulty trackers only. Jira draws them at random (seeded); the ADO simulator
  // takes scripted faults, so a pump injects 5xx for ~20% of its recent traffic plus 429 storms.
  const randomFaults = {
    serverErrorRate: 0.2,
    resetRate: 0.03,
    timeoutRate: 0.02,
    hangMs: 1500,
    burst: { limit: 60, windowMs: 1000, retryAfterSec: 1 },
    webhooks: { dropRate: 0.1, duplicateRate: 0.15, lateRate: 0.05, lateMs: 800 },
  };
  faulty.jira.setFaults(randomFaults, seed);
  // Scripted faults queue up until requests consume them, so storms follow traffic, not the clock.
  let adoSeen = 0;
  let jiraSeen = 0;
  let stormAt = 0;
  let breakAt = 0;
  let storms = true;
  const pump = setInterval(() => {
    const adoTotal = faulty.ado.totalRequests();
    const n = Math.round((adoTotal - adoSeen) * 0.2);
    adoSeen = adoTotal;
    if (n > 0) {
      faulty.ado.injectFault({ status: rng() < 0.5 ? 500 : 503, times: n });
      bump('ado 5xx (scripted)', n);
    }
    jiraSeen = faulty.jira.totalRequests();
    const traffic = jiraSeen + adoTotal;
    if (storms && traffic - stormAt >= 150) {
      stormAt = traffic;
      faulty.ado.injectFault({ status: 429, times: 6, retryAfterSeconds: 1 });
      bump('ado 429 storm requests', 6);
      faulty.jira.failNext({ kind: 429, retryAfterSec: 1, times: 6 });
      bump('jira 429 storm requests', 6);
    }
    if (storms && traffic - breakAt >= 300) {
      breakAt = traffic;
      faulty.jira.failNext({ endpoint: 'POST search/jql', kind: 200, body: { issues: 'not-a-list', isLast: 'yes' } });
      faulty.ado.injectFault({ endpoint: 'POST wit/workitemsbatch', status: 200, body: { count: 1, value: 'oops' } });
      bump('schema-breaking responses', 2);
    }
  }, 100);

  const changeRng = createRng(seed ^ 0xc4a9);
  const batches: Change[][] = [];
  let serve: { child: ChildProcess; done: Promise<ChildResult> } | null = null;
  try {
    // Phase 1: syncs killed at random points (pull, evaluation, write-back all in one child).
    say(`phase 1: ${p.syncKills} syncs killed mid-run (${p.jiraItems} Jira + ${p.adoItems} ADO items)`);
    for (let i = 0; i < p.syncKills; i++) {
      const r = await runChild({ ...env, SOAK_MODE: 'sync' }, 2000 + Math.floor(rng() * 3000)).done;
      if (r.killed) counts.kills.sync++;
      completed(r);
    }
    // Phase 2: people change items; a sync plans the writes without sending; write-back killed.
    const b1 = planChanges(faulty, p.changesPerBatch, changeRng, 1);
    batches.push(b1);
    for (const [i, c] of b1.entries()) applyChange(faulty, c, i);
    counts.changes += b1.length;
    say(`phase 2: ${b1.length} changes, then ${p.writeKills} write-back workers killed mid-drain`);
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await runChild({ ...env, SOAK_MODE: 'sync', SOAK_SEND: '0' }, null).done;
      completed(r);
      if (r.code === 0) break;
    }
    for (let i = 0; i < p.writeKills; i++) {
      const r = await runChild({ ...env, SOAK_MODE: 'drain' }, 400 + Math.floor(rng() * 2000)).done;
      if (r.killed) counts.kills.writeBack++;
      completed(r);
      await sleep(300);
    }
    // Phase 3: webhooks to a server child that is killed and restarted while changes stream in.
    const port = await freePort();
    const hookBase = `http://127.0.0.1:${port}`;
    faulty.jira.registerWebhook({ url: `${hookBase}/webhooks/jira/jira-main`, secret: JIRA_HOOK_SECRET });
    faulty.ado.subscribe({ url: `${hookBase}/webhooks/azure-devops/ado-main`, ...ADO_HOOK });
    const b2 = planChanges(faulty, p.changesPerBatch, changeRng, 2);
    batches.push(b2);
    say(`phase 3: ${b2.length} changes as webhooks; server killed ${p.serveKills} times`);
    const startServe = async () => {
      serve = runChild({ ...env, SOAK_MODE: 'serve', SOAK_PORT: String(port) }, null);
      await sleep(1200);
    };
    await startServe();
    const killEvery = Math.max(1, Math.floor(b2.length / (p.serveKills + 1)));
    for (const [i, c] of b2.entries()) {
      const r = rng();
      if (c.tracker === 'ado' && r < 0.1) {
        faulty.ado.setDeliveryFaults({ dropNext: 1 });
        bump('ado webhooks dropped');
        hit(`ado-main:${c.id}`, `webhook of change ${1000 + i} dropped`);
      } else if (c.tracker === 'ado' && r < 0.25) {
        faulty.ado.setDeliveryFaults({ duplicateNext: 1 });
        bump('ado webhooks duplicated');
        hit(`ado-main:${c.id}`, `webhook of change ${1000 + i} duplicated`);
      }
      applyChange(faulty, c, 1000 + i);
      await sleep(40);
      if ((i + 1) % killEvery === 0 && counts.kills.webhooks < p.serveKills) {
        await sleep(200 + Math.floor(rng() * 600));
        serve!.child.kill('SIGKILL');
        await serve!.done;
        counts.kills.webhooks++;
        await sleep(300);
        await startServe();
      }
    }
    counts.changes += b2.length;
    await faulty.jira.flushDeliveries();
    await faulty.ado.flushDeliveries();
    await sleep(2000);
    // Final: faults stay on; reconcile passes (sync + sweep, then drain) until nothing is left to do.
    // 429 storms and schema breaks stop here (a pass that meets one fails that connection by
    // design, so the run could never be quiet); 20% 5xx, resets, timeouts and the burst limit stay.
    storms = false;
    // Drop scripted faults still queued (re-applying the random ones): the final passes see only those.
    faulty.jira.resetFaults();
    faulty.jira.setFaults(randomFaults);
    say('final: reconcile passes under 5xx/resets/timeouts until converged');
    for (let pass = 0; pass < 10; pass++) {
      counts.finalPasses++;
      const r = await runChild({ ...env, SOAK_MODE: 'sync', SOAK_RECONCILE: '1' }, null).done;
      completed(r);
      const s = r.out?.summary as
        | { writes: { planned: number; sent: number; failed: number }; connections: { status: string }[] }
        | undefined;
      const busy = await outboxBusy(db);
      const quiet =
        r.code === 0 &&
        s !== undefined &&
        s.connections.every((c) => c.status === 'ok') &&
        s.writes.planned === 0 &&
        s.writes.sent === 0 &&
        busy === 0;
      if (quiet) break;
      // A write that failed through the earlier phases waits out its backoff: the next pass
      // would find nothing due, and ten passes ended with a write still waiting (seen once).
      if (busy > 0) await sleep(Math.min(60_000, Math.max(1500, await outboxDueInMs(db))));
    }
  } finally {
    clearInterval(pump);
    if (serve) {
      (serve as { child: ChildProcess }).child.kill('SIGKILL');
      await (serve as { done: Promise<ChildResult> }).done;
    }
  }
  for (const r of faulty.jira.requestLog()) {
    if (r.status === 429) bump('jira 429');
    else if (typeof r.status === 'number' && r.status >= 500) bump('jira 5xx');
    else if (r.status === 'reset') bump('jira connection resets');
    else if (r.status === 'timeout') bump('jira timeouts');
  }
  const jd = faulty.jira.deliveries();
  bump('jira webhooks dropped', jd.filter((d) => d.dropped).length);
  bump('jira webhooks duplicated', jd.filter((d) => d.duplicate).length);
  // Work left over after the final passes: a write still retrying, a webhook event not processed.
  const leftover = rowsOf<{ kind: string; ref: string; status: string; attempts: number; last_error: string | null }>(
    await db.db.execute(sql`
      select 'write ' || target as kind, ref, status, attempts, last_error from write_outbox
        where status in ('pending', 'in_flight', 'dead')
      union all
      select 'event ' || event, keys::text, status, attempts, last_error from webhook_inbox
        where status in ('pending', 'processing', 'dead')`),
  ).map((r) => `${r.kind} ${r.ref} ${r.status} attempts=${r.attempts} ${String(r.last_error ?? '').slice(0, 160)}`);
  const errs = rowsOf<{ n: number }>(
    await db.db.execute(sql`select count(*)::int n from write_audit where action = 'error'`),
  );
  counts.writeErrors = errs[0]?.n ?? 0;

  // The clean run: identical trackers, the same changes in the same order, no faults, no kills.
  say('clean run over identical trackers and changes');
  const cleanDb = await openBenchDatabase('pglite');
  const cleanWorld = await wireWorld(clean, cleanDb, worldOpts);
  await cleanWorld.sync();
  for (const [b, batch] of batches.entries())
    for (const [i, c] of batch.entries()) applyChange(clean, c, b === 0 ? i : 1000 + i);
  for (let pass = 0; pass < 6; pass++) {
    const s = await cleanWorld.sync({ reconcile: true });
    if (s.writes.sent === 0 && s.writes.planned === 0) break;
  }
  const diff = compareStates(
    trackerState(clean),
    trackerState(faulty),
    await openFindings(cleanDb),
    await openFindings(db),
  );
  // For each duplicated comment: who created it and when (write_audit), to tell a lease overrun from a lost id.
  const dupRefs = diff.duplicateComments.map((d) => d.slice(0, d.indexOf(': ')));
  const dupAudit = dupRefs.length
    ? rowsOf<{ ref: string; action: string; at: string; detail: unknown }>(
        await db.db.execute(
          sql`select ref, action, at, detail from write_audit where target = 'comment' and ref in (${sql.join(
            dupRefs.map((r) => sql`${r}`),
            sql`, `,
          )}) order by ref, at`,
        ),
      )
    : [];
  // For each finding that differs: the item's links and their targets' state in both databases.
  const diag: string[] = [];
  for (const f of [...diff.findingsOnlyClean, ...diff.findingsOnlySoak].slice(0, 5)) {
    const ref = f.split(' ')[0]!;
    for (const [name, d] of [
      ['clean', cleanDb],
      ['soak', db],
    ] as const) {
      const rows = rowsOf<{ target: string; type: string; deleted_at: string | null; status_category: string | null }>(
        await d.db.execute(sql`select l.target, l.type, w.deleted_at, w.status_category from item_links l
          left join work_items w on w.ref = l.target where l.source = ${ref}`),
      );
      diag.push(`${name} ${ref} links: ${JSON.stringify(rows)}`);
    }
  }
  const refs = differingRefs(diff);
  const items: ItemDiagnosis[] = [];
  for (const ref of refs.slice(0, 12)) {
    items.push(
      await diagnose(ref, {
        soak: db,
        clean: cleanDb,
        batches,
        hits: hits.get(ref) ?? [],
        jiraDeliveries: jd,
        adoDeliveries: faulty.ado.deliveries(),
      }),
    );
  }
  await cleanWorld.close();
  await cleanDb.close();
  await faulty.jira.close();
  await faulty.ado.close();
  await db.close();
  const differences =
    diff.findingsOnlyClean.length +
    diff.findingsOnlySoak.length +
    diff.commentDiffs.length +
    diff.duplicateComments.length +
    diff.labelDiffs.length;
  return {
    counts,
    diff,
    differences,
    dupAudit,
    diag,
    items,
    leftover,
    durationMs: Math.round(performance.now() - t0),
  };
}

/** The refs a diff names, each once, in the order the diff lists them. */
export function differingRefs(diff: SoakDiff): string[] {
  const out = new Set<string>();
  for (const f of [...diff.findingsOnlyClean, ...diff.findingsOnlySoak]) out.add(f.split(' ')[0]!);
  for (const r of diff.commentDiffs) out.add(r);
  for (const d of [...diff.duplicateComments, ...diff.labelDiffs]) out.add(d.slice(0, d.indexOf(': ')));
  return [...out];
}

/** What a differing item went through, so the cause of a divergence can be read from the output. */
export interface ItemDiagnosis {
  ref: string;
  /** People's changes to it: phase batch, change number, kind. */
  changes: string[];
  /** Faults that hit it: aimed webhook faults, dropped/duplicated deliveries, failed writes, retried events. */
  faults: string[];
  /** The faulty run's write audit for it, oldest first. */
  writes: string[];
  /** Finding history, per run. */
  evaluations: { soak: string[]; clean: string[] };
}

async function diagnose(
  ref: string,
  ctx: {
    soak: Database;
    clean: Database;
    batches: readonly Change[][];
    hits: readonly string[];
    jiraDeliveries: readonly { key: string; event: string; dropped: boolean; duplicate: boolean }[];
    adoDeliveries: readonly { workItemId: number; eventType: string; status: number | string }[];
  },
): Promise<ItemDiagnosis> {
  const key = ref.slice(ref.indexOf(':') + 1);
  const changes: string[] = [];
  for (const [b, batch] of ctx.batches.entries()) {
    for (const [i, c] of batch.entries()) {
      const k = c.tracker === 'jira' ? `jira-main:${c.key}` : `ado-main:${c.id}`;
      if (k === ref) changes.push(`batch ${b + 1} change ${b === 0 ? i : 1000 + i}: ${c.kind}`);
    }
  }
  const faults = [...ctx.hits];
  for (const d of ctx.jiraDeliveries)
    if (`jira-main:${d.key}` === ref && (d.dropped || d.duplicate))
      faults.push(`jira webhook ${d.event} ${d.dropped ? 'dropped' : 'duplicated'}`);
  for (const d of ctx.adoDeliveries)
    if (`ado-main:${d.workItemId}` === ref && typeof d.status !== 'number')
      faults.push(`ado service hook ${d.eventType} ${d.status}`);
  const events = rowsOf<{
    event: string;
    status: string;
    attempts: number;
    failures: number;
    last_error: string | null;
  }>(
    await ctx.soak.db.execute(sql`select event, status, attempts, failures, last_error from webhook_inbox
      where connection = ${ref.slice(0, ref.indexOf(':'))} and keys @> ${JSON.stringify([key])}::jsonb order by id`),
  );
  for (const e of events)
    if (e.attempts > 1 || e.failures > 0 || e.status !== 'done')
      faults.push(
        `webhook event ${e.event} ${e.status} after ${e.attempts} attempts${e.last_error ? `: ${e.last_error.slice(0, 120)}` : ''}`,
      );
  const quarantined = rowsOf<{ stage: string; failures: number; reason: string }>(
    await ctx.soak.db.execute(sql`select stage, failures, reason from quarantine where ref = ${ref}`),
  );
  for (const q of quarantined) faults.push(`quarantined at ${q.stage} ${q.failures}x: ${q.reason.slice(0, 120)}`);
  const audit = rowsOf<{ at: string; target: string; action: string; http_status: number | null; detail: unknown }>(
    await ctx.soak.db.execute(sql`select at, target, action, http_status, detail from write_audit
      where ref = ${ref} order by at, id`),
  );
  const writes = audit.map(
    (a) =>
      `${String(a.at).slice(11, 23)} ${a.target} ${a.action}${a.http_status ? ` ${a.http_status}` : ''} ${JSON.stringify(a.detail).slice(0, 160)}`,
  );
  for (const a of audit)
    if (a.action === 'error') faults.push(`write ${a.target} failed: ${JSON.stringify(a.detail).slice(0, 120)}`);
  const history = async (d: Database) =>
    rowsOf<{ at: string; rule: string; status: string; message: string }>(
      await d.db.execute(sql`select at, rule, status, message from finding_history where ref = ${ref} order by at, id`),
    ).map((h) => `${String(h.at).slice(11, 23)} ${h.rule} ${h.status}: ${h.message.slice(0, 100)}`);
  return {
    ref,
    changes,
    faults,
    writes,
    evaluations: { soak: await history(ctx.soak), clean: await history(ctx.clean) },
  };
}

/** The lines a diagnosis prints, indented under the seed's result. */
export function diagnosisLines(d: ItemDiagnosis): string[] {
  const out = [`    item ${d.ref}`];
  const list = (title: string, xs: readonly string[]) => {
    out.push(`      ${title}:${xs.length === 0 ? ' none' : ''}`);
    for (const x of xs.slice(0, 25)) out.push(`        ${x}`);
    if (xs.length > 25) out.push(`        … ${xs.length - 25} more`);
  };
  list("people's changes", d.changes);
  list('faults that hit it', d.faults);
  list('write audit (faulty run)', d.writes);
  list('evaluation history (faulty run)', d.evaluations.soak);
  list('evaluation history (clean run)', d.evaluations.clean);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const form = args.includes('--short') ? 'short' : 'long';
  const profile = SOAK_PROFILES[form];
  const first = Number(args.find((a) => a.startsWith('--seed='))?.slice(7) ?? 20261121);
  const runs = Number(args.find((a) => a.startsWith('--seeds='))?.slice(8) ?? 1);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(runs) || runs < 1) {
    process.stderr.write('soak: --seed=N and --seeds=N take whole numbers (--seeds at least 1); e.g. --seeds=30\n');
    process.exit(2);
  }
  if (!(await postgresReachable())) {
    process.stderr.write(
      'soak: needs Postgres (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test): child processes share it\n',
    );
    process.exit(2);
  }
  // --seeds=N runs seeds first, first+1, …: each printed with its result as it finishes.
  const results: { seed: number; differences: number; seconds: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const seed = first + i;
    if (runs > 1) process.stdout.write(`soak ${form}: seed ${seed} (${i + 1} of ${runs})\n`);
    const r = await runSoak(profile, seed);
    results.push({ seed, differences: r.differences, seconds: Math.round(r.durationMs / 1000) });
    process.stdout.write(`${resultLines(form, seed, r).join('\n')}\n`);
  }
  if (runs > 1) {
    const diverged = results.filter((r) => r.differences > 0);
    process.stdout.write(
      `soak ${form}: ${runs} seeds, ${diverged.length} diverged${diverged.length ? ` (${diverged.map((r) => `${r.seed}: ${r.differences}`).join(', ')})` : ''}; seconds per seed ${results.map((r) => r.seconds).join(' ')}\n`,
    );
  }
  process.exit(results.every((r) => r.differences === 0) ? 0 : 1);
}

function resultLines(form: string, seed: number, r: Awaited<ReturnType<typeof runSoak>>): string[] {
  const c = r.counts;
  const faults = Object.entries(c.faults).sort();
  const lines = [
    `soak ${form} (seed ${seed}) in ${(r.durationMs / 1000).toFixed(0)} s`,
    `  faults injected: ${faults.reduce((a, [, n]) => a + n, 0)}`,
    ...faults.map(([k, n]) => `    ${String(n).padStart(6)}  ${k}`),
    `  client retries: ${c.clientRetries} (throttled ${c.clientThrottled}) in ${c.childrenCompleted} completed child runs; failed write attempts retried: ${c.writeErrors}`,
    `  kills survived: ${c.kills.sync + c.kills.writeBack + c.kills.webhooks} (mid-sync ${c.kills.sync}, mid-write-back ${c.kills.writeBack}, webhook server ${c.kills.webhooks})`,
    `  people's changes: ${c.changes}; final reconcile passes: ${c.finalPasses}`,
    `  final differences: ${r.differences} (findings ${r.diff.findingsOnlyClean.length}+${r.diff.findingsOnlySoak.length}, comments ${r.diff.commentDiffs.length}, duplicate comments ${r.diff.duplicateComments.length}, labels ${r.diff.labelDiffs.length})`,
  ];
  for (const [k, v] of Object.entries(r.diff))
    for (const x of (v as string[]).slice(0, 5)) lines.push(`    ${k}: ${x}`);
  for (const x of r.diag) lines.push(`    ${x}`);
  for (const x of r.leftover.slice(0, 10)) lines.push(`    left over: ${x}`);
  for (const a of r.dupAudit.slice(0, 20))
    lines.push(`    audit ${a.ref} ${a.action} ${a.at} ${JSON.stringify(a.detail)}`);
  for (const d of r.items) lines.push(...diagnosisLines(d));
  return lines;
}
