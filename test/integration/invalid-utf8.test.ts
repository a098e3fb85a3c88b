// Bytes that are not UTF-8, from either tracker, arrive as U+FFFD and are stored: the Jira client
// reads with fetch, the Azure DevOps client through azure-devops-node-api's own HTTP client, and
// each body reaches them a byte at a time (test/helpers/byte-proxy.ts), so a multi-byte character
// split between chunks must still come out whole.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { createConnectors } from '../../connectors/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { workItems } from '../../db/schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { runSync } from '../../src/sync/run.ts';
import { type ByteProxy, INVALID_UTF8, MARKER, startByteProxy } from '../helpers/byte-proxy.ts';
import { dbTargets } from '../helpers/db.ts';

// What WHATWG decoding (fetch's, and Node's Buffer) makes of the bytes: one U+FFFD per maximal
// invalid subsequence, the '(' kept.
const DECODED = new TextDecoder().decode(INVALID_UTF8);
const text = (tracker: string, marker: string) => `${tracker} ${marker} 😀 שלום 問題`;

for (const target of dbTargets()) {
  describe(`text that is not UTF-8 on ${target.name}`, () => {
    let database: Database;
    let jira: JiraSimulator;
    let ado: AdoSimulator;
    let proxies: ByteProxy[];
    let connectors: Map<string, Connector>;
    let adoId: number;
    const log = createLogger({ level: 'silent', pretty: false });

    beforeAll(async () => {
      database = await target.open();
      jira = await startJiraSimulator();
      ado = await startAdoSimulator();
      const key = jira.store.createIssue({ project: 'PAY', issuetype: 'Story', summary: text('Jira', MARKER) }).key;
      expect(key).toBe('PAY-1');
      const seeded = ado.seedPortfolio({ process: 'Agile', project: 'Payments', epics: 1, featuresPerEpic: 1 });
      adoId = seeded.ids[0]!;
      ado.store.update(adoId, { 'System.Title': text('Azure DevOps', MARKER) });
      proxies = [await startByteProxy(jira.url), await startByteProxy(ado.url)];
    });
    afterAll(async () => {
      for (const c of connectors?.values() ?? []) await c.close();
      for (const p of proxies) await p.close();
      await jira.close();
      await ado.close();
      await database.close();
    });

    it('stores what both clients decode, U+FFFD for the bytes and every split character whole', async () => {
      const { config } = parseConfig(
        `
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${proxies[0]!.url}
    auth: { email: pmo-bot@example.com, apiToken: jira-test-token }
    scope: { projects: [PAY] }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${proxies[1]!.url}
    auth: { pat: ado-test-pat }
    scope: { projects: [Payments] }
`,
        { env: {} },
      );
      connectors = createConnectors(config.connections, { log });

      const s = await runSync({ database, config, connectors, log });

      expect(s.connections.map((c) => ({ id: c.id, status: c.status, quarantined: c.itemsQuarantined }))).toEqual([
        { id: 'jira-main', status: 'ok', quarantined: 0 },
        { id: 'ado-main', status: 'ok', quarantined: 0 },
      ]);
      const titleOf = async (ref: string) =>
        (await database.db.select({ title: workItems.title }).from(workItems).where(eq(workItems.ref, ref)))[0]?.title;
      expect(await titleOf('jira-main:PAY-1')).toBe(text('Jira', DECODED));
      expect(await titleOf(`ado-main:${adoId}`)).toBe(text('Azure DevOps', DECODED));
      expect(DECODED).toBe('\uFFFD(\uFFFD\uFFFD');
    });
  });
}
