// One item the tracker returns in a shape pmo-sync cannot read (its summary a number, against
// Jira's schema) never fails its page: the others are stored, it waits in the quarantine at
// `read`, every later pass reads it again by key (never taking it for deleted), and once Jira
// returns it readable it is stored and leaves the quarantine. Through the real connector,
// simulator, pipeline and database.
import { count } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnectors } from '../../connectors/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { quarantine, workItems } from '../../db/schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/log.ts';
import type { SyncPipeline } from '../../src/sync/pipeline.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { runSync, type SyncOptions } from '../../src/sync/run.ts';
import { dbTargets } from '../helpers/db.ts';

const BAD = 'PAY-13';

for (const target of dbTargets()) {
  describe(`an unreadable item among readable ones, on ${target.name}`, () => {
    let database: Database;
    let jira: JiraSimulator;
    let config: Config;
    let connectors: Map<string, Connector>;
    let pipeline: SyncPipeline;
    const log = createLogger({ level: 'silent', pretty: false });
    const sync = (opts: SyncOptions = {}) => runSync({ database, config, connectors, log, pipeline }, opts);
    const stored = async () => (await database.db.select({ n: count() }).from(workItems))[0]!.n;
    const quarantined = () =>
      database.db
        .select({ ref: quarantine.ref, stage: quarantine.stage, failures: quarantine.failures })
        .from(quarantine);
    let offsetMs = 0;

    // Each test gets its own database and Jira, and arranges the passes before the one it checks.
    beforeEach(async () => {
      offsetMs = 0;
      database = await target.open();
      jira = await startJiraSimulator({ now: () => Date.now() + offsetMs });
      for (let n = 1; n <= 40; n++) {
        jira.store.createIssue({
          project: 'PAY',
          issuetype: 'Story',
          summary: `Story ${n}`,
          // Jira's schema says a summary is text: this one breaks it.
          fields: n === 13 ? { summary: 42 } : {},
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

    it('stores the readable ones and quarantines the other at read, without failing the connection', async () => {
      const s = await sync();
      expect(s.connections.map((c) => ({ status: c.status, pulled: c.itemsPulled, q: c.itemsQuarantined }))).toEqual([
        { status: 'ok', pulled: 40, q: 1 },
      ]);
      expect(await stored()).toBe(39);
      expect(await quarantined()).toEqual([{ ref: `jira-main:${BAD}`, stage: 'read', failures: 1 }]);
      expect(s.warnings.join('\n')).toMatch(new RegExp(`${BAD} quarantined \\(read\\): .*summary`));
    });

    it('reads it again by key on the next pass and on a reconcile sweep, never taking it for deleted', async () => {
      await sync(); // the first pass quarantines it
      offsetMs += 10 * 60_000;
      const next = await sync();
      expect(next.connections[0]!.status).toBe('ok');
      const swept = await sync({ reconcile: true });
      expect(swept.connections[0]!.itemsDeleted).toBe(0);
      expect(await stored()).toBe(39);
      const [row] = await quarantined();
      expect(row).toMatchObject({ ref: `jira-main:${BAD}`, stage: 'read' });
      expect(row!.failures).toBeGreaterThanOrEqual(3);
    });

    it('stores it and lets it go once Jira returns it readable', async () => {
      await sync(); // the first pass quarantines it
      expect(await quarantined()).toEqual([{ ref: `jira-main:${BAD}`, stage: 'read', failures: 1 }]);
      offsetMs += 10 * 60_000;
      jira.store.updateIssue(BAD, { summary: 'Story 13, fixed' });
      const s = await sync();
      expect(s.connections[0]!.itemsQuarantined).toBe(0);
      expect(await stored()).toBe(40);
      expect(await quarantined()).toEqual([]);
    });
  });
}
