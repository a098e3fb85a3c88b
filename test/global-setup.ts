// Once per vitest run, before any test file: the migrated templates test databases are copied
// from (test/helpers/templates.ts), for the targets the run covers (helpers/targets.ts), handed to
// the test files through vitest's provide/inject.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { parseTargets } from './helpers/targets.ts';
import { ensurePostgresTemplate, pgliteTemplate } from './helpers/templates.ts';

/** Kept between runs, beside the Node 24 download (.gitignored). */
const CACHE = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'test-templates');

export default async function setup(project: TestProject): Promise<void> {
  const targets = parseTargets(process.env);
  project.provide('pgliteTemplate', targets.includes('pglite') ? await pgliteTemplate(CACHE) : undefined);
  const server = process.env.TEST_DATABASE_URL!;
  project.provide(
    'postgresTemplate',
    targets.includes('postgres') ? { server, name: await ensurePostgresTemplate(server) } : undefined,
  );
}
