// The real Jira Cloud capture the project ships (33 issues from merico.atlassian.net, captured by
// Apache DevLake; connectors/jira/__fixtures__/PROVENANCE.md) syncs end to end into the database
// through the Jira simulator: EE-4's summary ends in U+0000, which Postgres holds neither in text
// nor in jsonb. Every issue is stored, evaluated and written back; EE-4's title is sanitized and
// says so, its raw JSON reads back as Jira sent it — to rules that read `raw` too — and the API
// and `report` serve it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../../connectors/index.ts';
import { loadDevlakeIssues } from '../../connectors/jira/simulator/generator.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { findings, workItems } from '../../db/schema.ts';
import { trackerJsonMeta } from '../../db/storable.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { loadReport } from '../../src/report/load.ts';
import type { SyncPipeline } from '../../src/sync/pipeline.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { runSync } from '../../src/sync/run.ts';
import { dbTargets } from '../helpers/db.ts';
import { tempDir } from '../helpers/temp.ts';

const captured = loadDevlakeIssues();
const EE4 = captured.find((i) => i.key === 'EE-4')!;
const SUMMARY = EE4.fields.summary as string;
const SANITIZED = SUMMARY.replace('\u0000', '\uFFFD');

// A rule that reads the raw JSON: it fails exactly when the raw summary differs from the stored
// title, which it does only if `raw` reads back with the U+0000 the title could not keep.
const RAW_RULE = `
- id: raw-summary
  title: The raw summary is the title
  severity: info
  applies: item.key == "EE-4"
  check: item.raw.fields.summary == item.title
  message: "Jira sent the summary {{item.raw.fields.summary}}"
`;

for (const target of dbTargets()) {
  describe(`the real DevLake capture on ${target.name}`, () => {
    let database: Database;
    let jira: JiraSimulator;
    let config: Config;
    let connectors: Map<string, Connector>;
    let pipeline: SyncPipeline;
    const log = createLogger({ level: 'silent', pretty: false });

    beforeAll(async () => {
      database = await target.open();
      jira = await startJiraSimulator();
      jira.seedFromDevlake();
      const dir = tempDir();
      writeFileSync(join(dir, 'raw-rules.yaml'), RAW_RULE);
      ({ config } = parseConfig(
        `
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: jira-test-token }
    scope: { projects: [EE, K5] }
    fields: { start: customfield_10015, sprint: customfield_10020, epicLink: customfield_10014 }
    writeback: { comment: true, labels: true }
    limits: { concurrency: 4, requestsPerSecond: 500 }
rules:
  packs: [pmo-standard]
  files: [./raw-rules.yaml]
`,
        { env: {} },
      ));
      connectors = createConnectors(config.connections, { log });
      pipeline = await buildSyncPipeline({ config, cwd: dir, log, database, connectors });
    });
    afterAll(async () => {
      for (const c of connectors.values()) await c.close();
      await jira.close();
      await database.close();
    });

    it('stores, evaluates and writes back every issue; nothing is quarantined', async () => {
      const s = await runSync({ database, config, connectors, log, pipeline });

      expect(s.connections).toEqual([
        expect.objectContaining({
          status: 'ok',
          itemsPulled: captured.length,
          itemsChanged: captured.length,
          itemsQuarantined: 0,
        }),
      ]);
      expect(s.warnings).toEqual([]);
      expect(s.findings.evaluated).toBe(captured.length);
      expect(s.writes).toMatchObject({ failed: 0, sent: s.writes.planned });
      const keys = await database.db.select({ key: workItems.key }).from(workItems);
      expect(keys.map((k) => k.key).sort()).toEqual(captured.map((i) => i.key).sort());
    });

    it('keeps EE-4 sanitized where Postgres needs it, says so, and reads its raw JSON back as Jira sent it', async () => {
      const [row] = await database.db.select().from(workItems).where(eq(workItems.ref, 'jira-main:EE-4'));
      expect(row!.title).toBe(SANITIZED);
      const raw = row!.raw as { key: string; fields: Record<string, unknown> };
      expect({ key: raw.key, summary: raw.fields.summary, status: raw.fields.status }).toEqual({
        key: 'EE-4',
        summary: SUMMARY,
        status: EE4.fields.status,
      });
      const [stored] = await queryRows<{ raw: unknown }>(
        database.db,
        sql`select raw from work_items where ref = 'jira-main:EE-4'`,
      );
      expect(trackerJsonMeta(stored!.raw)).toEqual({ escaped: true, sanitized: ['title'] });

      // The rule saw the raw summary with its U+0000; the message quoting it is stored sanitized.
      const flagged = await database.db
        .select({ ref: findings.ref, status: findings.status, message: findings.message })
        .from(findings)
        .where(eq(findings.rule, 'raw-summary'));
      expect(flagged).toEqual([
        { ref: 'jira-main:EE-4', status: 'open', message: `Jira sent the summary ${SANITIZED}` },
      ]);
    });

    it('serves EE-4 through the API and report', async () => {
      const { token } = await createToken(database.db, { name: 'test', scope: 'read' });
      const app = createApp({ database, config, log, now: () => new Date() });
      const res = await app.request('/api/v1/items/jira-main:EE-4', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { item: { title: string }; findings: { rule: string }[] };
      expect(body.item.title).toBe(SANITIZED);
      expect(body.findings.map((f) => f.rule)).toContain('raw-summary');

      const report = await loadReport(database.db, { config });
      expect(report.items.find((i) => i.key === 'EE-4')?.title).toBe(SANITIZED);
      expect(report.quarantined).toEqual([]);
    });
  });
}
