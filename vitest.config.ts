import { defineConfig } from 'vitest/config';

// `npm test`: everything but the slow suites (process kills, replicas, large pulls), which
// `npm run test:slow` runs; CI runs both.
export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'src/**/*.test.ts',
      'connectors/**/*.test.ts',
      'rules/**/*.test.ts',
      'db/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/*.slow.test.ts', 'test/browser/**', 'test/worker/**'],
    // The migrated templates test databases are copied from (test/helpers/templates.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
