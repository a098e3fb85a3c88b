// Shared setup for the API suites: a seeded database per target and a small request helper.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { expect } from 'vitest';
import type { Database } from '../../db/client.ts';
import { silentLogger } from '../../src/core/log.ts';
import { type AppDeps, createApp } from '../../src/http/app.ts';
import type { TestDbTarget } from '../helpers/db.ts';
import { config, NOW, type Seeded, seed } from './fixture.ts';

export interface ApiHarness {
  database: Database;
  tokens: Seeded['tokens'];
  app: OpenAPIHono;
  /** An app over the same database with some dependencies replaced. */
  appWith(over: Partial<AppDeps>): OpenAPIHono;
  get(path: string, token?: string | null, app?: OpenAPIHono): Promise<Response>;
}

export async function openHarness(target: TestDbTarget): Promise<ApiHarness> {
  const database = await target.open();
  const { tokens } = await seed(database);
  const deps: AppDeps = { database, config, log: silentLogger(), now: () => NOW };
  const app = createApp(deps);
  return {
    database,
    tokens,
    app,
    appWith: (over) => createApp({ ...deps, ...over }),
    get: async (path, token = tokens.read, on = app) =>
      on.request(path, { headers: token === null ? {} : { authorization: `Bearer ${token}` } }),
  };
}

export async function problemOf(res: Response): Promise<{ status: number; title: string; detail?: string }> {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { status: number; title: string; detail?: string; type: string };
  expect(body.type).toBe('about:blank');
  expect(body.status).toBe(res.status);
  return body;
}
