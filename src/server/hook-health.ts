// Service hook health on the schedule (issue 24.7). Azure DevOps puts a subscription whose
// deliveries fail on probation — events raised meanwhile are lost, not queued — and disables it
// after more failures (`disabledBySystem`). Before each scheduled sync this reads our
// subscriptions' state, keeps it in kv (`hooks:<connection>`) for /readyz, /metrics and the
// dashboard, and once our webhook endpoint answers again re-enables the ones the service turned
// off and names the connections whose lost-event window must be swept: their cursor is rewound to
// the window's start and the runtime runs a reconcile pass over them (deletions are only found
// that way; changes by the rewound pull).
import { eq, like, sql } from 'drizzle-orm';
import type { Connector, WebhookHealth } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { kv, syncCursors, webhookInbox } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';

export interface HookHealthState {
  checkedAt: string;
  url: string;
  subscriptions: Pick<WebhookHealth, 'id' | 'events' | 'status' | 'trackerStatus' | 'since'>[];
  /** Subscriptions not enabled after this check. */
  unhealthy: number;
  /** Since when (first seen) some subscription has not been enabled; null while all are. */
  unhealthySince: string | null;
  /** Whether our endpoint answered at the check; null when nothing needed it. */
  endpointHealthy: boolean | null;
  /** Subscriptions re-enabled by this check. */
  reenabled: string[];
  /** The latest window swept for lost events. */
  lastSweep: { from: string; to: string; at: string } | null;
  /** The check itself failed (one line). */
  error?: string;
}

/** Statuses the service set and we may undo; `disabled-by-user` was a person's decision. */
const SYSTEM_OFF = new Set(['probation', 'disabled-by-system']);
/** Margin before the window's start: the service's clock and ours, and the delivery that failed first. */
const MARGIN_MS = 5 * 60_000;

export const hookHealthKey = (connection: string) => `hooks:${connection}`;

/** Every connection's latest state, for readiness, metrics and the dashboard. */
export async function loadHookHealth(db: Database['db']): Promise<Map<string, HookHealthState>> {
  const rows = await db.select().from(kv).where(like(kv.key, 'hooks:%'));
  return new Map(rows.map((r) => [r.key.slice('hooks:'.length), r.value as HookHealthState]));
}

/** One line for a person: "2 service hooks on probation, 1 disabled by the system". */
export function describeHookHealth(s: HookHealthState): string | null {
  if (s.error) return `service hooks not checked: ${s.error}`;
  if (s.unhealthy === 0) return null;
  const n = (status: string) => s.subscriptions.filter((x) => x.status === status).length;
  const parts = [
    [n('probation'), 'on probation'],
    [n('disabled-by-system'), 'disabled by the system'],
    [n('disabled-by-user'), 'disabled by a person'],
    [n('disabled-other'), 'disabled'],
  ] as const;
  return parts
    .filter(([k]) => k > 0)
    .map(([k, what], i) => (i === 0 ? `${k} service hook${k === 1 ? '' : 's'} ${what}` : `${k} ${what}`))
    .join(', ');
}

export interface HookHealthMonitor {
  /** Checks every connection with service hooks; returns those whose lost-event window must be swept. */
  check(): Promise<{ sweep: string[] }>;
}

export function createHookHealthMonitor(deps: {
  config: Config;
  connectors: ReadonlyMap<string, Connector>;
  database: Database;
  log: Logger;
  now?: () => Date;
  /** Whether our webhook endpoint answers (default: GET `{server.publicUrl}/healthz` is 200 within 10 s). */
  endpointHealthy?: () => Promise<boolean>;
}): HookHealthMonitor {
  const now = deps.now ?? (() => new Date());
  const { db } = deps.database;
  const log = deps.log.child({ component: 'hook-health' });
  const publicUrl = deps.config.server.publicUrl?.replace(/\/$/, '');
  const endpointHealthy =
    deps.endpointHealthy ??
    (async () => {
      try {
        const r = await fetch(`${publicUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
        await r.body?.cancel();
        return r.status === 200;
      } catch {
        return false;
      }
    });

  /** Where the lost-event window starts: when the first subscription went off, by its word or ours. */
  const windowStart = async (connection: string, bad: WebhookHealth[], prev: HookHealthState | undefined) => {
    const candidates = [...bad.map((b) => b.since), prev?.unhealthySince ?? null]
      .filter((x): x is string => x !== null)
      .map((x) => Date.parse(x));
    if (candidates.length === 0) {
      // Nothing says when: since the last delivery that reached us.
      const [last] = await db
        .select({ at: sql<string>`max(${webhookInbox.receivedAt})` })
        .from(webhookInbox)
        .where(eq(webhookInbox.connection, connection));
      if (last?.at) candidates.push(Date.parse(new Date(last.at).toISOString()));
    }
    const from = candidates.length > 0 ? Math.min(...candidates) : now().getTime() - 24 * 3600_000;
    return new Date(from - MARGIN_MS).toISOString();
  };

  const checkOne = async (
    id: string,
    connector: Connector,
    url: string,
    prev: HookHealthState | undefined,
    endpoint: { ok: () => Promise<boolean> },
  ): Promise<{ state: HookHealthState; sweep: boolean }> => {
    const at = now().toISOString();
    const hooks = await connector.webhookHealth!({ url });
    const bad = hooks.filter((h) => SYSTEM_OFF.has(h.status));
    const state: HookHealthState = {
      checkedAt: at,
      url,
      subscriptions: hooks.map(({ id, events, status, trackerStatus, since }) => ({
        id,
        events,
        status,
        trackerStatus,
        since,
      })),
      unhealthy: hooks.filter((h) => h.status !== 'enabled').length,
      unhealthySince: null,
      endpointHealthy: null,
      reenabled: [],
      lastSweep: prev?.lastSweep ?? null,
    };
    if (bad.length > 0 && connector.enableWebhook) {
      state.endpointHealthy = await endpoint.ok();
      if (state.endpointHealthy) {
        const from = await windowStart(id, bad, prev);
        for (const h of bad) {
          await connector.enableWebhook({ id: h.id });
          state.reenabled.push(h.id);
          const s = state.subscriptions.find((x) => x.id === h.id)!;
          s.status = 'enabled';
          s.trackerStatus = 'enabled';
          s.since = at;
        }
        state.unhealthy -= bad.length;
        // The pull after this reads everything changed since the window began, whatever its cursor.
        if (connector.rewindCursor) {
          const [row] = await db.select().from(syncCursors).where(eq(syncCursors.connection, id));
          const rewound = connector.rewindCursor(row?.cursor ?? null, from);
          if (row && rewound !== null && rewound !== row.cursor) {
            await db.update(syncCursors).set({ cursor: rewound }).where(eq(syncCursors.connection, id));
          }
        }
        state.lastSweep = { from, to: at, at };
        log.warn(
          { connection: id, reenabled: state.reenabled, from },
          'service hooks were on probation or disabled: re-enabled them; sweeping the window events may have been lost in',
        );
      }
    }
    if (state.unhealthy > 0) {
      state.unhealthySince = prev?.unhealthySince ?? at;
      log.warn({ connection: id, hooks: describeHookHealth(state) }, 'service hooks are not healthy');
    }
    return { state, sweep: state.reenabled.length > 0 };
  };

  return {
    async check() {
      const sweep: string[] = [];
      if (!publicUrl) return { sweep };
      const previous = await loadHookHealth(db);
      // Our endpoint is asked once per check, and only when a subscription needs it.
      let probed: Promise<boolean> | null = null;
      const endpoint = { ok: () => (probed ??= endpointHealthy()) };
      for (const c of deps.config.connections) {
        const connector = deps.connectors.get(c.id);
        if (c.kind !== 'azure-devops' || !c.webhookAuth || !connector?.webhookHealth) continue;
        const url = `${publicUrl}/webhooks/${c.kind}/${c.id}`;
        const prev = previous.get(c.id);
        let state: HookHealthState;
        try {
          const r = await checkOne(c.id, connector, url, prev, endpoint);
          state = r.state;
          if (r.sweep) sweep.push(c.id);
        } catch (err) {
          log.error({ connection: c.id, err }, 'could not check service hook health');
          state = {
            ...(prev ?? {
              url,
              subscriptions: [],
              unhealthy: 0,
              unhealthySince: null,
              endpointHealthy: null,
              reenabled: [],
              lastSweep: null,
            }),
            checkedAt: now().toISOString(),
            reenabled: [],
            error: (err instanceof Error ? err.message : String(err)).split('\n')[0]!,
          };
        }
        await db
          .insert(kv)
          .values({ key: hookHealthKey(c.id), value: state })
          .onConflictDoUpdate({ target: kv.key, set: { value: state, updatedAt: sql`now()` } });
      }
      return { sweep };
    },
  };
}
