// The Worker's own modules, in Node: the bundled rule set equals what Node loads from disk, and
// scheduled-job locks are leases in Postgres (Hyperdrive pools cannot hold session locks).
import { describe, expect, it } from 'vitest';
import { loadRuleSet } from '../../rules/load.ts';
import { Config } from '../../src/config/schema.ts';
import { withLeaseLocks } from '../../src/worker/lease.ts';
import { createWorkerLogger } from '../../src/worker/log.ts';
import { loadWorkerRuleSet } from '../../src/worker/rules.ts';
import { openIsolatedPostgres } from '../helpers/db.ts';

const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('worker rule set', () => {
  it('compiles the same rules, with the same hashes, as the Node loader', () => {
    const rules = Config.shape.rules.parse({ overrides: { 'stale-in-progress': { params: { days: 10 } } } });
    const node = loadRuleSet({ config: rules, cwd: process.cwd() });
    const worker = loadWorkerRuleSet({ config: rules });
    const shape = (s: typeof node) => ({
      rules: s.rules.map((r) => [r.id, r.hash, r.source]),
      problems: s.problems,
      disabled: s.disabled,
    });
    expect(shape(worker)).toEqual(shape(node));
    expect(worker.rules.length).toBeGreaterThan(10);
  });

  it('takes the organisation rules from text and reports rules.files it cannot read', () => {
    const rules = Config.shape.rules.parse({ packs: [], files: ['./pmo-rules.yaml'] });
    const own = `- id: epic-has-owner\n  title: Epics have an owner\n  severity: warning\n  applies: item.kind == "epic"\n  check: has(item.owner)\n  message: Name an owner.\n`;
    const set = loadWorkerRuleSet({ config: rules, ownRules: own });
    expect(set.rules.map((r) => [r.id, r.source])).toEqual([['epic-has-owner', 'PMO_SYNC_RULES_YAML']]);
    expect(set.problems.map((p) => [p.file, p.ruleId])).toEqual([['./pmo-rules.yaml', '-']]);
  });
});

describe('worker logger', () => {
  it('redacts secrets by key and by value, one JSON line per entry', () => {
    const lines: string[] = [];
    const log = createWorkerLogger({ secrets: ['s3cret-token-value'], write: (l) => lines.push(l) }).child({
      connection: 'jira-main',
    });
    log.info({ headers: { authorization: 'Basic abc' } }, 'calling with s3cret-token-value');
    log.debug('hidden at info');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        connection: 'jira-main',
        headers: { authorization: '[redacted]' },
        msg: 'calling with [redacted]',
      },
    ]);
  });
});

describe('lease locks', () => {
  it('excludes a second holder, frees on release, and is taken over once expired', async () => {
    const database = await openIsolatedPostgres(BASE_URL);
    const a = withLeaseLocks(database, { leaseMs: 60_000, holder: 'a' });
    const b = withLeaseLocks(database, { leaseMs: 60_000, holder: 'b' });
    const releaseA = await a.tryLock('schedule:sync');
    expect(releaseA).not.toBeNull();
    expect(await b.tryLock('schedule:sync')).toBeNull();
    await releaseA!();
    const releaseB = await b.tryLock('schedule:sync');
    expect(releaseB).not.toBeNull();

    // b "dies" holding the lock; with a short lease, c takes it over.
    const c = withLeaseLocks(database, { leaseMs: 1, holder: 'c' });
    await new Promise((r) => setTimeout(r, 20));
    const releaseC = await c.tryLock('schedule:sync');
    expect(releaseC).not.toBeNull();
    // b's late release must not free c's lock.
    await releaseB!();
    expect(await a.tryLock('schedule:sync')).toBeNull();
    await releaseC!();
    await database.close();
  });
});
