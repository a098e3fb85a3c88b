// A pass evaluates inside one transaction, reading items as it goes. An item another writer
// stores meanwhile (a webhook's processor) queues its new content for evaluation in its own
// transaction; the pass may have read the item before that, so the queue row must outlive the
// pass for the next one to evaluate it, whether or not the ref was queued when the pass began.
// Postgres only: PGlite has one connection, so no other writer can store during the pass.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/client.ts';
import { findings } from '../../db/schema.ts';
import type { WorkItem } from '../../src/core/work-item.ts';
import { createSyncPipeline } from '../../src/sync/pipeline.ts';
import { commitChanges } from '../../src/sync/run.ts';
import { queuedChanges, storeItems } from '../../src/sync/store.ts';
import { oneJiraConnection } from '../helpers/config.ts';
import { dbTargets } from '../helpers/db.ts';
import { item } from '../helpers/items.ts';
import { standardRuleSet } from '../helpers/rules.ts';

const now = new Date('2026-06-15T00:00:00.000Z');
const queuedRefs = async (db: Database['db']) => (await queuedChanges(db)).refs.sort();
const epic = item('jira-main:PAY-1', { kind: 'epic', statusCategory: 'in_progress' });
const alice = { id: 'a1', name: 'Alice' };
const story = item('jira-main:PAY-2', { parent: epic.ref, statusCategory: 'in_progress', owner: alice });
// The same story, left without an owner by a person while the full pass runs.
const edited = { ...story, owner: null, revision: '2' };

// Registered always, skipped without TEST_DATABASE_URL: a file without a suite fails vitest.
const postgres = dbTargets().find((t) => t.name === 'postgres');
describe.skipIf(!postgres)('a pass and a writer storing beside it, on postgres', () => {
  let database: Database;
  const pipeline = createSyncPipeline({ config: oneJiraConnection(), ruleSet: standardRuleSet() });
  // Another writer storing `edit` on a connection of the pool, committed on its own, once the
  // pass has read and evaluated every item (as its roll-up step begins).
  const storingAfterEvaluation = (db: Database['db'], edit: WorkItem) => ({
    onPhase: async (phase: string) => {
      if (phase === 'roll up') await storeItems(db, [edit], now);
    },
  });
  const ownerFinding = async (db: Database['db'], ref: string) =>
    (
      await db
        .select({ status: findings.status })
        .from(findings)
        .where(and(eq(findings.ref, ref), eq(findings.rule, 'owner-required')))
    ).map((f) => f.status);
  beforeAll(async () => {
    database = await postgres!.open();
  });
  afterAll(async () => {
    await database.close();
  });

  it('settles only what was queued when it began: an item stored during it is evaluated by the next pass', async () => {
    const { db } = database;
    await storeItems(db, [epic, story], now);
    await commitChanges(db, pipeline, { refs: [epic.ref, story.ref], now, dryRun: true, reader: db });
    expect(await queuedRefs(db)).toEqual([]);

    // A full pass, with the story edited after the pass has read it.
    await commitChanges(db, pipeline, {
      refs: undefined,
      now,
      dryRun: true,
      reader: db,
      ...storingAfterEvaluation(db, edited),
    });
    expect(await ownerFinding(db, story.ref)).toEqual([]);
    expect(await queuedRefs(db)).toEqual([story.ref]);

    // The next pass, with nothing else changed, evaluates the edit and settles its row.
    await commitChanges(db, pipeline, { refs: [], now, dryRun: true, reader: db });
    expect(await ownerFinding(db, story.ref)).toEqual(['open']);
    expect(await queuedRefs(db)).toEqual([]);
  });

  it('leaves queued a change stored again while the pass ran, though its ref was queued when it began', async () => {
    const { db } = database;
    const late = item('jira-main:PAY-3', { parent: epic.ref, statusCategory: 'in_progress', owner: alice });
    await storeItems(db, [late], now);
    // Queued and not yet evaluated when the pass begins; stored again once the pass has read it.
    expect(await queuedRefs(db)).toEqual([late.ref]);
    const beside = storingAfterEvaluation(db, { ...late, owner: null, revision: '2' });
    await commitChanges(db, pipeline, { refs: [late.ref], now, dryRun: true, reader: db, ...beside });
    expect(await queuedRefs(db)).toEqual([late.ref]);
    await commitChanges(db, pipeline, { refs: [], now, dryRun: true, reader: db });
    expect(await queuedRefs(db)).toEqual([]);
    expect(await ownerFinding(db, late.ref)).toEqual(['open']);
  });
});
