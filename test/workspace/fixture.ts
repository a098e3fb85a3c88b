// The hand-computed two-tracker portfolio of test/workspace/metrics.test.ts, as items dated
// relative to a day, and the configuration (YAML, so the CLI reads the same) that groups it.
import type { Db } from '../../db/client.ts';
import { findings, itemChecks } from '../../db/schema.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import { recomputeRollups } from '../../src/rollups/compute.ts';
import { storeItems } from '../../src/sync/store.ts';
import { daysFrom, item } from '../helpers/items.ts';

export const WORKSPACE_YAML = `
database: { url: ./db }
connections:
  - id: jira-main
    kind: jira
    baseUrl: https://jira.example.test
    auth: { email: bot@example.test, apiToken: \${JIRA_API_TOKEN} }
    scope: { projects: [PAY, PLAT] }
  - id: ado-main
    kind: azure-devops
    orgUrl: https://dev.example.test/acme
    auth: { pat: \${ADO_PAT} }
    scope: { projects: [Payments] }
portfolio:
  programs:
    - id: payments
      name: Payments
      include: [{ connection: jira-main, project: PAY }, { connection: ado-main, project: Payments }]
    - id: platform
      name: Platform
      include: [{ connection: jira-main, project: PLAT }]
`;
export const WORKSPACE_ENV = { JIRA_API_TOKEN: 'x-secret', ADO_PAT: 'x-secret-pat' };

export const workspaceConfig = (): Config => parseConfig(WORKSPACE_YAML, { env: WORKSPACE_ENV }).config;

const alice = { id: 'u-alice', name: 'Alice Adams' };
const bob = { id: 'u-bob', name: 'Bob Brown' };
const carol = { id: 'u-carol', name: 'Carol Chen' };
const area = (path: string) => ({ id: 0, rev: 1, fields: { 'System.AreaPath': path } });

const epic = (ref: string, over: Parameters<typeof item>[1]) =>
  item(ref, { kind: 'epic', type: 'Epic', title: `Epic ${ref}`, ...over });

/** The portfolio with dates relative to the start of `today`'s UTC day. */
export function workspaceItems(today: Date): WorkItem[] {
  const day0 = new Date(today);
  day0.setUTCHours(0, 0, 0, 0);
  const d = (days: number) => daysFrom(day0, days);
  return [
    // PAY-2: done 10 days after its target, all children done → green "done".
    epic('jira-main:PAY-2', { statusCategory: 'done', status: 'Done', due: d(-20), resolved: d(-10) }),
    item('jira-main:PAY-3', { parent: 'jira-main:PAY-2', statusCategory: 'done', points: 3, resolved: d(-12) }),
    // PAY-10: done with an open child → red epic-done-open-children, not "past target".
    epic('jira-main:PAY-10', { statusCategory: 'done', status: 'Done', due: d(-5), resolved: d(-6) }),
    item('jira-main:PAY-11', { parent: 'jira-main:PAY-10', statusCategory: 'in_progress', points: 2 }),
    item('jira-main:PAY-12', { parent: 'jira-main:PAY-10', statusCategory: 'done', points: 2, resolved: d(-7) }),
    // PAY-20: open, target passed 4 days ago, 1 of 4 points done → red past-target; overdue.
    epic('jira-main:PAY-20', {
      statusCategory: 'in_progress',
      status: 'In Progress',
      start: d(-40),
      due: d(-4),
      owner: alice,
      fields: { team: 'Payments\\Checkout' },
    }),
    item('jira-main:PAY-21', { parent: 'jira-main:PAY-20', statusCategory: 'done', points: 1, resolved: d(-20) }),
    item('jira-main:PAY-22', { parent: 'jira-main:PAY-20', points: 3, due: d(10), assignee: bob }),
    // PLAT-1: no target; its planned finish (PLAT-3 due yesterday) passed → amber.
    epic('jira-main:PLAT-1', { statusCategory: 'in_progress', start: d(-10), assignee: alice }),
    item('jira-main:PLAT-2', { parent: 'jira-main:PLAT-1', statusCategory: 'done', points: 9, resolved: d(-2) }),
    item('jira-main:PLAT-3', { parent: 'jira-main:PLAT-1', points: 1, due: d(-1) }),
    // PLAT-5: no target, no children → green, never overdue.
    epic('jira-main:PLAT-5', { created: d(-3) }),
    // ado-main:100: on plan; its Feature 101 gets a rollup but is not an epic row.
    epic('ado-main:100', {
      statusCategory: 'in_progress',
      start: d(-30),
      due: d(60),
      owner: carol,
      raw: area('Payments\\Checkout'),
    }),
    item('ado-main:101', { kind: 'feature', type: 'Feature', parent: 'ado-main:100', due: d(50) }),
    item('ado-main:102', { parent: 'ado-main:101', statusCategory: 'done', points: 5, resolved: d(-1) }),
    item('ado-main:103', { parent: 'ado-main:101', statusCategory: 'in_progress', points: 5, due: d(20) }),
    // ado-main:9: done before its target → green; sorts before ado-main:100.
    epic('ado-main:9', { statusCategory: 'done', due: d(-30), resolved: d(-40), raw: area('Payments\\Risk') }),
    item('ado-main:8', { parent: 'ado-main:9', statusCategory: 'done', points: 2, resolved: d(-41) }),
    // Removed epics are in no row and no count.
    epic('ado-main:200', { statusCategory: 'removed', due: d(-100) }),
  ];
}

/** Stores the portfolio, its rule checks and one open warning, and computes the rollups on `now`. */
export async function seedWorkspace(db: Db, config: Config, now: Date): Promise<void> {
  await storeItems(db, workspaceItems(now), now);
  await db.insert(itemChecks).values([
    { ref: 'jira-main:PAY-21', ruleChecks: 4 },
    { ref: 'ado-main:103', ruleChecks: 4 },
  ]);
  const at = now.toISOString();
  await db.insert(findings).values({
    ref: 'jira-main:PAY-21',
    rule: 'owner-required',
    severity: 'warning',
    status: 'open',
    message: 'Set an owner.',
    firstSeen: at,
    lastSeen: at,
    ruleHash: 'r',
    itemHash: 'i',
  });
  await recomputeRollups(db, { now, programs: config.portfolio.programs, thresholds: config.portfolio.health });
}
