// The database targets a run covers, and the rule a Postgres-only run relies on: a test reaches
// the test Postgres only through test/helpers/db.ts, so running only the files that import it
// leaves out no Postgres test.
import { globSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTargets } from './targets.ts';

const URL = 'postgres://postgres@127.0.0.1:5432/test';

describe('PMO_TEST_TARGETS', () => {
  it('defaults to PGlite, and Postgres as well when TEST_DATABASE_URL is set', () => {
    expect([parseTargets({}), parseTargets({ TEST_DATABASE_URL: URL })]).toEqual([['pglite'], ['pglite', 'postgres']]);
  });

  it('narrows a run to the targets it names, in one order', () => {
    const env = (targets: string) => ({ TEST_DATABASE_URL: URL, PMO_TEST_TARGETS: targets });
    expect([
      parseTargets(env('postgres')),
      parseTargets(env('pglite')),
      parseTargets(env(' postgres, pglite ')),
    ]).toEqual([['postgres'], ['pglite'], ['pglite', 'postgres']]);
  });

  it('refuses an unknown target, and postgres without TEST_DATABASE_URL, in one line', () => {
    expect(() => parseTargets({ TEST_DATABASE_URL: URL, PMO_TEST_TARGETS: 'postgres,mysql' })).toThrow(
      'PMO_TEST_TARGETS: unknown target "mysql" (use pglite, postgres or both)',
    );
    expect(() => parseTargets({ PMO_TEST_TARGETS: 'postgres' })).toThrow(
      'PMO_TEST_TARGETS names postgres, but TEST_DATABASE_URL is not set',
    );
  });
});

describe('test files and the test Postgres', () => {
  it('read TEST_DATABASE_URL only through test/helpers (postgresUrl, dbTargets)', () => {
    // test/worker has its own config and always runs on Postgres.
    const files = globSync(['{test,src,connectors,rules,db}/**/*.test.ts'], { exclude: ['test/worker/**'] });
    const reading = files.filter((f) => /\benv\b(\.|\[['"])TEST_DATABASE_URL/.test(readFileSync(f, 'utf8')));
    expect(files.length).toBeGreaterThan(100);
    expect(reading).toEqual([]);
  });
});
