// One bad item never fails the others. A Jira page of 100 issues, one of which the database refuses
// even sanitized (a due date in year 0, which Postgres's calendar does not have), synced through
// the real connector, simulator, pipeline and database: 99 are stored and evaluated, the one is
// quarantined with its stage and reason, counted in the summary, /metrics and `report`, read
// again from Jira by the next pass, by a webhook that names it (its neighbours go through) and
// by a reconcile sweep (once), and released once Jira has a date Postgres can hold.
import { count, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnectors } from '../../connectors/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { evalQueue, itemChecks, quarantine, syncRuns, webhookInbox, workItems } from '../../db/schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { formatTable } from '../../src/report/format.ts';
import { loadReport } from '../../src/report/load.ts';
import type { SyncPipeline } from '../../src/sync/pipeline.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { runSync, type SyncOptions } from '../../src/sync/run.ts';
import { formatSummary } from '../../src/sync/summary.ts';
import { createWebhookProcessor } from '../../src/webhooks/process.ts';
import { dbTargets } from '../helpers/db.ts';

const BAD = 'PAY-37';
const REASON = 'date/time field value out of range: "0000-12-31"';

for (const target of dbTargets()) {
  describe(`a page with one unstorable item on ${target.name}`, () => {
    let database: Database;
    let jira: JiraSimulator;
    let config: Config;
    let connectors: Map<string, Connector>;
    let pipeline: SyncPipeline;
    const log = createLogger({ level: 'silent', pretty: false });
    const sync = (opts: SyncOptions = {}) => runSync({ database, config, connectors, log, pipeline }, opts);
    const bulkFetches = () => jira.requestCounts()['POST issue/bulkfetch'] ?? 0;
    const quarantineRows = () =>
      database.db
        .select({
          ref: quarantine.ref,
          stage: quarantine.stage,
          reason: quarantine.reason,
          failures: quarantine.failures,
        })
        .from(quarantine);
    const stored = async () => (await database.db.select({ n: count() }).from(workItems))[0]!.n;
    const metric = async () => {
      const app = createApp({ database, config, log, now: () => new Date() });
      const text = await (await app.request('/metrics')).text();
      return text.split('\n').filter((l) => l.startsWith('pmo_sync_quarantined_items{'));
    };

    // Jira's clock: moved on between passes, so an incremental pull no longer sees the issues
    // created or written back before, and only the quarantine brings the bad one back.
    let offsetMs = 0;

    // Each test gets its own database and Jira, and arranges the passes before the one it checks.
    beforeEach(async () => {
      offsetMs = 0;
      database = await target.open();
      jira = await startJiraSimulator({ now: () => Date.now() + offsetMs });
      // One search page (Jira's are 100 issues): the bad one in the middle of it.
      for (let n = 1; n <= 100; n++) {
        jira.store.createIssue({
          project: 'PAY',
          issuetype: 'Story',
          summary: `Story ${n}`,
          fields: n === 37 ? { duedate: '0000-12-31' } : {},
        });
      }
      ({ config } = parseConfig(
        `
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: jira-test-token }
    scope: { projects: [PAY] }
    writeback: { comment: true, labels: true }
    limits: { concurrency: 4, requestsPerSecond: 500 }
`,
        { env: {} },
      ));
      connectors = createConnectors(config.connections, { log });
      pipeline = await buildSyncPipeline({ config, cwd: process.cwd(), log, database, connectors });
    });
    afterEach(async () => {
      for (const c of connectors.values()) await c.close();
      await jira.close();
      await database.close();
    });

    it('stores and evaluates the 99, quarantines the one, and says so in the summary, /metrics and report', async () => {
      const s = await sync();

      expect(s.connections).toEqual([
        expect.objectContaining({
          id: 'jira-main',
          status: 'ok',
          itemsPulled: 100,
          itemsChanged: 99,
          itemsQuarantined: 1,
        }),
      ]);
      expect(s.warnings).toEqual([`jira-main: jira-main:${BAD} quarantined (store): ${REASON}`]);
      expect(formatSummary(s)).toContain('100 pulled, 99 changed, 0 deleted, 1 quarantined;');
      expect(s.findings.evaluated).toBe(99);
      expect(s.writes.failed).toBe(0);
      expect(await stored()).toBe(99);
      expect(await database.db.select().from(workItems).where(eq(workItems.key, BAD))).toEqual([]);
      expect(await quarantineRows()).toEqual([
        { ref: `jira-main:${BAD}`, stage: 'store', reason: REASON, failures: 1 },
      ]);
      const [run] = await database.db.select({ status: syncRuns.status }).from(syncRuns);
      expect(run).toEqual({ status: 'ok' });

      expect(await metric()).toEqual([
        'pmo_sync_quarantined_items{connection="jira-main",stage="store"} 1',
        'pmo_sync_quarantined_items{connection="jira-main",stage="evaluate"} 0',
        'pmo_sync_quarantined_items{connection="jira-main",stage="plan"} 0',
      ]);
      const report = await loadReport(database.db, { config });
      expect(report.quarantined).toEqual([
        {
          ref: `jira-main:${BAD}`,
          connection: 'jira-main',
          key: BAD,
          stage: 'store',
          reason: REASON,
          failures: 1,
          firstFailedAt: expect.any(String),
          lastFailedAt: expect.any(String),
        },
      ]);
      expect(formatTable(report)).toMatch(
        new RegExp(
          `\\nQUARANTINED \\(each sync tries these again\\)\\n  store    jira-main:${BAD} +1× since \\d{4}-\\d\\d-\\d\\d  ${REASON.replace(/[()]/g, '\\$&')}\\n`,
        ),
      );
    });

    it('reads the quarantined item again from Jira on the next pass, though Jira did not change it', async () => {
      await sync(); // the first pass quarantines it
      const before = bulkFetches();
      offsetMs += 3_600_000;

      const s = await sync();

      expect(bulkFetches() - before).toBe(1);
      expect(s.connections[0]).toMatchObject({ status: 'ok', itemsPulled: 1, itemsChanged: 0, itemsQuarantined: 1 });
      expect(await quarantineRows()).toEqual([
        { ref: `jira-main:${BAD}`, stage: 'store', reason: REASON, failures: 2 },
      ]);
      expect(await stored()).toBe(99);
    });

    it('a webhook naming it and a good item stores the good one, quarantines it again and finishes the event', async () => {
      await sync(); // the first pass quarantines it
      offsetMs += 3_600_000;
      jira.store.updateIssue('PAY-5', { summary: 'Renamed by a person' });
      await database.db.insert(webhookInbox).values({
        connection: 'jira-main',
        tracker: 'jira',
        deliveryId: 'delivery-1',
        event: 'updated',
        keys: ['PAY-5', BAD],
        body: {},
      });
      const processor = createWebhookProcessor({
        database,
        connectors,
        config,
        log,
        pipeline,
        send: true,
        debounceMs: 0,
      });

      const r = await processor.drain();

      expect({ processed: r.processed, retried: r.retried, dead: r.dead }).toEqual({
        processed: 1,
        retried: 0,
        dead: 0,
      });
      const [renamed] = await database.db
        .select({ title: workItems.title })
        .from(workItems)
        .where(eq(workItems.ref, 'jira-main:PAY-5'));
      expect(renamed).toEqual({ title: 'Renamed by a person' });
      expect(await quarantineRows()).toEqual([
        { ref: `jira-main:${BAD}`, stage: 'store', reason: REASON, failures: 2 },
      ]);
    });

    it('a reconcile pass, which reads it as missing, reads it once', async () => {
      await sync(); // the first pass quarantines it
      offsetMs += 3_600_000;
      const before = bulkFetches();

      const s = await sync({ reconcile: true });

      expect(bulkFetches() - before).toBe(1);
      expect(s.connections[0]).toMatchObject({ status: 'ok', itemsRepaired: 0, itemsQuarantined: 1 });
      expect(await quarantineRows()).toEqual([
        { ref: `jira-main:${BAD}`, stage: 'store', reason: REASON, failures: 2 },
      ]);
    });

    it('stores it, evaluates it and clears its quarantine once the tracker has a date Postgres can hold', async () => {
      await sync(); // the first pass quarantines it
      expect(await metric()).toContain('pmo_sync_quarantined_items{connection="jira-main",stage="store"} 1');
      offsetMs += 3_600_000;
      jira.store.updateIssue(BAD, { duedate: '2026-12-31' });

      const s = await sync();

      expect(s.connections[0]).toMatchObject({ status: 'ok', itemsChanged: 1, itemsQuarantined: 0 });
      expect(s.warnings).toEqual([]);
      expect(await quarantineRows()).toEqual([]);
      const [row] = await database.db
        .select({ due: workItems.due })
        .from(workItems)
        .where(eq(workItems.ref, `jira-main:${BAD}`));
      expect(new Date(row!.due!).toISOString()).toBe('2026-12-31T00:00:00.000Z');
      expect(await database.db.select().from(evalQueue)).toEqual([]);
      // Evaluated now: its applicable-rule count is stored like every other item's.
      expect(
        await database.db
          .select({ ref: itemChecks.ref })
          .from(itemChecks)
          .where(eq(itemChecks.ref, `jira-main:${BAD}`)),
      ).toEqual([{ ref: `jira-main:${BAD}` }]);
      expect(await metric()).toEqual([
        'pmo_sync_quarantined_items{connection="jira-main",stage="store"} 0',
        'pmo_sync_quarantined_items{connection="jira-main",stage="evaluate"} 0',
        'pmo_sync_quarantined_items{connection="jira-main",stage="plan"} 0',
      ]);
    });
  });
}
