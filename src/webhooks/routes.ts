// HTTP adapter for webhook intake. The body is read under the webhook limits first (413 before it
// is buffered and before the connection is even looked up; 408 for a body that trickles in),
// then the receiver verifies, parses and stores it. A database that cannot be reached or cannot
// write answers 503 with Retry-After (the tracker retries), never 500 and never a false 202.
import type { Context, Hono } from 'hono';
import { ServerLimits } from '../config/schema.ts';
import { type BodyBudget, BodyRefused, createBodyBudget, readLimitedBody, refusalResponse } from '../http/body.ts';
import '../http/context.ts';
import type { Logger } from '../core/log.ts';
import type { Tracker } from '../core/work-item.ts';
import { DB_RETRY_AFTER_SECONDS } from '../http/db-errors.ts';
import { problemResponse } from '../http/problem.ts';
import type { ReceiveInput, ReceiveResult } from './receive.ts';

const PROBLEM = { 'content-type': 'application/problem+json' };

export function mountWebhookRoutes(
  app: Hono,
  receive: (input: ReceiveInput) => Promise<ReceiveResult>,
  log: Logger,
  /** Told of each accepted delivery the tracker marked as a retry (Jira: X-Atlassian-Webhook-Retry). */
  onRetry?: (tracker: Tracker, connection: string) => void,
): void {
  // Mounted beside createApp's routes, these use the app's limits and body budget; mounted on
  // an app of their own (tests, the soak), the defaults and a budget of their own.
  const defaults = ServerLimits.parse({});
  const ownBudget = createBodyBudget(defaults.bodiesInFlightBytes);
  const decoder = new TextDecoder();

  const route = (tracker: Tracker) => async (c: Context) => {
    const limits = (c.get('limits') as ServerLimits | undefined) ?? defaults;
    const budget = (c.get('bodyBudget') as BodyBudget | undefined) ?? ownBudget;
    let body: { bytes: Uint8Array; held: number };
    try {
      body = await readLimitedBody(
        c.req.raw,
        { maxBytes: limits.webhookBodyBytes, timeoutMs: limits.bodyTimeoutSeconds * 1000 },
        budget,
      );
    } catch (err) {
      if (err instanceof BodyRefused) return refusalResponse(c, err);
      log.warn({ tracker, err }, 'webhook body could not be read');
      return problemResponse(400, 'The request body could not be read.');
    }
    try {
      const r = await receive({
        tracker,
        connection: c.req.param('connection') ?? '',
        headers: c.req.raw.headers,
        rawBody: decoder.decode(body.bytes),
      });
      // Counted once accepted (verified), so unauthenticated senders cannot move the count.
      if (r.status === 202 && onRetry && c.req.raw.headers.has('x-atlassian-webhook-retry'))
        onRetry(tracker, c.req.param('connection') ?? '');
      return c.json(r.body, r.status, r.status === 202 ? undefined : PROBLEM);
    } catch (err) {
      log.error({ err, tracker }, 'webhook could not be stored');
      return c.json({ title: 'Service Unavailable', status: 503, detail: 'try again later' }, 503, {
        ...PROBLEM,
        'retry-after': String(DB_RETRY_AFTER_SECONDS),
      });
    } finally {
      budget.give(body.held);
    }
  };
  app.post('/webhooks/jira/:connection', route('jira'));
  app.post('/webhooks/azure-devops/:connection', route('azure-devops'));
}
