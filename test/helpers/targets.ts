// Which database targets a test run covers. `pglite` is embedded PGlite and everything that needs
// no database server; `postgres` is the real Postgres named by TEST_DATABASE_URL.
//
// PMO_TEST_TARGETS lists them (comma-separated); unset, a run covers PGlite always and Postgres
// when TEST_DATABASE_URL is set. .ci/run's second `npm test` sets PMO_TEST_TARGETS=postgres: it
// runs only what the first run, on PGlite, did not prove. Plain Node (no vitest runtime): the
// vitest config reads it too.

export type TargetName = 'pglite' | 'postgres';

const NAMES: readonly TargetName[] = ['pglite', 'postgres'];

/** The targets `env` asks for; an Error with one line naming the problem when it cannot be run. */
export function parseTargets(env: NodeJS.ProcessEnv): TargetName[] {
  const raw = env.PMO_TEST_TARGETS?.trim();
  if (!raw) return env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
  const asked = raw.split(',').map((s) => s.trim());
  const unknown = asked.filter((s) => !(NAMES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new Error(`PMO_TEST_TARGETS: unknown target ${JSON.stringify(unknown[0])} (use pglite, postgres or both)`);
  }
  if (asked.includes('postgres') && !env.TEST_DATABASE_URL) {
    throw new Error('PMO_TEST_TARGETS names postgres, but TEST_DATABASE_URL is not set');
  }
  return NAMES.filter((n) => asked.includes(n));
}

/** Whether this run covers `target` (PGlite and no-database tests belong to `pglite`). */
export function covers(target: TargetName): boolean {
  return parseTargets(process.env).includes(target);
}

/** TEST_DATABASE_URL when this run covers Postgres, else undefined. */
export function postgresUrl(): string | undefined {
  return covers('postgres') ? process.env.TEST_DATABASE_URL : undefined;
}
