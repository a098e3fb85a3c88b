// The browser suite runs apart from `npm test` (it needs Chromium); `npm run test:browser` and
// .ci/run use this config.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['test/browser/**/*.test.ts'],
    // The migrated templates test databases are copied from (test/helpers/templates.ts).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
