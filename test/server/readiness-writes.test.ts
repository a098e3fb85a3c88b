// Readiness reflects the ability to write. A full disk is played by a trigger that raises what
// Postgres raises then (SQLSTATE 53100, disk_full): reads still work, writes fail. /readyz turns
// 503 with the reason when its own write probe is refused, and when the background loops' latest
// passes failed; both clear once writes work again.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../../connectors/index.ts';
import type { Database } from '../../db/client.ts';
import { webhookInbox } from '../../db/schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { type BackgroundHealth, createBackgroundHealth } from '../../src/server/background-health.ts';
import { createReadiness } from '../../src/server/readiness.ts';
import { type Runtime, startRuntime } from '../../src/server/runtime.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { dbTargets } from '../helpers/db.ts';

const { config } = parseConfig(
  `
connections:
  - { id: jira-main, kind: jira, baseUrl: "http://127.0.0.1:9", auth: { email: a@b.test, apiToken: t-1234 }, scope: { projects: [PAY] } }
`,
  { env: {} },
);

const diskFull = (table: string) => [
  sql.raw(`create or replace function pmo_test_disk_full() returns trigger language plpgsql as $$
    begin raise exception 'could not extend file "base/16384/16385": No space left on device' using errcode = 'disk_full'; end $$`),
  sql.raw(
    `create trigger pmo_test_disk_full before insert or update on ${table} for each row execute function pmo_test_disk_full()`,
  ),
];
const diskFreed = (table: string) => sql.raw(`drop trigger pmo_test_disk_full on ${table}`);

for (const target of dbTargets()) {
  describe(`readiness and writes on ${target.name}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await target.open();
    });
    afterAll(async () => {
      await database.close();
    });

    it('answers 503 naming the refused write while reads still work, and 200 once writes work again', async () => {
      const app = createApp({ database, config, log: silentLogger() });
      expect((await app.request('/readyz')).status).toBe(200);
      for (const s of diskFull('kv')) await database.db.execute(s);
      try {
        const res = await app.request('/readyz');
        expect(res.status).toBe(503);
        const body = (await res.json()) as { checks: { database: unknown } };
        expect(body.checks.database).toEqual({
          ok: false,
          driver: target.name,
          error:
            'the database rejects writes: 53100: could not extend file "base/16384/16385": No space left on device',
        });
      } finally {
        await database.db.execute(diskFreed('kv'));
      }
      expect((await app.request('/readyz')).status).toBe(200);
    });

    describe('with the background loops running', () => {
      let runtime: Runtime;
      let health: BackgroundHealth;
      let changed: () => void = () => {};
      /** Resolves once the loops' health satisfies `ok` (checked on every change). */
      const until = (ok: (h: BackgroundHealth) => boolean) =>
        new Promise<void>((resolve) => {
          changed = () => {
            if (ok(health)) resolve();
          };
          changed();
        });

      beforeAll(async () => {
        health = createBackgroundHealth({ onChange: () => changed() });
        const log = silentLogger();
        const connectors = createConnectors(config.connections, { log });
        const pipeline = await buildSyncPipeline({ config, cwd: process.cwd(), log, database, connectors });
        runtime = startRuntime({
          config,
          database,
          connectors,
          log,
          pipeline,
          health,
          schedule: false,
          pollMs: 20,
          debounceMs: 0,
        });
      });
      afterAll(async () => {
        await runtime.stop();
      });

      it('turns /readyz 503 while the loops cannot write, naming the loop and the error, and clears', async () => {
        const readiness = createReadiness({ db: database.db, config, background: health });
        const app = createApp({ database, config, log: silentLogger(), readiness });
        for (const s of diskFull('webhook_inbox')) await database.db.execute(s);
        try {
          // Work the processor must claim (an update of its row), stored before the disk filled.
          await database.db.execute(sql`alter table webhook_inbox disable trigger pmo_test_disk_full`);
          await database.db.insert(webhookInbox).values({
            connection: 'jira-main',
            tracker: 'jira',
            deliveryId: 'd-full-disk',
            event: 'updated',
            keys: ['PAY-1'],
            body: {},
            receivedAt: '2026-01-01T00:00:00.000Z',
          });
          await database.db.execute(sql`alter table webhook_inbox enable trigger pmo_test_disk_full`);
          runtime.wake();
          await until((h) => 'webhooks' in h.failing());

          const res = await app.request('/readyz');
          expect(res.status).toBe(503);
          const { checks } = (await res.json()) as { checks: Record<string, Record<string, unknown>> };
          expect(checks.database).toMatchObject({ ok: true });
          expect(checks.background).toMatchObject({
            ok: false,
            failing: { webhooks: { failures: expect.any(Number) } },
          });
          expect(checks.background!.error).toMatch(
            /^background work is failing: webhooks since \S+ \(53100: could not extend file "base\/16384\/16385": No space left on device\)$/,
          );
        } finally {
          await database.db.execute(diskFreed('webhook_inbox'));
        }
        await until((h) => Object.keys(h.failing()).length === 0);
        const after = await app.request('/readyz');
        expect(((await after.json()) as { checks: { background: unknown } }).checks.background).toEqual({ ok: true });
      });
    });
  });
}
