// A sync that Jira's points quota paused says so: the summary names the pause and its reset
// time, and /metrics carries the count and the instant, read from the recorded runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../db/client.ts';
import { syncRuns } from '../../db/schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { type ConnectionSummary, emptyFindings, formatSummary, type SyncSummary } from '../../src/sync/summary.ts';

const paused: ConnectionSummary = {
  id: 'jira-main',
  tracker: 'jira',
  status: 'ok',
  itemsPulled: 120,
  itemsChanged: 120,
  itemsDeleted: 0,
  itemsRepaired: 0,
  itemsQuarantined: 0,
  requests: 9,
  throttled: 1,
  retries: 1,
  quotaPauses: 1,
  quotaPausedUntil: '2026-03-02T11:00:00.000Z',
};

describe('a quota pause in the summary and /metrics', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase('memory://');
    await database.migrate();
  });
  afterAll(async () => {
    await database.close();
  });

  it('the summary names the pause and until when', () => {
    const s: SyncSummary = {
      runId: 1,
      mode: 'dry-run',
      full: true,
      startedAt: '2026-03-02T10:00:00.000Z',
      durationMs: 3_600_000,
      connections: [paused],
      findings: emptyFindings(),
      writes: { planned: 0, sent: 0, skippedUnchanged: 0, failed: 0 },
      warnings: [],
    };
    expect(formatSummary(s).split('\n').slice(1, 3)).toEqual([
      '  jira-main (jira): 120 pulled, 120 changed, 0 deleted; 9 requests, 1 throttled, 1 retry',
      "    paused by the tracker's points quota once, until 2026-03-02T11:00:00.000Z",
    ]);
  });

  it('/metrics counts quota pauses and gives the latest reset instant per connection', async () => {
    // Arrange: an older run paused, the latest did not.
    const run = (finished: string, c: ConnectionSummary) =>
      database.db.insert(syncRuns).values({
        kind: 'sync',
        mode: 'dry-run',
        startedAt: '2026-03-02T10:00:00.000Z',
        finishedAt: finished,
        status: 'ok',
        summary: { connections: [c] },
      });
    await run('2026-03-02T11:00:05.000Z', paused);
    await run('2026-03-02T11:10:00.000Z', { ...paused, quotaPauses: 2, quotaPausedUntil: '2026-03-02T12:00:00.000Z' });
    const metrics = createMetrics({ db: database.db, log: silentLogger(), now: () => new Date() });

    // Act
    const text = await metrics.registry.metrics();

    // Assert
    expect(text.split('\n').filter((l) => /^pmo_sync_tracker_quota_pause/.test(l))).toEqual([
      'pmo_sync_tracker_quota_paused_until_seconds{connection="jira-main"} 1772452800',
      'pmo_sync_tracker_quota_pauses_total{connection="jira-main"} 3',
    ]);
  });
});
