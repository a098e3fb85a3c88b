// Readiness beyond "the database answers" (and takes a write: src/http/routes/ops.ts): whether
// the background loops' latest passes failed (they write on every pass, so a full disk shows
// here first), and per connection, when it last synced, whether its tracker mapping drifted,
// and whether webhooks went quiet while the tracker kept changing.
import { and, desc, eq, gt, like, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { kv, syncRuns, webhookInbox, workItems } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import type { BackgroundHealth } from './background-health.ts';
import { describeHookHealth, loadHookHealth } from './hook-health.ts';

export interface ConnectionReadiness {
  lastSync: string | null;
  drift: string[];
  /** Items changed in the tracker within the gap window while no webhook arrived: events are lost. */
  webhookGap: boolean;
  lastWebhook: string | null;
  /**
   * Azure DevOps service hooks on probation or disabled (events raised meanwhile are lost), as the
   * latest scheduled check found them, and the latest window swept for lost events.
   */
  serviceHooks?: {
    problem: string | null;
    subscriptions: { id: string; events: string[]; status: string }[];
    lastSweep: { from: string; to: string; at: string } | null;
    checkedAt: string;
  };
}

export function createReadiness(deps: {
  db: Db;
  config: Config;
  now?: () => Date;
  gapMinutes?: number;
  /** The runtime's loops, when this process runs them (serve); absent where it does not (Workers). */
  background?: BackgroundHealth;
}) {
  const now = deps.now ?? (() => new Date());
  const gapMs = (deps.gapMinutes ?? 60) * 60_000;
  return async (): Promise<{ ok: boolean; checks: Record<string, unknown> }> => {
    const { db } = deps;
    const since = new Date(now().getTime() - gapMs).toISOString();
    const connections: Record<string, ConnectionReadiness> = {};
    let ok = true;
    const driftRows = await db.select().from(kv).where(like(kv.key, 'drift:%'));
    const drift = new Map(
      driftRows.map((r) => [r.key.slice(6), (r.value as { what: string; name: string; message: string }[]) ?? []]),
    );
    const hooks = await loadHookHealth(db);
    for (const c of deps.config.connections) {
      const [run] = await db
        .select({ at: syncRuns.finishedAt })
        .from(syncRuns)
        .where(
          and(
            eq(syncRuns.status, 'ok'),
            sql`${syncRuns.summary}->'connections' @> ${JSON.stringify([{ id: c.id, status: 'ok' }])}::jsonb`,
          ),
        )
        .orderBy(desc(syncRuns.finishedAt))
        .limit(1);
      const [hook] = await db
        .select({ at: webhookInbox.receivedAt })
        .from(webhookInbox)
        .where(eq(webhookInbox.connection, c.id))
        .orderBy(desc(webhookInbox.receivedAt))
        .limit(1);
      const [changed] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(workItems)
        .where(and(eq(workItems.connection, c.id), gt(workItems.updated, since)));
      const webhooksExpected = c.kind === 'jira' ? Boolean(c.webhookSecret) : Boolean(c.webhookAuth);
      const gap = webhooksExpected && (changed?.n ?? 0) > 0 && (!hook || Date.parse(hook.at) < Date.parse(since));
      const d = (drift.get(c.id) ?? []).map((x) => `${x.what} "${x.name}": ${x.message}`);
      if (gap || d.length > 0) ok = false;
      connections[c.id] = { lastSync: run?.at ?? null, drift: d, webhookGap: gap, lastWebhook: hook?.at ?? null };
      const h = hooks.get(c.id);
      if (h) {
        const problem = describeHookHealth(h);
        // A check that failed (the tracker was down) is reported, but only hooks turned off fail readiness.
        if (h.unhealthy > 0) ok = false;
        connections[c.id]!.serviceHooks = {
          problem,
          subscriptions: h.subscriptions
            .filter((s) => s.status !== 'enabled')
            .map((s) => ({ id: s.id, events: s.events, status: s.trackerStatus })),
          lastSweep: h.lastSweep,
          checkedAt: h.checkedAt,
        };
      }
    }
    const checks: Record<string, unknown> = { connections };
    if (deps.background) {
      const failing = deps.background.failing();
      const healthy = Object.keys(failing).length === 0;
      checks.background = healthy
        ? { ok: true }
        : {
            ok: false,
            error: `background work is failing: ${Object.entries(failing)
              .map(([loop, f]) => `${loop} since ${f.since} (${f.error})`)
              .join('; ')}`,
            failing,
          };
      ok &&= healthy;
    }
    return { ok, checks };
  };
}
