// What every tracker simulator offers shared tests in the same words: a person's edit, the
// webhook deliveries it causes, and faults on requests and deliveries. Each simulator keeps its
// own richer, tracker-shaped controls (Jira's fault rates, Azure DevOps's TSTU budget) beside these.
import type { Tracker } from '../src/core/work-item.ts';

/** An edit a person makes in the tracker, in the common model's words. */
export interface SimEdit {
  title?: string;
  /** The new assignee (`id`: Jira account id, Azure DevOps unique name); null unassigns. */
  assignee?: { id: string; name: string } | null;
  /** A status (state) name the item's workflow has. */
  status?: string;
  /** The item's labels (Azure DevOps: tags) after the edit. */
  labels?: string[];
}

/** The next `times` (default 1) requests to `endpoint` (any, when omitted) answer `status`. */
export interface SimFault {
  /** The endpoint label as in `requestCounts()`, e.g. `POST issue/{key}/comment`, `POST wit/wiql`. */
  endpoint?: string;
  status: number;
  times?: number;
  /** A body instead of the tracker's error body (a 200 that breaks the schema, say). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Delivery faults from now until set again; each call replaces the last. */
export interface SimDeliveryFaults {
  /** Every delivery is lost, as a webhook the tracker never sends. */
  drop?: boolean;
  /** Every delivery is sent twice with the same identifier. */
  duplicate?: boolean;
}

export interface TrackerSimulator {
  readonly tracker: Tracker;
  /** The base URL a connection points at (Jira: the site; Azure DevOps: the organization). */
  readonly url: string;
  /** Edits an item as a person would: a new revision and, for subscribers, a delivery. */
  edit(key: string, edit: SimEdit): void;
  /** Waits until every delivery in flight has been answered. */
  flushDeliveries(): Promise<void>;
  setDeliveryFaults(faults: SimDeliveryFaults): void;
  failNext(fault: SimFault): void;
  requestCounts(): Record<string, number>;
  totalRequests(): number;
  resetCounts(): void;
  close(): Promise<void>;
}
