// Admin webhooks end to end: registration through the connector, signed deliveries from the
// simulator to a real HTTP receiver, verification and parsing, echoes of our own writes, and the
// delivery faults (duplicates, drops, late arrivals, issue links).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, WebhookRequest } from '../types.ts';
import { createJiraConnector } from './index.ts';
import { type JiraSimulator, PEOPLE, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

describe('webhook deliveries from the simulator', () => {
  let sim: JiraSimulator;
  let jira: Connector;

  beforeEach(async () => {
    sim = await startJiraSimulator();
    sim.seedPortfolio({ epics: 2, storiesPerEpic: 4, seed: 11, violationRate: 0 });
    jira = createJiraConnector({
      config: jiraConfig({ webhookSecret: 'hook-secret' }),
      log: silentLog,
      resolveRef: noRefs,
      baseUrl: sim.url,
    });
    await jira.whoami();
  });
  afterEach(async () => {
    await jira.close();
    await sim.close();
  });

  describe('webhooks', () => {
    let receiver: Server;
    let received: WebhookRequest[];
    let hookUrl: string;

    beforeEach(async () => {
      received = [];
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
          received.push({ headers, rawBody: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(202).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/jira/jira-main`;
    });
    afterEach(async () => {
      await new Promise((r) => receiver.close(r));
    });

    it('registers an admin webhook once, and its signed deliveries verify and parse, our own writes as echoes', async () => {
      // Act
      const installed = await jira.installWebhooks!({ url: hookUrl, secret: 'hook-secret' });
      const again = await jira.installWebhooks!({ url: hookUrl });
      sim.store.updateIssue('PAY-4', { status: 'In Progress' }, { actor: PEOPLE[2] });
      await jira.updateLabels({ key: 'PAY-4', add: ['pmo-flag'], remove: [] });
      await sim.flushDeliveries();
      const events = received.map((r) => {
        jira.verifyWebhook(r);
        const { deliveryId, occurredAt, revision, ...rest } = jira.parseWebhook(r);
        return rest;
      });

      // Assert
      expect(installed.map((r) => r.action)).toEqual(['created']);
      expect(again.map((r) => r.action)).toEqual(['unchanged']);
      expect(events).toEqual([
        {
          kind: 'updated',
          keys: ['PAY-4'],
          actor: { id: PEOPLE[2]!.accountId, name: PEOPLE[2]!.displayName },
          echo: false,
          changedFields: ['status'],
        },
        {
          kind: 'updated',
          keys: ['PAY-4'],
          actor: { id: sim.me.accountId, name: sim.me.displayName },
          echo: true,
          changedFields: ['labels'],
        },
      ]);
    });

    it('duplicate deliveries carry the same identifier, and dropped ones never arrive', async () => {
      // Arrange
      sim.registerWebhook({ url: hookUrl, secret: 'hook-secret' });
      sim.setFaults({ webhooks: { duplicateRate: 1 } });

      // Act
      sim.store.updateIssue('PAY-5', { summary: 'dup' });
      await sim.flushDeliveries();
      sim.setFaults({ webhooks: { dropRate: 1 } });
      sim.store.updateIssue('PAY-5', { summary: 'dropped' });
      await sim.flushDeliveries();

      // Assert
      const ids = received.map((r) => jira.parseWebhook(r).deliveryId);
      expect(ids.length).toBe(2);
      expect(ids[0]).toBe(ids[1]);
      expect(sim.deliveries().map((d) => ({ event: d.event, dropped: d.dropped, duplicate: d.duplicate }))).toEqual([
        { event: 'jira:issue_updated', dropped: false, duplicate: false },
        { event: 'jira:issue_updated', dropped: false, duplicate: true },
        { event: 'jira:issue_updated', dropped: true, duplicate: false },
      ]);
    });
    it('a late delivery arrives after a newer one; its revision shows it is older', async () => {
      // Arrange
      sim.registerWebhook({ url: hookUrl, secret: 'hook-secret' });

      // Act
      sim.setFaults({ webhooks: { lateRate: 1, lateMs: 150 } });
      sim.store.updateIssue('PAY-6', { summary: 'first' });
      sim.setFaults({ webhooks: {} });
      sim.store.updateIssue('PAY-6', { summary: 'second' });
      await sim.flushDeliveries();

      // Assert
      const revisions = received.map((r) => jira.parseWebhook(r).revision!);
      expect(revisions.length).toBe(2);
      expect(revisions[0]! > revisions[1]!).toBe(true);
    });
    it('a person linking two issues sends issuelink_created naming both; re-reading them shows the dependency', async () => {
      // Arrange
      sim.registerWebhook({ url: hookUrl, secret: 'hook-secret', events: ['issuelink_created'] });

      // Act
      sim.linkIssues('PAY-7', 'PAY-8', 'Blocks', { actor: PEOPLE[3] });
      await sim.flushDeliveries();
      const event = jira.parseWebhook(received[0]!);
      const items = await jira.fetchItems(event.keys);

      // Assert
      expect({ kind: event.kind, keys: event.keys }).toEqual({
        kind: 'linked',
        keys: [sim.store.getIssue('PAY-7')!.id, sim.store.getIssue('PAY-8')!.id],
      });
      expect(items.map((i) => ({ key: i.key, links: i.links })).sort((a, b) => a.key.localeCompare(b.key))).toEqual([
        { key: 'PAY-7', links: [{ type: 'blocks', target: 'jira-main:PAY-8' }] },
        { key: 'PAY-8', links: [{ type: 'blocked_by', target: 'jira-main:PAY-7' }] },
      ]);
    });
  });
});
