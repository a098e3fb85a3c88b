import { defineConfig } from 'vitest/config';

// The slow suites: SIGKILL trials, several replicas, large pulls. Run by `npm run test:slow`.
export default defineConfig({
  test: {
    include: ['**/*.slow.test.ts'],
    exclude: ['**/node_modules/**'],
    // The migrated templates test databases are copied from (test/helpers/templates.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
