import { defineConfig } from 'vitest/config';

// `npm run test:worker`: the Worker under `wrangler dev` against the simulators and the local
// Postgres (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), plus the
// Worker's own modules run in Node. Kept out of `npm test`: it starts workerd.
export default defineConfig({
  plugins: [
    {
      // What wrangler's `[[rules]] type = "Text"` does for the bundle: a YAML import is its text.
      name: 'yaml-as-text',
      transform(code, id) {
        return id.endsWith('.yaml') ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined;
      },
    },
  ],
  test: {
    include: ['test/worker/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
