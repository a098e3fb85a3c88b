// A small seeded portfolio across Jira and Azure DevOps for the API, dashboard and browser
// tests: items, findings, rollups (computed by the real rollup code), snapshots, sync runs,
// queue rows and three tokens (read, admin, revoked).

import type { Database } from '../../db/client.ts';
import { findings, itemChecks, rollupSnapshots, syncRuns, webhookInbox, writeOutbox } from '../../db/schema.ts';
import { createToken, revokeToken } from '../../src/auth/tokens.ts';
import { Config } from '../../src/config/schema.ts';
import { recomputeRollups } from '../../src/rollups/compute.ts';
import { storeItems } from '../../src/sync/store.ts';
import { daysFrom, item } from '../helpers/items.ts';

export const NOW = new Date('2026-06-15T12:00:00.000Z');
const d = (days: number) => daysFrom(NOW, days);

export const config: Config = Config.parse({
  connections: [
    {
      id: 'jira-main',
      kind: 'jira',
      baseUrl: 'https://jira.example.test',
      auth: { email: 'bot@example.test', apiToken: 'x-secret' },
      scope: { projects: ['PAY', 'WEB'] },
    },
    {
      id: 'ado-main',
      kind: 'azure-devops',
      orgUrl: 'https://dev.example.test/acme',
      auth: { pat: 'x-secret-pat' },
      scope: { projects: ['Payments'] },
    },
  ],
  portfolio: {
    programs: [
      {
        id: 'payments',
        name: 'Payments modernisation',
        include: [
          { connection: 'jira-main', project: 'PAY' },
          { connection: 'ado-main', project: 'Payments' },
        ],
      },
      { id: 'web', name: 'Web refresh', include: [{ connection: 'jira-main', project: 'WEB' }] },
    ],
  },
});

export const ITEMS = [
  item('jira-main:PAY-1', {
    kind: 'epic',
    title: 'Card vault',
    statusCategory: 'in_progress',
    start: d(-30),
    due: d(30),
  }),
  item('jira-main:PAY-2', {
    parent: 'jira-main:PAY-1',
    points: 5,
    statusCategory: 'done',
    started: d(-10),
    resolved: d(-3),
  }),
  item('jira-main:PAY-3', { parent: 'jira-main:PAY-1', points: 3, statusCategory: 'in_progress', due: d(-2) }),
  item('jira-main:PAY-4', { parent: 'jira-main:PAY-1', kind: 'bug', title: 'Vault timeout <script>' }),
  item('jira-main:PAY-5', { parent: 'jira-main:PAY-1', points: 2, statusCategory: 'removed' }),
  item('jira-main:PAY-10', { kind: 'epic', title: 'Refund flow', statusCategory: 'todo', due: d(-3) }),
  item('jira-main:PAY-11', { parent: 'jira-main:PAY-10', points: 3 }),
  item('jira-main:WEB-1', { kind: 'epic', title: 'New homepage', statusCategory: 'done', project: 'WEB', due: d(-20) }),
  item('jira-main:WEB-2', { parent: 'jira-main:WEB-1', project: 'WEB', points: 5, statusCategory: 'done' }),
  item('ado-main:100', {
    kind: 'epic',
    title: 'Ledger migration',
    statusCategory: 'in_progress',
    start: d(-60),
    due: d(-5),
  }),
  item('ado-main:101', { parent: 'ado-main:100', points: 8, statusCategory: 'in_progress' }),
  item('ado-main:102', { parent: 'ado-main:100', points: 2, statusCategory: 'done', started: d(-6), resolved: d(-1) }),
  item('ado-main:200', { kind: 'epic', title: 'Fraud scoring <b>&beta</b>', created: d(-20) }),
  item('ado-main:201', { parent: 'ado-main:200', kind: 'task', title: 'Train fraud model' }),
];

/** Open findings: 5 on 4 items (3 error, 2 warning); plus one resolved. */
export const FINDINGS = [
  { ref: 'jira-main:PAY-3', rule: 'owner-required', severity: 'error', status: 'open' },
  { ref: 'jira-main:PAY-4', rule: 'owner-required', severity: 'error', status: 'open' },
  { ref: 'jira-main:PAY-10', rule: 'epic-overdue', severity: 'error', status: 'open' },
  { ref: 'ado-main:100', rule: 'epic-gate', severity: 'warning', status: 'open' },
  { ref: 'ado-main:201', rule: 'estimate-before-start', severity: 'warning', status: 'open' },
  { ref: 'ado-main:101', rule: 'owner-required', severity: 'error', status: 'resolved' },
] as const;

export interface Seeded {
  tokens: { read: string; admin: string; revoked: string };
}

export async function seed(database: Database): Promise<Seeded> {
  const { db } = database;
  await storeItems(db, ITEMS, NOW);
  // Every item was checked against 4 rules: compliance = (56 - 5) / 56.
  await db.insert(itemChecks).values(ITEMS.map((i) => ({ ref: i.ref, ruleChecks: 4 })));
  const base = { message: 'Fix it', firstSeen: d(-2), lastSeen: d(-1), ruleHash: 'r', itemHash: 'i' };
  await db.insert(findings).values(FINDINGS.map((f) => ({ ...base, ...f })));
  await recomputeRollups(db, {
    now: NOW,
    programs: config.portfolio.programs,
    thresholds: config.portfolio.health,
  });
  await db.insert(rollupSnapshots).values(
    [3, 2, 1].map((ago) => ({
      day: d(-ago).slice(0, 10),
      scope: 'portfolio',
      percentComplete: 0.3 + 0.05 * (3 - ago),
      health: 'amber',
      metrics: { compliance: 0.8 + 0.02 * (3 - ago) },
    })),
  );
  const summary = (id: string, tracker: string, status: string) => ({
    id,
    tracker,
    status,
    itemsPulled: 10,
    itemsChanged: 2,
    itemsDeleted: 0,
    itemsRepaired: 0,
    requests: 12,
    throttled: 1,
    retries: 2,
  });
  await db.insert(syncRuns).values([
    {
      kind: 'sync',
      mode: 'enforce',
      startedAt: d(-1),
      finishedAt: new Date(Date.parse(d(-1)) + 4000).toISOString(),
      status: 'ok',
      summary: { connections: [summary('jira-main', 'jira', 'ok'), summary('ado-main', 'azure-devops', 'ok')] },
    },
    {
      kind: 'sync',
      mode: 'enforce',
      connection: 'jira-main',
      startedAt: new Date(NOW.getTime() - 600_000).toISOString(),
      finishedAt: new Date(NOW.getTime() - 598_000).toISOString(),
      status: 'ok',
      summary: { connections: [summary('jira-main', 'jira', 'ok')] },
    },
  ]);
  await db.insert(writeOutbox).values([
    {
      connection: 'jira-main',
      ref: 'jira-main:PAY-3',
      target: 'comment',
      payload: {},
      desiredHash: 'a',
      status: 'pending',
    },
    {
      connection: 'jira-main',
      ref: 'jira-main:PAY-4',
      target: 'comment',
      payload: {},
      desiredHash: 'b',
      status: 'dead',
    },
    { connection: 'ado-main', ref: 'ado-main:100', target: 'comment', payload: {}, desiredHash: 'c', status: 'done' },
  ]);
  await db.insert(webhookInbox).values({
    connection: 'jira-main',
    tracker: 'jira',
    deliveryId: 'd-1',
    event: 'jira:issue_updated',
    keys: ['PAY-3'],
    body: {},
    status: 'pending',
    receivedAt: new Date(NOW.getTime() - 30_000).toISOString(),
  });
  const read = await createToken(db, { scope: 'read', name: 'reader' });
  const admin = await createToken(db, { scope: 'admin', name: 'admin' });
  const revoked = await createToken(db, { scope: 'admin', name: 'old' });
  await revokeToken(db, revoked.id);
  return { tokens: { read: read.token, admin: admin.token, revoked: revoked.token } };
}
