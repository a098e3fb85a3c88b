// Dynamic webhooks (`/rest/api/3/webhook`), the kind an OAuth 2.0 (3LO) app may register: Jira
// drops each one 30 days after it was registered or last refreshed, so pmo-sync registers its
// own with the scope's JQL as the filter and refreshes them well before that — on each sync
// once the earliest expiry is within `REFRESH_WITHIN_MS`, checked at most every `CHECK_EVERY_MS`.
import { z } from 'zod';
import type { WebhookRegistration } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { JiraTransport } from './client.ts';
import type { JiraConnection } from './config.ts';
import { scopeJql } from './read.ts';

/** Events dynamic webhooks can carry that pmo-sync needs (issue links are admin-webhook only). */
export const DYNAMIC_WEBHOOK_EVENTS = [
  'jira:issue_created',
  'jira:issue_updated',
  'jira:issue_deleted',
  'comment_created',
  'comment_updated',
  'comment_deleted',
];

/** Refresh once the earliest of ours expires within 20 days: a third of the 30-day life spent. */
export const REFRESH_WITHIN_MS = 20 * 24 * 3_600_000;
/** Look at the expiries at most twice a day: one GET, then nothing until the next look. */
export const CHECK_EVERY_MS = 12 * 3_600_000;

const JiraDynamicWebhook = z.looseObject({
  id: z.number(),
  jqlFilter: z.string().optional(),
  events: z.array(z.string()).default([]),
  expirationDate: z.union([z.string(), z.number()]).optional(),
});
const JiraDynamicWebhookPage = z.looseObject({
  values: z.array(JiraDynamicWebhook).default([]),
  isLast: z.boolean().optional(),
  startAt: z.number().optional(),
  total: z.number().optional(),
});
const JiraDynamicRegistration = z.looseObject({
  webhookRegistrationResult: z
    .array(z.looseObject({ createdWebhookId: z.number().optional(), errors: z.array(z.string()).optional() }))
    .default([]),
});
const JiraRefreshAnswer = z.looseObject({ expirationDate: z.union([z.string(), z.number()]) });

type Hook = z.infer<typeof JiraDynamicWebhook>;

const iso = (v: string | number | undefined): string | null => {
  if (v === undefined) return null;
  const t = typeof v === 'number' ? v : Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
};

export function createDynamicWebhooks(deps: { transport: JiraTransport; config: JiraConnection; now: () => number }) {
  const { transport, config } = deps;
  const filter = scopeJql(config.scope);
  let lastCheck = Number.NEGATIVE_INFINITY;

  async function list(): Promise<Hook[]> {
    const out: Hook[] = [];
    for (let startAt = 0; out.length < 10_000; ) {
      const page = validateReply(
        JiraDynamicWebhookPage,
        await transport.sendRequest({
          url: '/rest/api/3/webhook',
          method: 'GET',
          searchParams: { startAt, maxResults: 100 },
        }),
        'GET webhook',
        { tracker: 'jira', connection: config.id },
      );
      out.push(...page.values);
      if (page.isLast !== false || page.values.length === 0) break;
      startAt += page.values.length;
    }
    return out;
  }

  /** An app sees only its own dynamic webhooks: ours are those carrying our scope's filter. */
  const ours = (h: Hook) => h.jqlFilter === filter && DYNAMIC_WEBHOOK_EVENTS.every((e) => h.events.includes(e));

  async function refresh(ids: number[]): Promise<string | null> {
    const answer = validateReply(
      JiraRefreshAnswer,
      await transport.sendRequest({ url: '/rest/api/3/webhook/refresh', method: 'PUT', body: { webhookIds: ids } }),
      'PUT webhook/refresh',
      { tracker: 'jira', connection: config.id },
    );
    return iso(answer.expirationDate);
  }

  /** Registers ours for `url` (stale filters removed), or refreshes the ones there. */
  async function install(input: { url: string }): Promise<WebhookRegistration[]> {
    const hooks = await list();
    const out: WebhookRegistration[] = [];
    const stale = hooks.filter((h) => !ours(h));
    if (stale.length) {
      await transport.sendRequest({
        url: '/rest/api/3/webhook',
        method: 'DELETE',
        body: { webhookIds: stale.map((h) => h.id) },
      });
      for (const h of stale)
        out.push({
          id: String(h.id),
          action: 'deleted',
          url: input.url,
          events: h.events,
          expiresAt: iso(h.expirationDate),
        });
    }
    const mine = hooks.filter(ours);
    if (mine.length) {
      const expiresAt = await refresh(mine.map((h) => h.id));
      for (const h of mine)
        out.push({ id: String(h.id), action: 'refreshed', url: input.url, events: h.events, expiresAt });
      lastCheck = deps.now();
      return out;
    }
    const created = validateReply(
      JiraDynamicRegistration,
      await transport.sendRequest({
        url: '/rest/api/3/webhook',
        method: 'POST',
        body: { url: input.url, webhooks: [{ events: DYNAMIC_WEBHOOK_EVENTS, jqlFilter: filter }] },
      }),
      'POST webhook',
      { tracker: 'jira', connection: config.id },
    );
    const expiresAt = new Date(deps.now() + 30 * 24 * 3_600_000).toISOString();
    for (const r of created.webhookRegistrationResult) {
      if (r.createdWebhookId === undefined) continue;
      out.push({
        id: String(r.createdWebhookId),
        action: 'created',
        url: input.url,
        events: DYNAMIC_WEBHOOK_EVENTS,
        expiresAt,
      });
    }
    lastCheck = deps.now();
    return out;
  }

  /**
   * Refreshes ours when the earliest expires within REFRESH_WITHIN_MS; does nothing (no request)
   * when it looked less than CHECK_EVERY_MS ago. Returns the ids refreshed.
   */
  async function refreshDue(): Promise<string[]> {
    if (deps.now() - lastCheck < CHECK_EVERY_MS) return [];
    const mine = (await list()).filter(ours);
    lastCheck = deps.now();
    const due = mine.filter((h) => {
      const at = iso(h.expirationDate);
      return at === null || Date.parse(at) - deps.now() < REFRESH_WITHIN_MS;
    });
    // One call refreshes them all: any due means all are refreshed together, so they stay in step.
    if (due.length === 0) return [];
    await refresh(mine.map((h) => h.id));
    return mine.map((h) => String(h.id));
  }

  return { install, refreshDue, list };
}
