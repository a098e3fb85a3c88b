// Webhook intake: verify on the raw body, parse, store in the inbox, answer 202 — storing
// before answering, so an acknowledged delivery is never lost. Framework-free: it takes
// Headers and a body string; the HTTP layer adapts it (and has already limited the body's size).
// Nothing here calls a tracker.
//
// What the sender learns: an unknown connection and a failed verification get the same answer,
// after the same work, so connection ids cannot be probed. Once a body is verified, any failure
// to parse, check or store it is the body's fault and answers 400: a 5xx would make the tracker
// send the same unusable body again for as long as it retries. A verified body seen before,
// under any delivery id, is a duplicate (a replay), and so is one whose event is older than the
// freshness window.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Connector, TrackerEvent } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import { webhookInbox } from '../../db/schema.ts';
import { WebhookVerificationError } from '../core/errors.ts';
import { parseJson } from '../core/json.ts';
import type { Logger } from '../core/log.ts';
import type { Tracker } from '../core/work-item.ts';
import { classifyDbError } from '../http/db-errors.ts';

export interface ReceiveInput {
  tracker: Tracker;
  connection: string;
  headers: Headers;
  rawBody: string;
}

export interface ReceiveResult {
  status: 202 | 400 | 401;
  body: { status: string; deliveryId?: string; detail?: string; title?: string };
}

export interface WebhookReceiverDeps {
  db: Db;
  connectors: ReadonlyMap<string, Connector>;
  log: Logger;
  /** Called after a new (not duplicate, not echo) event is stored: wakes the processor. */
  onStored?(connection: string): void;
  /** Clock for the freshness window (tests pin it). */
  now?: () => Date;
  /**
   * Events older than this are refused as replays (config `server.webhooks.maxEventAgeHours`,
   * 48 h). It must exceed the trackers' documented retry spans, or real late deliveries are
   * lost: Jira Cloud retries for up to 30 minutes; Azure DevOps retries a subscription on
   * probation for up to 36 hours (docs/security.md has the sources).
   */
  maxEventAgeMs?: number;
}

export const DEFAULT_MAX_EVENT_AGE_MS = 48 * 3600_000;
/** Trackers' clocks may run ahead of ours by this much. */
export const FUTURE_SKEW_MS = 15 * 60_000;
/**
 * Deepest nesting accepted in a webhook body. Real payloads nest about ten levels (a Jira issue
 * with a rich-text description a few more); a deeper body only costs stack in every recursive
 * parser, schema check and serializer that reads it.
 */
export const MAX_BODY_DEPTH = 128;

const UNAUTHORIZED: ReceiveResult = { status: 401, body: { status: 'unauthorized', title: 'Unauthorized' } };

const rejected = (detail: string): ReceiveResult => ({
  status: 400,
  body: { status: 'rejected', title: 'Bad Request', detail: detail.slice(0, 300) },
});

/** A body the tracker verifiably sent that pmo-sync cannot use. */
class UnusableBody extends Error {}

/** Whether JSON text nests deeper than `max` (counted outside strings, without parsing it). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

/** Text Postgres cannot store (NUL, lone surrogates) replaced, so the audit copy always stores. */
function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD').toWellFormed();
  if (Array.isArray(value)) return value.map(storable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k) as string, storable(v)]));
  }
  return value;
}

const usableText = (s: string) => !s.includes('\u0000') && s.isWellFormed();

interface Prepared {
  event: TrackerEvent;
  payload: unknown;
  bodyHash: string;
}

function prepare(connector: Connector, req: { headers: Headers; rawBody: string }): Prepared {
  if (nestsDeeperThan(req.rawBody, MAX_BODY_DEPTH)) {
    throw new UnusableBody(`the body nests deeper than ${MAX_BODY_DEPTH} levels`);
  }
  const event = connector.parseWebhook(req);
  const payload = storable(parseJson(req.rawBody.replace(/^\uFEFF/, '')));
  for (const s of [event.deliveryId, ...event.keys]) {
    if (!usableText(s))
      throw new UnusableBody('the body names an item key or delivery id that holds a NUL or broken UTF-16');
  }
  if (event.deliveryId.length > 500) throw new UnusableBody('the delivery id is longer than 500 characters');
  // The driver serializes the row the same way; failing here keeps a bad value out of the query.
  JSON.stringify({ event, payload });
  return { event, payload, bodyHash: createHash('sha256').update(req.rawBody).digest('hex') };
}

export function createWebhookReceiver(deps: WebhookReceiverDeps) {
  const now = deps.now ?? (() => new Date());
  const maxAgeMs = deps.maxEventAgeMs ?? DEFAULT_MAX_EVENT_AGE_MS;
  // A key nobody knows, for the decoy check below.
  const decoyKey = randomBytes(32);

  return async function receive(input: ReceiveInput): Promise<ReceiveResult> {
    const connector = deps.connectors.get(input.connection);
    const req = { headers: input.headers, rawBody: input.rawBody };
    if (!connector || connector.tracker !== input.tracker) {
      // The same hashing a real verification does, so the answer takes as long as a bad signature's.
      createHmac('sha256', decoyKey).update(input.rawBody).digest();
      deps.log.warn({ tracker: input.tracker }, 'webhook rejected: unknown connection');
      return UNAUTHORIZED;
    }
    try {
      connector.verifyWebhook(req);
    } catch (err) {
      if (err instanceof WebhookVerificationError) {
        deps.log.warn({ connection: input.connection }, 'webhook rejected: verification failed');
        // No detail: a caller probing credentials learns nothing.
        return UNAUTHORIZED;
      }
      throw err;
    }

    // Verified: from here on, whatever is wrong with the body is the body's fault.
    let prepared: Prepared;
    try {
      prepared = prepare(connector, req);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      deps.log.warn({ connection: input.connection, reason: message.slice(0, 200) }, 'webhook rejected: unusable body');
      return rejected(message);
    }
    const { event, payload, bodyHash } = prepared;

    if (event.occurredAt !== null) {
      const at = Date.parse(event.occurredAt);
      const age = now().getTime() - at;
      if (Number.isNaN(at) || age > maxAgeMs || age < -FUTURE_SKEW_MS) {
        deps.log.warn(
          { connection: input.connection, deliveryId: event.deliveryId, occurredAt: event.occurredAt },
          'webhook rejected: event outside the freshness window',
        );
        return rejected(
          `the event's timestamp (${event.occurredAt}) is outside the accepted window (${Math.round(maxAgeMs / 3600_000)} h old to ${FUTURE_SKEW_MS / 60_000} min ahead); a sync picks up the change`,
        );
      }
    }

    const done = event.echo || event.keys.length === 0;
    let inserted: { id: number }[];
    try {
      inserted = await deps.db
        .insert(webhookInbox)
        .values({
          connection: input.connection,
          tracker: input.tracker,
          deliveryId: event.deliveryId,
          bodyHash,
          event: event.kind,
          keys: event.keys,
          occurredAt: event.occurredAt,
          echo: event.echo,
          body: { event, payload },
          // Our own writes coming back: stored for audit, never processed into another write.
          status: done ? 'done' : 'pending',
          processedAt: done ? now().toISOString() : null,
        })
        // Either unique index: the same delivery id, or the same verified body under a new one.
        .onConflictDoNothing()
        .returning({ id: webhookInbox.id });
    } catch (err) {
      if (classifyDbError(err) === 'data') {
        deps.log.warn({ connection: input.connection, deliveryId: event.deliveryId }, 'webhook rejected: not storable');
        return rejected('the database cannot store a value of this body');
      }
      throw err;
    }
    const fresh = inserted.length > 0;
    if (fresh && !done) deps.onStored?.(input.connection);
    return {
      status: 202,
      body: { status: !fresh ? 'duplicate' : event.echo ? 'echo' : 'accepted', deliveryId: event.deliveryId },
    };
  };
}
