// The API fixture's portfolio plus what the workspace views need: owners, dependencies across
// trackers (one that breaks date order, one cycle), a posted bot comment with its audit, a
// waived finding, a finding's history, and tracker titles that try to be HTML or a formula.
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { appliedState, findingHistory, findings, itemLinks, writeAudit } from '../../db/schema.ts';
import { describeRules, loadRuleSet } from '../../rules/load.ts';
import { refreshBurnUps } from '../../src/forecast/burnup.ts';
import { refreshItemRollups } from '../../src/rollups/items.ts';
import { storeItems } from '../../src/sync/store.ts';
import { config, NOW, type Seeded, seed } from '../api/fixture.ts';
import { daysFrom, item } from '../helpers/items.ts';

export { config, NOW } from '../api/fixture.ts';

const d = (days: number) => daysFrom(NOW, days);

export const HOSTILE_TITLE = '"><img src=x onerror=alert(1)><script>window.pwned=1</script>';
export const FORMULA_TITLE = '=HYPERLINK("https://evil.example","x")';

export const COMMENT = {
  marker: 'pmo-sync:jira-main:PAY-3',
  blocks: [
    { type: 'heading' as const, text: 'PMO check: 1 to fix' },
    { type: 'bullets' as const, items: [[{ text: 'Assign an owner to PAY-3 <now>.' }]] },
  ],
};

/** The built-in rules as `GET /api/v1/rules` lists them, for rule titles and how-to-fix text. */
export function builtInRules(): unknown[] {
  return describeRules(loadRuleSet({ config: { packs: ['pmo-standard'], files: [] }, cwd: process.cwd() }));
}

export async function seedWorkspace(database: Database): Promise<Seeded> {
  const seeded = await seed(database);
  const { db } = database;
  await storeItems(
    db,
    [
      item('jira-main:PAY-20', {
        kind: 'epic',
        title: HOSTILE_TITLE,
        statusCategory: 'in_progress',
        start: d(-10),
        due: d(40),
        owner: { id: 'u-eve', name: 'Eve <b>Evil</b>' },
      }),
      item('jira-main:PAY-21', { parent: 'jira-main:PAY-20', title: FORMULA_TITLE, statusCategory: 'in_progress' }),
    ],
    NOW,
  );
  await db.execute(
    sql`update work_items set owner = '{"id":"u-ann","name":"Ann Lee"}'::jsonb where ref in ('jira-main:PAY-1','jira-main:PAY-3','ado-main:100')`,
  );
  // Teams: a Jira team field and an Azure DevOps area path below "Payments".
  await db.execute(
    sql`update work_items set fields = '{"team":"Vault squad"}'::jsonb where ref in ('jira-main:PAY-1','jira-main:PAY-3','jira-main:PAY-4')`,
  );
  await db.execute(
    sql`update work_items set fields = ${JSON.stringify({ team: 'Payments\\Ledger' })}::jsonb where ref in ('ado-main:100','ado-main:101','ado-main:201')`,
  );
  await db.insert(itemLinks).values([
    // The Jira epic waits on the Azure DevOps one, which ends after the Jira one starts: a violation.
    { source: 'jira-main:PAY-1', target: 'ado-main:100', type: 'cross_tracker', relation: 'depends_on' },
    // A cycle between two epics, stated on a child of one of them.
    { source: 'jira-main:PAY-11', target: 'jira-main:PAY-20', type: 'blocks', relation: null },
    { source: 'jira-main:PAY-20', target: 'jira-main:PAY-10', type: 'blocks', relation: null },
    // A dependency out of the payments program into web.
    { source: 'jira-main:PAY-10', target: 'jira-main:WEB-1', type: 'depends_on', relation: null },
  ]);
  const base = { firstSeen: d(-3), lastSeen: d(-1), ruleHash: 'r', itemHash: 'i' };
  await db.insert(findings).values([
    {
      ...base,
      ref: 'jira-main:PAY-21',
      rule: 'owner-required',
      severity: 'warning',
      status: 'open',
      message: FORMULA_TITLE,
    },
    {
      ...base,
      ref: 'jira-main:PAY-20',
      rule: 'epic-target-date',
      severity: 'warning',
      status: 'waived',
      message: 'Set a target date.',
      waivedReason: 'Agreed with <the> PMO',
      waivedUntil: '2026-09-30',
    },
  ]);
  await db.insert(findingHistory).values({
    ref: 'jira-main:PAY-3',
    rule: 'owner-required',
    status: 'open',
    at: d(-2),
    message: 'Fix it',
    ruleHash: 'r',
    itemHash: 'i',
  });
  await db.insert(appliedState).values({
    ref: 'jira-main:PAY-3',
    target: 'comment',
    hash: 'h',
    externalId: '10001',
    value: { comment: { action: 'upsert', doc: COMMENT } },
    appliedAt: d(-1),
  });
  await db.insert(writeAudit).values({
    at: d(-1),
    connection: 'jira-main',
    ref: 'jira-main:PAY-3',
    target: 'comment',
    action: 'created',
    httpStatus: 201,
  });
  // The tables were written directly, not by a sync: bring each item's roll-up and the programs'
  // burn-ups up to date, as the commit that stores findings does.
  await refreshItemRollups(db, {});
  await refreshBurnUps(db, { programs: config.portfolio.programs, now: NOW });
  return seeded;
}
