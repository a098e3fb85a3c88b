// Webhook intake: verify on the raw body, parse, store in the inbox, answer 202 — storing
// before answering, so an acknowledged delivery is never lost. Framework-free: it takes
// Headers and a body string; the HTTP layer adapts it (and has already limited the body's size).
// Nothing here calls a tracker.
import type { Connector } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import { webhookInbox } from '../../db/schema.ts';
import { WebhookPayloadError, WebhookVerificationError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Tracker } from '../model/work-item.ts';

export interface ReceiveInput {
  tracker: Tracker;
  connection: string;
  headers: Headers;
  rawBody: string;
}

export interface ReceiveResult {
  status: 202 | 400 | 401 | 404;
  body: { status: string; deliveryId?: string; detail?: string; title?: string };
}

export interface WebhookReceiverDeps {
  db: Db;
  connectors: ReadonlyMap<string, Connector>;
  log: Logger;
  /** Called after a new (not duplicate, not echo) event is stored: wakes the processor. */
  onStored?(connection: string): void;
}

export function createWebhookReceiver(deps: WebhookReceiverDeps) {
  return async function receive(input: ReceiveInput): Promise<ReceiveResult> {
    const connector = deps.connectors.get(input.connection);
    if (!connector || connector.tracker !== input.tracker) {
      return { status: 404, body: { status: 'unknown-connection', title: 'Not Found' } };
    }
    const req = { headers: input.headers, rawBody: input.rawBody };
    try {
      connector.verifyWebhook(req);
    } catch (err) {
      if (err instanceof WebhookVerificationError) {
        deps.log.warn({ connection: input.connection }, 'webhook rejected: verification failed');
        // No detail: a caller probing credentials learns nothing.
        return { status: 401, body: { status: 'unauthorized', title: 'Unauthorized' } };
      }
      throw err;
    }
    let event: ReturnType<Connector['parseWebhook']>;
    let body: unknown;
    try {
      event = connector.parseWebhook(req);
      body = JSON.parse(input.rawBody);
    } catch (err) {
      if (err instanceof WebhookPayloadError || err instanceof SyntaxError) {
        return { status: 400, body: { status: 'rejected', title: 'Bad Request', detail: err.message.slice(0, 200) } };
      }
      throw err;
    }
    const inserted = await deps.db
      .insert(webhookInbox)
      .values({
        connection: input.connection,
        tracker: input.tracker,
        deliveryId: event.deliveryId,
        event: event.kind,
        keys: event.keys,
        occurredAt: event.occurredAt,
        echo: event.echo,
        body: { event, payload: body },
        // Our own writes coming back: stored for audit, never processed into another write.
        status: event.echo || event.keys.length === 0 ? 'done' : 'pending',
        processedAt: event.echo || event.keys.length === 0 ? new Date().toISOString() : null,
      })
      .onConflictDoNothing()
      .returning({ id: webhookInbox.id });
    const fresh = inserted.length > 0;
    if (fresh && !event.echo && event.keys.length > 0) deps.onStored?.(input.connection);
    return {
      status: 202,
      body: { status: !fresh ? 'duplicate' : event.echo ? 'echo' : 'accepted', deliveryId: event.deliveryId },
    };
  };
}
