import { globSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { parseTargets } from './test/helpers/targets.ts';

const include = [
  'test/**/*.test.ts',
  'src/**/*.test.ts',
  'connectors/**/*.test.ts',
  'rules/**/*.test.ts',
  'db/**/*.test.ts',
];
const exclude = ['**/node_modules/**', '**/*.slow.test.ts', 'test/browser/**', 'test/worker/**'];

/**
 * The test files that can reach Postgres: those importing test/helpers/db.ts, the one way a test
 * does (test/helpers/targets.test.ts holds every file to it). A run without the PGlite target has
 * nothing to do in the others.
 */
function filesReachingPostgres(): string[] {
  return globSync(include, { exclude }).filter((f) => readFileSync(f, 'utf8').includes("/helpers/db.ts'"));
}

// `npm test`: everything but the slow suites (process kills, replicas, large pulls), which
// `npm run test:slow` runs; CI runs both. The database targets: test/helpers/targets.ts.
export default defineConfig({
  test: {
    include: parseTargets(process.env).includes('pglite') ? include : filesReachingPostgres(),
    exclude,
    // The migrated templates test databases are copied from (test/helpers/templates.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One test file per core, and at least two: vitest's default leaves a core free (one worker on
    // two cores), while test files spend much of their time waiting on the processes they start,
    // on Postgres and on sockets.
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
