// The findings lifecycle in the database (PGlite always, Postgres when TEST_DATABASE_URL is
// set): open → resolved, waivers by config and label, expiry re-opening, idempotent re-runs,
// deleted items, incremental evaluation, scoping, and a bad rule file that stops nothing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Db } from '../../db/client.ts';
import { findingHistory, findings, itemLinks, workItems } from '../../db/schema.ts';
import type { GraphItem } from '../../rules/graph.ts';
import { loadRuleSet } from '../../rules/load.ts';
import { testItem } from '../../rules/testing.ts';
import { evaluateFindings } from '../../src/findings/evaluate.ts';
import { previewRuleFile } from '../../src/findings/preview.ts';
import { dbTargets } from '../helpers/db.ts';
import { tempDir } from '../helpers/temp.ts';

const T0 = new Date('2026-06-01T12:00:00Z');
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);

const RULES = `- id: epic-target-date
  title: Open epics have a target date
  severity: error
  applies: item.kind == "epic" && item.open
  check: has(item.due)
  message: Set a target date on {{item.key}}.
- id: epic-done-open-children
  title: Done epics have no open children
  severity: error
  applies: item.kind == "epic" && item.statusCategory == "done"
  check: children.open == 0
  message: "{{item.key}} is done with {{children.open}} open items."
- id: blocked-by-removed
  title: Not blocked by removed work
  severity: warning
  applies: item.open
  check: '!links.exists(l, l.relation == "blocked_by" && l.found && l.statusCategory == "removed")'
  message: Remove the dependency of {{item.key}} on removed work.
`;

function rulesDir(extra: Record<string, string> = {}): string {
  const dir = tempDir('pmo-findings-');
  writeFileSync(join(dir, 'org.yaml'), RULES);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

const item = (p: Record<string, unknown>) => testItem({ connection: 'jira-main', ...p }, 'jira-main:X-1', T0);

async function store(db: Db, items: GraphItem[]): Promise<void> {
  for (const it of items) {
    const row = {
      ...it,
      contentHash: `h-${it.ref}-${it.statusCategory}-${it.due ?? ''}`,
      deletedAt: it.deletedAt ?? null,
    };
    await db.insert(workItems).values(row).onConflictDoUpdate({ target: workItems.ref, set: row });
    await db.delete(itemLinks).where(eq(itemLinks.source, it.ref));
    for (const l of it.links) {
      await db
        .insert(itemLinks)
        .values({ source: it.ref, target: l.target, type: l.type, relation: l.relation ?? null });
    }
  }
}

async function rows(db: Db) {
  const all = await db.select().from(findings).orderBy(asc(findings.ref), asc(findings.rule));
  return all.map((f) => ({
    ref: f.ref,
    rule: f.rule,
    status: f.status,
    firstSeen: new Date(f.firstSeen).toISOString(),
    resolvedAt: f.resolvedAt ? new Date(f.resolvedAt).toISOString() : null,
    waivedUntil: f.waivedUntil,
  }));
}

describe.each(dbTargets())('evaluateFindings on $name', (target) => {
  let database: Database;
  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await database.close();
  });
  const fresh = async () => {
    await database.db.delete(findings);
    await database.db.delete(findingHistory);
    await database.db.delete(itemLinks);
    await database.db.delete(workItems);
    return database.db;
  };
  const ruleSet = (dir = rulesDir(), overrides = {}) =>
    loadRuleSet({ config: { packs: [], files: ['org.yaml'], overrides }, cwd: dir });

  it('opens findings, keeps first-seen on re-runs and resolves them when fixed', async () => {
    const db = await fresh();
    const rs = ruleSet();
    await store(db, [item({ ref: 'jira-main:EP-1', kind: 'epic', statusCategory: 'in_progress' })]);

    const first = await evaluateFindings(db, rs, { now: T0, waivers: [] });
    const again = await evaluateFindings(db, rs, { now: hours(1), waivers: [] });
    const afterRerun = await rows(db);
    await store(db, [item({ ref: 'jira-main:EP-1', kind: 'epic', statusCategory: 'in_progress', due: '2026-09-30' })]);
    const fixed = await evaluateFindings(db, rs, { now: hours(2), waivers: [] });

    expect(first).toEqual({
      evaluated: 1,
      checks: 3,
      open: 1,
      opened: 1,
      resolved: 0,
      waived: 0,
      byRule: { 'epic-target-date': 1 },
      changedRefs: ['jira-main:EP-1'],
      ruleErrors: [],
    });
    expect(again).toEqual({ ...first, opened: 0, changedRefs: [] });
    expect(afterRerun).toEqual([
      {
        ref: 'jira-main:EP-1',
        rule: 'epic-target-date',
        status: 'open',
        firstSeen: T0.toISOString(),
        resolvedAt: null,
        waivedUntil: null,
      },
    ]);
    expect(fixed).toEqual({ ...first, open: 0, opened: 0, resolved: 1, byRule: {} });
    expect(await rows(db)).toEqual([{ ...afterRerun[0], status: 'resolved', resolvedAt: hours(2).toISOString() }]);
    const history = await db.select().from(findingHistory).orderBy(asc(findingHistory.id));
    expect(history.map((h) => [h.status, h.ruleHash === rs.rules[0]!.hash, h.itemHash])).toEqual([
      ['open', true, 'h-jira-main:EP-1-in_progress-'],
      ['resolved', true, `h-jira-main:EP-1-in_progress-2026-09-30`],
    ]);
  });

  it('plans without writing on a dry run, with the summary the real run then gives', async () => {
    const db = await fresh();
    const rs = ruleSet();
    await store(db, [
      item({ ref: 'jira-main:EP-1', kind: 'epic' }),
      item({ ref: 'jira-main:EP-2', kind: 'epic', labels: ['pmo-waive:epic-target-date'] }),
    ]);

    const dry = await evaluateFindings(db, rs, { now: T0, waivers: [], dryRun: true });
    const rowsAfterDry = await rows(db);
    const real = await evaluateFindings(db, rs, { now: T0, waivers: [] });

    expect({ dry, rowsAfterDry }).toEqual({ dry: real, rowsAfterDry: [] });
    expect(real).toEqual({
      evaluated: 2,
      checks: 6,
      open: 1,
      opened: 1,
      resolved: 0,
      waived: 1,
      byRule: { 'epic-target-date': 1 },
      changedRefs: ['jira-main:EP-1', 'jira-main:EP-2'],
      ruleErrors: [],
    });
  });

  it('moves last seen once per day for an unchanged finding, never first seen', async () => {
    const db = await fresh();
    const rs = ruleSet();
    await store(db, [item({ ref: 'jira-main:EP-1', kind: 'epic' })]);
    const seen = async () => {
      const [f] = await db.select().from(findings);
      return [new Date(f!.firstSeen).toISOString(), new Date(f!.lastSeen).toISOString()];
    };

    await evaluateFindings(db, rs, { now: T0, waivers: [] });
    await evaluateFindings(db, rs, { now: hours(5), waivers: [] });
    const sameDay = await seen();
    await evaluateFindings(db, rs, { now: hours(24), waivers: [] });
    const nextDay = await seen();

    expect({ sameDay, nextDay }).toEqual({
      sameDay: [T0.toISOString(), T0.toISOString()],
      nextDay: [T0.toISOString(), hours(24).toISOString()],
    });
  });

  it('reads the tracker raw JSON only for rules that ask for it', async () => {
    const db = await fresh();
    const dir = rulesDir({
      'raw.yaml': `- id: raw-component
  title: Jira component set
  severity: info
  applies: has(item.raw)
  check: item.raw.fields.components.size() > 0
  message: Set a component on {{item.key}}.
`,
    });
    await store(db, [
      { ...item({ ref: 'jira-main:A-1' }), raw: { fields: { components: [] } } },
      { ...item({ ref: 'jira-main:A-2' }), raw: { fields: { components: [{ name: 'Payments' }] } } },
    ]);
    const rs = loadRuleSet({ config: { packs: [], files: ['raw.yaml'] }, cwd: dir });

    const summary = await evaluateFindings(db, rs, { now: T0, waivers: [] });

    expect({ problems: rs.problems, byRule: summary.byRule, refs: summary.changedRefs }).toEqual({
      problems: [],
      byRule: { 'raw-component': 1 },
      refs: ['jira-main:A-1'],
    });
  });

  it('waives by config until the waiver expires, then re-opens keeping first-seen', async () => {
    const db = await fresh();
    const rs = ruleSet();
    await store(db, [item({ ref: 'jira-main:EP-7', kind: 'epic' })]);
    const waivers = [
      { rule: 'epic-target-date', ref: 'jira-main:EP-7', until: '2026-06-30', reason: 'board decision' },
    ];

    const waived = await evaluateFindings(db, rs, { now: T0, waivers });
    const waivedRows = await rows(db);
    const lastDay = await evaluateFindings(db, rs, { now: new Date('2026-06-30T23:00:00Z'), waivers });
    const expired = await evaluateFindings(db, rs, { now: new Date('2026-07-01T08:00:00Z'), waivers });

    expect([waived.waived, waived.open, waived.opened, lastDay.waived, expired.open, expired.opened]).toEqual([
      1, 0, 0, 1, 1, 1,
    ]);
    expect(waivedRows).toEqual([
      {
        ref: 'jira-main:EP-7',
        rule: 'epic-target-date',
        status: 'waived',
        firstSeen: T0.toISOString(),
        resolvedAt: null,
        waivedUntil: '2026-06-30',
      },
    ]);
    expect(await rows(db)).toEqual([{ ...waivedRows[0], status: 'open', waivedUntil: null }]);
  });

  it('waives by project and by a pmo-waive label on the item', async () => {
    const db = await fresh();
    const rs = ruleSet();
    await store(db, [
      item({ ref: 'jira-main:EP-1', kind: 'epic', labels: ['PMO-Waive:epic-target-date'] }),
      item({ ref: 'jira-main:EP-2', kind: 'epic', project: 'WEB' }),
      item({ ref: 'jira-main:EP-3', kind: 'epic' }),
    ]);
    const waivers = [{ rule: 'epic-target-date', project: 'WEB', until: '2027-01-01', reason: 'pilot' }];

    const summary = await evaluateFindings(db, rs, { now: T0, waivers });

    expect({
      open: summary.open,
      waived: summary.waived,
      statuses: (await rows(db)).map((r) => [r.ref, r.status]),
    }).toEqual({
      open: 1,
      waived: 2,
      statuses: [
        ['jira-main:EP-1', 'waived'],
        ['jira-main:EP-2', 'waived'],
        ['jira-main:EP-3', 'open'],
      ],
    });
  });

  it('resolves the findings of deleted items; a deleted blocker reads as one never synced', async () => {
    const db = await fresh();
    const rs = ruleSet();
    const blocker = item({ ref: 'ado-main:42', tracker: 'azure-devops', kind: 'epic' });
    const story = item({
      ref: 'jira-main:S-1',
      links: [{ type: 'cross_tracker', relation: 'blocked_by', target: 'ado-main:42' }],
    });
    await store(db, [blocker, story]);
    await evaluateFindings(db, rs, { now: T0, waivers: [] });

    await store(db, [{ ...blocker, deletedAt: hours(1).toISOString() }]);
    const summary = await evaluateFindings(db, rs, { refs: ['ado-main:42'], now: hours(1), waivers: [] });

    const after = (await rows(db)).map((r) => [r.ref, r.rule, r.status]);
    // The same story beside a blocker that was never stored: the same findings.
    await fresh();
    await store(db, [story]);
    await evaluateFindings(db, rs, { now: hours(1), waivers: [] });

    expect({ summary, rows: after, neverStored: await rows(db) }).toEqual({
      summary: {
        evaluated: 1,
        checks: 3,
        open: 0,
        opened: 0,
        resolved: 1,
        waived: 0,
        byRule: {},
        changedRefs: ['ado-main:42'],
        ruleErrors: [],
      },
      rows: [['ado-main:42', 'epic-target-date', 'resolved']],
      neverStored: [],
    });
  });

  it('evaluates a changed item with its ancestors, not the whole portfolio', async () => {
    const db = await fresh();
    const rs = ruleSet();
    await store(db, [
      item({ ref: 'jira-main:EP-1', kind: 'epic', statusCategory: 'done', due: '2026-07-01' }),
      item({ ref: 'jira-main:F-1', kind: 'feature', parent: 'jira-main:EP-1', statusCategory: 'done' }),
      item({ ref: 'jira-main:S-1', parent: 'jira-main:F-1', statusCategory: 'in_progress' }),
      item({ ref: 'jira-main:EP-2', kind: 'epic' }),
      item({ ref: 'jira-main:EP-3', kind: 'epic' }),
    ]);
    await evaluateFindings(db, rs, { now: T0, waivers: [] });

    await store(db, [item({ ref: 'jira-main:S-1', parent: 'jira-main:F-1', statusCategory: 'done' })]);
    const summary = await evaluateFindings(db, rs, { refs: ['jira-main:S-1'], now: hours(1), waivers: [] });

    expect(summary).toEqual({
      evaluated: 3,
      checks: 9,
      open: 2,
      opened: 0,
      resolved: 1,
      waived: 0,
      byRule: { 'epic-target-date': 2 },
      changedRefs: ['jira-main:EP-1'],
      ruleErrors: [],
    });
  });

  it('re-evaluates the work of the owners an item left and joined for their workload alone', async () => {
    const db = await fresh();
    const dir = rulesDir({
      'wip.yaml': `- id: wip-per-owner
  title: Owners do not juggle too much work in progress
  severity: info
  function: wip-per-owner
  message: "{{item.owner.name}} has more than {{params.limit}} items in progress."
  params: { limit: 2 }
`,
    });
    const rs = loadRuleSet({ config: { packs: [], files: ['org.yaml', 'wip.yaml'] }, cwd: dir });
    const story = (n: number, owner: string) => item({ ref: `jira-main:S-${n}`, statusCategory: 'in_progress', owner });
    await store(db, [story(1, 'alice'), story(2, 'alice'), story(3, 'alice'), story(4, 'bob')]);
    await evaluateFindings(db, rs, { now: T0, waivers: [] });
    const before = (await rows(db)).map((r) => [r.ref, r.rule, r.status]);

    // S-1 goes to Bob: Alice (the owner it left) is at the limit again, Bob at it.
    await store(db, [story(1, 'bob')]);
    const summary = await evaluateFindings(db, rs, {
      refs: ['jira-main:S-1'],
      owners: ['alice'],
      now: hours(1),
      waivers: [],
    });
    const after = (await rows(db)).map((r) => [r.ref, r.rule, r.status]);
    // A full evaluation of the same state finds nothing more to change.
    const full = await evaluateFindings(db, rs, { now: hours(1), waivers: [] });

    const wip = (ref: string, status: string) => [`jira-main:${ref}`, 'wip-per-owner', status];
    expect({
      before,
      after,
      // S-1 with its four rules; S-2, S-3 (Alice's) and S-4 (Bob's) with the workload rule alone.
      summary: [summary.evaluated, summary.checks, summary.resolved, summary.changedRefs],
      full: [full.opened, full.resolved, full.changedRefs],
    }).toEqual({
      before: [wip('S-1', 'open'), wip('S-2', 'open'), wip('S-3', 'open')],
      after: [wip('S-1', 'resolved'), wip('S-2', 'resolved'), wip('S-3', 'resolved')],
      summary: [4, 4 + 3, 3, ['jira-main:S-1', 'jira-main:S-2', 'jira-main:S-3']],
      full: [0, 0, []],
    });
  });

  it('honours scoping by project and kind from overrides', async () => {
    const db = await fresh();
    const rs = ruleSet(rulesDir(), { 'epic-target-date': { scope: { projects: ['jira-main:PAY'] } } });
    await store(db, [
      item({ ref: 'jira-main:P-1', kind: 'epic', project: 'PAY' }),
      item({ ref: 'jira-main:W-1', kind: 'epic', project: 'WEB' }),
    ]);

    const summary = await evaluateFindings(db, rs, { now: T0, waivers: [] });

    expect({ byRule: summary.byRule, rows: (await rows(db)).map((r) => r.ref) }).toEqual({
      byRule: { 'epic-target-date': 1 },
      rows: ['jira-main:P-1'],
    });
  });

  it('keeps evaluating the good rules when a rule file is broken, and leaves the broken rule findings alone', async () => {
    const db = await fresh();
    const dir = rulesDir({
      'bad.yaml': `- id: broken-rule
  title: Broken
  severity: warning
  check: item.nope == 1
  message: x.
`,
    });
    await store(db, [item({ ref: 'jira-main:EP-1', kind: 'epic' })]);
    await db.insert(findings).values({
      ref: 'jira-main:EP-1',
      rule: 'broken-rule',
      severity: 'warning',
      status: 'open',
      message: 'from yesterday',
      firstSeen: T0.toISOString(),
      lastSeen: T0.toISOString(),
      ruleHash: 'old',
      itemHash: 'old',
    });
    const rs = loadRuleSet({ config: { packs: ['pmo-standard'], files: ['bad.yaml'] }, cwd: dir });

    const summary = await evaluateFindings(db, rs, { now: T0, waivers: [] });

    expect({
      problems: rs.problems.map((p) => [p.ruleId, p.line]),
      epicDate: summary.byRule['epic-target-date'],
      broken: summary.byRule['broken-rule'],
    }).toEqual({ problems: [['broken-rule', 4]], epicDate: 1, broken: 1 });
  });

  it('previews a changed rule file without writing anything', async () => {
    const db = await fresh();
    const dir = rulesDir();
    await store(db, [
      item({ ref: 'jira-main:EP-1', kind: 'epic' }),
      item({ ref: 'jira-main:EP-2', kind: 'epic', due: '2026-09-01' }),
      item({ ref: 'jira-main:EP-3', kind: 'epic', statusCategory: 'done' }),
      item({ ref: 'jira-main:S-3', parent: 'jira-main:EP-3' }),
    ]);
    const config = { packs: [], files: ['org.yaml'] };
    await evaluateFindings(db, loadRuleSet({ config, cwd: dir }), { now: T0, waivers: [] });
    const before = await rows(db);
    writeFileSync(
      join(dir, 'org.yaml'),
      `- id: epic-target-date
  title: Epics have a target date before June
  severity: error
  applies: item.kind == "epic"
  check: has(item.due) && item.due < timestamp("2026-08-01T00:00:00Z")
  message: Bring {{item.key}} forward.
`,
    );

    const preview = await previewRuleFile(db, {
      file: join(dir, 'org.yaml'),
      config,
      cwd: dir,
      now: hours(1),
      waivers: [],
    });

    expect({
      open: preview.wouldOpen.map((c) => [c.ref, c.rule, c.message]),
      resolve: preview.wouldResolve.map((c) => [c.ref, c.rule]),
      changed: preview.wouldChangeMessage.map((c) => [c.ref, c.message]),
      removed: preview.removed,
      rowsUnchanged: (await rows(db)).length === before.length,
    }).toEqual({
      open: [
        ['jira-main:EP-2', 'epic-target-date', 'Bring EP-2 forward.'],
        ['jira-main:EP-3', 'epic-target-date', 'Bring EP-3 forward.'],
      ],
      resolve: [['jira-main:EP-3', 'epic-done-open-children']],
      changed: [['jira-main:EP-1', 'Bring EP-1 forward.']],
      removed: ['epic-done-open-children'],
      rowsUnchanged: true,
    });
    expect(await rows(db)).toEqual(before);
  });
});
