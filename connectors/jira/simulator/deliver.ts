// Turns store events into signed webhook deliveries, the way Jira Cloud's admin webhooks send
// them (X-Hub-Signature over the raw body, one X-Atlassian-Webhook-Identifier per delivery),
// with configurable duplicates, drops and late arrivals.

import { createHmac, randomUUID } from 'node:crypto';
import { signDeliveryJwt } from '../webhook-jwt.ts';
import { LINK_TYPES } from './catalog.ts';
import type { WebhookFaults } from './faults.ts';
import { type JqlQuery, parseJql } from './jql.ts';
import type { SimEvent, SimWebhook } from './store.ts';
import { userJson } from './store.ts';

export interface Delivery {
  id: string;
  url: string;
  event: string;
  key: string;
  /** HTTP status the receiver answered, `null` while in flight, `-1` when it could not be reached. */
  status: number | null;
  dropped: boolean;
  duplicate: boolean;
}

export function webhookBody(e: SimEvent, site: string, timestamp: number): Record<string, unknown> {
  const issue = {
    id: e.issue.id,
    self: `${site}/rest/api/2/issue/${e.issue.id}`,
    key: e.issue.key,
    fields: e.issue.fields,
  };
  if (e.kind === 'link') {
    const t = LINK_TYPES[e.link.type]!;
    return {
      timestamp,
      webhookEvent: e.event,
      issueLink: {
        id: e.link.id,
        sourceIssueId: e.link.sourceIssueId,
        destinationIssueId: e.link.destinationIssueId,
        issueLinkType: {
          id: Number(t.id),
          name: e.link.type,
          outwardName: t.outward,
          inwardName: t.inward,
          isSubTaskLinkType: false,
          isSystemLinkType: false,
        },
        systemLink: false,
      },
    };
  }
  if (e.kind === 'issue') {
    return {
      timestamp,
      webhookEvent: e.event,
      issue_event_type_name: e.typeName,
      user: userJson(e.actor, site),
      issue,
      ...(e.changelog ? { changelog: { id: e.changelog.id, items: e.changelog.items } } : {}),
    };
  }
  const c = e.comment;
  return {
    timestamp,
    webhookEvent: e.event,
    comment: {
      self: `${issue.self}/comment/${c.id}`,
      id: c.id,
      author: userJson(c.author, site),
      body: c.body,
      updateAuthor: userJson(c.updateAuthor, site),
      created: c.created,
      updated: c.updated,
      jsdPublic: true,
    },
    issue: {
      id: issue.id,
      self: issue.self,
      key: issue.key,
      fields: {
        summary: e.issue.fields.summary,
        issuetype: e.issue.fields.issuetype,
        project: e.issue.fields.project,
        status: e.issue.fields.status,
      },
    },
  };
}

export function createDelivery(opts: {
  site: () => string;
  now: () => number;
  random: () => number;
  faults: () => WebhookFaults;
  hooks: () => SimWebhook[];
}) {
  const log: Delivery[] = [];
  const inFlight = new Set<Promise<void>>();
  const filters = new Map<string, JqlQuery | null>();
  /**
   * Whether an issue passes a webhook's JQL filter (`issue-related-events-section`), as Jira
   * applies it before sending: only issues the JQL matches. A filter the interpreter cannot read
   * lets everything through (Jira itself refuses such a filter at registration).
   */
  const passes = (hook: SimWebhook, issue: SimEvent['issue']): boolean => {
    const jql = hook.filters?.['issue-related-events-section'];
    if (!jql) return true;
    let q = filters.get(jql);
    if (q === undefined) {
      try {
        q = parseJql(jql);
      } catch {
        q = null;
      }
      filters.set(jql, q);
    }
    return q === null || q.where(issue, opts.now());
  };

  async function post(d: Delivery, hook: SimWebhook, raw: string): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-atlassian-webhook-identifier': d.id,
      'x-atlassian-webhook-flow': 'Primary',
    };
    // A duplicate stands for Jira's retry of a delivery it thinks failed: Jira marks those.
    if (d.duplicate) headers['x-atlassian-webhook-retry'] = '1';
    if (hook.secret)
      headers['x-hub-signature'] = `sha256=${createHmac('sha256', hook.secret).update(raw).digest('hex')}`;
    // An OAuth app's dynamic webhook: a JWT signed with the app's client secret instead.
    if (hook.jwtSecret)
      headers.authorization = `Bearer ${signDeliveryJwt(hook.jwtSecret, { iss: 'jira', iat: Math.floor(opts.now() / 1000), exp: Math.floor(opts.now() / 1000) + 180 })}`;
    try {
      const res = await fetch(hook.url, { method: 'POST', headers, body: raw });
      await res.body?.cancel();
      d.status = res.status;
    } catch {
      d.status = -1;
    }
  }

  function track(p: Promise<void>): void {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  function emit(e: SimEvent): void {
    const f = opts.faults();
    for (const hook of opts.hooks()) {
      if (hook.events.length && !hook.events.includes(e.event)) continue;
      if (!passes(hook, e.issue)) continue;
      const raw = JSON.stringify(webhookBody(e, opts.site(), opts.now()));
      const id = randomUUID();
      const d: Delivery = {
        id,
        url: hook.url,
        event: e.event,
        key: e.issue.key,
        status: null,
        dropped: false,
        duplicate: false,
      };
      log.push(d);
      if (f.dropRate && opts.random() < f.dropRate) {
        d.dropped = true;
        continue;
      }
      const late = f.lateRate && opts.random() < f.lateRate ? (f.lateMs ?? 1000) : 0;
      const send = (x: Delivery) =>
        track(late ? new Promise<void>((r) => setTimeout(r, late)).then(() => post(x, hook, raw)) : post(x, hook, raw));
      send(d);
      if (f.duplicateRate && opts.random() < f.duplicateRate) {
        const dup: Delivery = { ...d, status: null, duplicate: true };
        log.push(dup);
        send(dup);
      }
    }
  }

  return {
    emit,
    deliveries: () => log.map((d) => ({ ...d })),
    /** Resolves when every delivery started so far has been answered (or failed). */
    async flush(): Promise<void> {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
  };
}
