import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'src/**/*.test.ts',
      'connectors/**/*.test.ts',
      'rules/**/*.test.ts',
      'db/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', 'test/browser/**', 'test/slow/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
