// A real HTTP server carrying the webhook routes, recording every request it receives so a test
// can replay deliveries (duplicated, reordered, concurrent) exactly as they came.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Connector } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import type { Logger } from '../../src/core/log.ts';
import { createWebhookReceiver } from '../../src/webhooks/receive.ts';
import { mountWebhookRoutes } from '../../src/webhooks/routes.ts';

export interface RecordedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface HookServer {
  url: string;
  app: Hono;
  recorded: RecordedRequest[];
  /** Sends a recorded request again through the app (no network), returning the status. */
  replay(r: RecordedRequest): Promise<number>;
  close(): Promise<void>;
}

export async function startHookServer(deps: {
  db: Db;
  connectors: ReadonlyMap<string, Connector>;
  log: Logger;
}): Promise<HookServer> {
  const app = new Hono();
  const recorded: RecordedRequest[] = [];
  app.use('/webhooks/*', async (c, next) => {
    recorded.push({
      path: c.req.path,
      headers: Object.fromEntries(c.req.raw.headers),
      body: await c.req.raw.clone().text(),
    });
    await next();
  });
  mountWebhookRoutes(app, createWebhookReceiver(deps), deps.log);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    recorded,
    async replay(r) {
      const res = await app.request(r.path, { method: 'POST', headers: r.headers, body: r.body });
      return res.status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
