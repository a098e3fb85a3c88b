// Service hook subscriptions and deliveries: builds the `workitem.*` payloads the service sends,
// POSTs them with the subscription's basic auth, and misbehaves on request (drops, duplicates,
// late deliveries) so receivers can be tested against what real hooks do.
//
// Subscription health as Azure DevOps runs it ("Troubleshoot service hooks"): a delivery the
// endpoint fails (an error status or no answer) puts the subscription on probation
// (`onProbation`); a 410 disables it at once (`disabledBySystem`). While on probation the failed
// notification is retried on the service's schedule (here: `retryProbation()`), and events raised
// meanwhile are not sent — they are lost. A probation retry that succeeds enables it again;
// `probationRetriesBeforeDisable` failed ones disable it (`disabledBySystem`). Re-enabling by PUT
// (status `enabled`) clears probation; the failed notification is then dropped, never sent.
import { randomUUID } from 'node:crypto';
import type { SimChange, SimStore } from './store.ts';
import { identityJson } from './store.ts';

export interface SimSubscription {
  id: string;
  eventType: string;
  url: string;
  username?: string;
  password?: string;
  /** publisherInputs.projectId: only this project's work items are sent. */
  projectId?: string;
  notificationId: number;
  status: SubscriptionStatus;
  /** Failed probation retries so far. */
  probationRetries: number;
  /** When the status last changed (the subscription's `modifiedDate`). */
  modifiedDate: string;
}

/** The REST API's `status` values (SubscriptionStatus). */
export type SubscriptionStatus =
  | 'enabled'
  | 'onProbation'
  | 'disabledByUser'
  | 'disabledBySystem'
  | 'disabledByInactiveIdentity';

export interface DeliveryFaults {
  /** The next n deliveries are silently lost. */
  dropNext?: number;
  /** The next n deliveries are sent twice (same notificationId). */
  duplicateNext?: number;
  /** The next n deliveries wait this long, so later events can overtake them. */
  delayNext?: { count: number; ms: number };
}

export interface DeliveryRecord {
  subscriptionId: string;
  notificationId: number;
  eventType: string;
  workItemId: number;
  /** `lost`: raised while the subscription was on probation or disabled, never sent. */
  status: number | 'dropped' | 'error' | 'lost';
}

export function createHooks(
  store: SimStore,
  baseUrl: () => string,
  opts: { now?: () => number; probationRetriesBeforeDisable?: number } = {},
) {
  const clock = opts.now ?? Date.now;
  const retriesBeforeDisable = opts.probationRetriesBeforeDisable ?? 3;
  const subs = new Map<string, SimSubscription>();
  /** The notification that put each subscription on probation, retried by retryProbation(). */
  const failed = new Map<string, { body: string; rec: DeliveryRecord }>();
  const setStatus = (sub: SimSubscription, status: SubscriptionStatus) => {
    if (sub.status === status) return;
    sub.status = status;
    sub.modifiedDate = new Date(clock()).toISOString();
  };
  const ok = (status: DeliveryRecord['status']) => typeof status === 'number' && status >= 200 && status < 300;
  /** A delivery's outcome moves its subscription's health. */
  const settle = (sub: SimSubscription, body: string, rec: DeliveryRecord) => {
    if (ok(rec.status)) return;
    if (rec.status === 410) {
      setStatus(sub, 'disabledBySystem');
      failed.delete(sub.id);
      return;
    }
    if (sub.status === 'enabled') {
      setStatus(sub, 'onProbation');
      sub.probationRetries = 0;
      failed.set(sub.id, { body, rec });
    }
  };
  const log: DeliveryRecord[] = [];
  const pending = new Set<Promise<void>>();
  const faults = { drop: 0, dup: 0, delay: { count: 0, ms: 0 } };

  const payload = (sub: SimSubscription, c: SimChange) => {
    const it = c.item;
    const url = `${baseUrl()}/_apis/wit/workItems/${it.id}`;
    const type = String(it.fields['System.WorkItemType']);
    const title = String(it.fields['System.Title']);
    const verb = c.eventType.split('.')[1];
    const text = `${type} #${it.id} (${title}) ${verb} by ${c.by.displayName}`;
    const snapshot = { id: it.id, rev: it.rev, fields: { ...it.fields }, url };
    const resource =
      c.eventType === 'workitem.updated'
        ? {
            id: it.rev - 1,
            workItemId: it.id,
            rev: it.rev,
            revisedBy: identityJson(c.by, baseUrl()),
            revisedDate: '9999-01-01T00:00:00Z',
            fields: c.changes,
            relations: undefined,
            url: `${url}/updates/${it.rev - 1}`,
            revision: { ...snapshot, url: `${url}/revisions/${it.rev}` },
          }
        : c.eventType === 'workitem.commented'
          ? { ...snapshot, fields: { ...snapshot.fields, 'System.History': c.comment ?? '' } }
          : snapshot;
    return {
      subscriptionId: sub.id,
      notificationId: sub.notificationId,
      id: randomUUID(),
      eventType: c.eventType,
      publisherId: 'tfs',
      message: { text, html: text, markdown: text },
      detailedMessage: { text, html: text, markdown: text },
      resource,
      resourceVersion: '1.0',
      resourceContainers: { project: { id: store.project(String(it.fields['System.TeamProject'])).id } },
      createdDate: new Date().toISOString(),
    };
  };

  const send = async (sub: SimSubscription, body: string, rec: DeliveryRecord, delayMs: number) => {
    await post(sub, body, rec, delayMs);
    settle(sub, body, rec);
  };

  const post = async (sub: SimSubscription, body: string, rec: DeliveryRecord, delayMs: number) => {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (sub.username !== undefined || sub.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${sub.username ?? ''}:${sub.password ?? ''}`).toString('base64')}`;
    }
    try {
      const res = await fetch(sub.url, { method: 'POST', headers, body });
      await res.text();
      rec.status = res.status;
    } catch {
      rec.status = 'error';
    }
  };

  return {
    subs,
    subscribe(
      s: Omit<SimSubscription, 'id' | 'notificationId' | 'status' | 'probationRetries' | 'modifiedDate'> & {
        id?: string;
      },
    ): SimSubscription {
      const sub: SimSubscription = {
        ...s,
        id: s.id ?? randomUUID(),
        notificationId: 0,
        status: 'enabled',
        probationRetries: 0,
        modifiedDate: new Date(clock()).toISOString(),
      };
      subs.set(sub.id, sub);
      return sub;
    },
    unsubscribe(id: string) {
      failed.delete(id);
      return subs.delete(id);
    },
    /** Sets a subscription's status as a person (or the REST API's PUT) does; probation is cleared. */
    setStatus(id: string, status: SubscriptionStatus): SimSubscription | null {
      const sub = subs.get(id);
      if (!sub) return null;
      setStatus(sub, status);
      sub.probationRetries = 0;
      failed.delete(id);
      return sub;
    },
    /**
     * The service's next probation retry of every subscription on probation: the notification
     * that failed is sent again; success enables the subscription, failure counts toward disabling it.
     */
    async retryProbation(): Promise<void> {
      for (const sub of subs.values()) {
        const f = failed.get(sub.id);
        if (sub.status !== 'onProbation' || !f) continue;
        const rec: DeliveryRecord = { ...f.rec, status: 'error' };
        log.push(rec);
        await post(sub, f.body, rec, 0);
        if (ok(rec.status)) {
          setStatus(sub, 'enabled');
          failed.delete(sub.id);
        } else if (rec.status === 410 || ++sub.probationRetries >= retriesBeforeDisable) {
          setStatus(sub, 'disabledBySystem');
          failed.delete(sub.id);
        }
      }
    },
    setFaults(f: DeliveryFaults) {
      faults.drop = f.dropNext ?? faults.drop;
      faults.dup = f.duplicateNext ?? faults.dup;
      faults.delay = f.delayNext ?? faults.delay;
    },
    deliveries: () => log.map((r) => ({ ...r })),
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    emit(c: SimChange) {
      for (const sub of subs.values()) {
        if (sub.eventType !== c.eventType) continue;
        if (sub.projectId && store.project(String(c.item.fields['System.TeamProject'])).id !== sub.projectId) continue;
        sub.notificationId += 1;
        const body = JSON.stringify(payload(sub, c));
        const base = {
          subscriptionId: sub.id,
          notificationId: sub.notificationId,
          eventType: c.eventType,
          workItemId: c.item.id,
        };
        if (sub.status !== 'enabled') {
          log.push({ ...base, status: 'lost' });
          continue;
        }
        if (faults.drop > 0) {
          faults.drop--;
          log.push({ ...base, status: 'dropped' });
          continue;
        }
        let copies = 1;
        if (faults.dup > 0) {
          faults.dup--;
          copies = 2;
        }
        let delayMs = 0;
        if (faults.delay.count > 0) {
          faults.delay.count--;
          delayMs = faults.delay.ms;
        }
        for (let i = 0; i < copies; i++) {
          const rec: DeliveryRecord = { ...base, status: 'error' };
          log.push(rec);
          const p = send(sub, body, rec, delayMs).finally(() => pending.delete(p));
          pending.add(p);
        }
      }
    },
  };
}

export type SimHooks = ReturnType<typeof createHooks>;
