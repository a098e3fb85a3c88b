// Webhook load through the real HTTP app and runtime: people change items at a steady rate,
// the simulators deliver webhooks (10% duplicated, 5% held back so they arrive out of order)
// through a timing proxy to the server; we measure the acknowledgement latency, change → write
// latency (from write_audit), lost changes and duplicate writes.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { PERSON } from '../../connectors/azure-devops/simulator/index.ts';
import { createRng } from '../../connectors/jira/simulator/faults.ts';
import { PEOPLE as JIRA_PEOPLE } from '../../connectors/jira/simulator/index.ts';
import { startServer } from '../../src/server/start.ts';
import type { BenchDatabase } from '../lib/db.ts';
import { percentile, round, sleep } from '../lib/stats.ts';
import { type Limits, startWorld } from '../lib/world.ts';

export interface WebhookFigures {
  db: string;
  eventsPerSec: number;
  seconds: number;
  changes: number;
  deliveries: number;
  duplicatesSent: number;
  lateSent: number;
  ackMs: { p50: number | null; p99: number | null };
  changeToWriteMs: { p50: number | null; p99: number | null; samples: number };
  lost: number;
  duplicateWrites: number;
  maxBotCommentsPerItem: number;
}

interface Proxy {
  url: string;
  acks: number[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Forwards to `target` and records how long each answer took, as the tracker would see it. */
async function startTimingProxy(target: string): Promise<Proxy> {
  const acks: number[] = [];
  const server = createServer(async (req, res) => {
    const t0 = performance.now();
    const body = await readBody(req);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers.set(k, v);
    try {
      const r = await fetch(`${target}${req.url}`, { method: req.method, headers, body: new Uint8Array(body) });
      const text = await r.text();
      acks.push(performance.now() - t0);
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
      res.end(text);
    } catch {
      res.writeHead(502);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    acks,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export async function runWebhookScenario(
  database: BenchDatabase,
  o: {
    eventsPerSec: number;
    seconds: number;
    jiraItems: number;
    adoItems: number;
    latencyMs: number;
    jiraLimits: Limits;
    adoLimits: Limits;
    seed?: number;
  },
): Promise<WebhookFigures> {
  const w = await startWorld(database, {
    jiraItems: o.jiraItems,
    adoItems: o.adoItems,
    jiraFaults: { latencyMs: o.latencyMs },
    adoLatencyMs: o.latencyMs,
    jiraLimits: o.jiraLimits,
    adoLimits: o.adoLimits,
  });
  // Write everything once before the load, so the writes measured are the changes' own.
  await w.sync();
  await w.sync();
  const server = await startServer({
    config: w.config,
    database,
    log: w.log,
    cwd: process.cwd(),
    port: 0,
    schedule: false,
    connectors: w.connectors,
  });
  const proxy = await startTimingProxy(`http://127.0.0.1:${server.port}`);
  try {
    for (const conn of w.config.connections) {
      await w.connectors.get(conn.id)!.installWebhooks?.({
        url: `${proxy.url}/webhooks/${conn.kind}/${conn.id}`,
        secret: conn.kind === 'jira' ? conn.webhookSecret : undefined,
      });
    }
    w.jira.setFaults({ webhooks: { duplicateRate: 0.1, lateRate: 0.05, lateMs: 1500 } }, o.seed ?? 5);
    const rng = createRng(o.seed ?? 5);
    const startIso = new Date().toISOString();
    const changes: { ref: string; at: number }[] = [];
    const total = o.eventsPerSec * o.seconds;
    const t0 = Date.now();
    let adoDup = 0;
    let adoLate = 0;
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / o.eventsPerSec;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      // Two events in three on Jira, one on Azure DevOps: a person (un)assigns an item.
      if (i % 3 !== 2) {
        const key = w.jiraKeys[Math.floor(rng() * w.jiraKeys.length)]!;
        const assigned = w.jira.store.getIssue(key)?.fields.assignee != null;
        w.jira.store.updateIssue(key, { assignee: assigned ? null : JIRA_PEOPLE[i % JIRA_PEOPLE.length] });
        changes.push({ ref: `jira-main:${key}`, at: Date.now() });
      } else {
        const id = w.adoIds[Math.floor(rng() * w.adoIds.length)]!;
        const r = rng();
        if (r < 0.1) {
          w.ado.setDeliveryFaults({ duplicateNext: 1 });
          adoDup++;
        } else if (r < 0.15) {
          w.ado.setDeliveryFaults({ delayNext: { count: 1, ms: 1500 } });
          adoLate++;
        }
        const it = w.ado.store.get(id);
        const assigned = it.fields['System.AssignedTo'] != null;
        w.ado.store.update(id, { 'System.AssignedTo': assigned ? null : PERSON });
        changes.push({ ref: `ado-main:${id}`, at: Date.now() });
      }
    }
    await w.jira.flushDeliveries();
    await w.ado.flushDeliveries();
    // Wait for the inbox and the outbox to drain (bounded: a stuck pipeline shows as lost/late).
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await database.db.execute(sql`
        select (select count(*)::int from webhook_inbox where status in ('pending','processing')) as inbox,
               (select count(*)::int from write_outbox where status in ('pending','in_flight')) as outbox`);
      const row = ((r as { rows?: unknown[] }).rows ?? (r as unknown[]))[0] as { inbox: number; outbox: number };
      if ((row.inbox === 0 && row.outbox === 0) || Date.now() > deadline) break;
      await sleep(250);
    }
    const audit = await database.db.execute(sql`
      select a.ref, a.target, a.action, a.at, o.desired_hash, o.priority, o.payload->>'changedAt' as changed_at
      from write_audit a left join write_outbox o on o.id = a.outbox_id
      where a.at >= ${startIso} and a.action not in ('error')`);
    const rows = ((audit as { rows?: unknown[] }).rows ?? (audit as unknown[])) as {
      ref: string;
      target: string;
      action: string;
      at: string;
      desired_hash: string | null;
      priority: number | null;
      changed_at: string | null;
    }[];
    // Change → write, per write a webhook caused: from the tracker change the write reflects
    // (the outbox's `changedAt`: the item's own edit, or for an epic whose rollup moved, the
    // child's edit that moved it) to the write's audit row — what /metrics' freshness
    // histogram observes. Measuring instead from each person's change to the item's next
    // write charged changes that needed no write (an assignee set and cleared, a field no
    // rule reads) with writes that later, unrelated changes caused: that artefact set the p99.
    const latencies: number[] = [];
    for (const r of rows) {
      if (r.action === 'unchanged' || r.changed_at === null || Number(r.priority) > 10) continue;
      const changed = Date.parse(r.changed_at);
      if (changed < t0) continue;
      latencies.push(Date.parse(new Date(r.at).toISOString()) - changed);
    }
    // A duplicate write: the same desired state applied twice in a row to an item and target
    // (A → B → A is two legitimate writes when a person toggles a field back).
    const last = new Map<string, string>();
    let duplicateWrites = 0;
    for (const r of [...rows].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
      if (r.action === 'unchanged' || !r.desired_hash) continue;
      const k = `${r.ref}|${r.target}`;
      if (last.get(k) === r.desired_hash) duplicateWrites++;
      last.set(k, r.desired_hash);
    }
    // Lost: a changed item whose stored assignee differs from the tracker's after the drain.
    const changedRefs = [...new Set(changes.map((c) => c.ref))];
    const stored = await database.db.execute(sql`
      select ref, assignee from work_items where ref in (${sql.join(
        changedRefs.map((r) => sql`${r}`),
        sql`, `,
      )})`);
    const storedRows = ((stored as { rows?: unknown[] }).rows ?? (stored as unknown[])) as {
      ref: string;
      assignee: unknown;
    }[];
    const storedBy = new Map(storedRows.map((r) => [r.ref, r.assignee != null]));
    let lost = 0;
    let maxBot = 0;
    for (const ref of changedRefs) {
      const key = ref.slice(ref.indexOf(':') + 1);
      let assigned: boolean;
      if (ref.startsWith('jira-main:')) {
        const issue = w.jira.store.getIssue(key)!;
        assigned = issue.fields.assignee != null;
        maxBot = Math.max(maxBot, issue.comments.filter((c) => c.author.accountId === w.jira.me.accountId).length);
      } else {
        const it = w.ado.store.get(Number(key));
        assigned = it.fields['System.AssignedTo'] != null;
        maxBot = Math.max(
          maxBot,
          it.comments.filter((c) => !c.isDeleted && c.createdBy.id === w.ado.identity.id).length,
        );
      }
      if (storedBy.get(ref) !== assigned) lost++;
    }
    const jd = w.jira.deliveries();
    return {
      db: database.kind,
      eventsPerSec: o.eventsPerSec,
      seconds: o.seconds,
      changes: changes.length,
      deliveries: jd.length + w.ado.deliveries().length,
      duplicatesSent: jd.filter((d) => d.duplicate).length + adoDup,
      lateSent: adoLate + Math.round(jd.length * 0.05),
      ackMs: { p50: round(percentile(proxy.acks, 50), 1), p99: round(percentile(proxy.acks, 99), 1) },
      changeToWriteMs: {
        p50: round(percentile(latencies, 50), 0),
        p99: round(percentile(latencies, 99), 0),
        samples: latencies.length,
      },
      lost,
      duplicateWrites,
      maxBotCommentsPerItem: maxBot,
    };
  } finally {
    await proxy.close();
    await server.stop();
    await w.jira.close();
    await w.ado.close();
  }
}
