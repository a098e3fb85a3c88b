// Once per vitest run, before any test file: the migrated templates test databases are copied
// from (test/helpers/templates.ts), handed to the test files through vitest's provide/inject.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { ensurePostgresTemplate, pgliteTemplate } from './helpers/templates.ts';

/** Kept between runs, beside the Node 24 download (.gitignored). */
const CACHE = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'test-templates');

export default async function setup(project: TestProject): Promise<void> {
  project.provide('pgliteTemplate', await pgliteTemplate(CACHE));
  const server = process.env.TEST_DATABASE_URL;
  project.provide('postgresTemplate', server ? { server, name: await ensurePostgresTemplate(server) } : undefined);
}
