// HTTP adapter for webhook intake: Hono hands the raw body and headers to the receiver.
// A failure to store answers 503 (the tracker retries), never 500 and never a false 202.
import type { Hono } from 'hono';
import type { Logger } from '../log.ts';
import type { Tracker } from '../model/work-item.ts';
import type { ReceiveInput, ReceiveResult } from './receive.ts';

export function mountWebhookRoutes(
  app: Hono,
  receive: (input: ReceiveInput) => Promise<ReceiveResult>,
  log: Logger,
): void {
  const route = (tracker: Tracker) => async (c: import('hono').Context) => {
    let rawBody: string;
    try {
      rawBody = await c.req.text();
    } catch {
      return c.json({ title: 'Bad Request', status: 400, detail: 'unreadable body' }, 400, problem);
    }
    try {
      const r = await receive({
        tracker,
        connection: c.req.param('connection') ?? '',
        headers: c.req.raw.headers,
        rawBody,
      });
      return c.json(r.body, r.status, r.status === 202 ? undefined : problem);
    } catch (err) {
      log.error({ err, tracker }, 'webhook could not be stored');
      return c.json({ title: 'Service Unavailable', status: 503, detail: 'try again later' }, 503, problem);
    }
  };
  app.post('/webhooks/jira/:connection', route('jira'));
  app.post('/webhooks/azure-devops/:connection', route('azure-devops'));
}

const problem = { 'content-type': 'application/problem+json' };
