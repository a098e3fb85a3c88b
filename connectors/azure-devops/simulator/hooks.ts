// Service hook subscriptions and deliveries: builds the `workitem.*` payloads the service sends,
// POSTs them with the subscription's basic auth, and misbehaves on request (drops, duplicates,
// late deliveries) so receivers can be tested against what real hooks do.
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
}

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
  status: number | 'dropped' | 'error';
}

export function createHooks(store: SimStore, baseUrl: () => string) {
  const subs = new Map<string, SimSubscription>();
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
    subscribe(s: Omit<SimSubscription, 'id' | 'notificationId'> & { id?: string }): SimSubscription {
      const sub: SimSubscription = { ...s, id: s.id ?? randomUUID(), notificationId: 0 };
      subs.set(sub.id, sub);
      return sub;
    },
    unsubscribe: (id: string) => subs.delete(id),
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
