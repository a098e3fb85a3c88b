import { defineConfig } from 'vitest/config';

// `npm run test:worker`: the Worker under `wrangler dev` against the simulators and the local
// Postgres (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test). Kept out of
// `npm test`: it starts workerd and takes longer than a unit run should.
export default defineConfig({
  test: {
    include: ['test/worker/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
