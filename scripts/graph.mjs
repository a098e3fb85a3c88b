#!/usr/bin/env node
// Draws the import graph folder by folder (`npm run graph`): dependency-cruiser's Mermaid output,
// collapsed to src/<folder>, connectors/<tracker>, rules and db, written to
// docs/import-graph.md (not committed; GitHub renders it). Pass --modules for every file instead.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = execFileSync(process.execPath, [join(root, 'scripts/node24.mjs'), '--which'], { encoding: 'utf8' }).trim();
const byModule = process.argv.includes('--modules');
const args = [
  join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
  '--config',
  '.dependency-cruiser.cjs',
  '--output-type',
  'mermaid',
  '--include-only',
  '^(src|connectors|rules|db)/',
  '--exclude',
  // What .dependency-cruiser.cjs leaves out (.tsx: see there), and tests and simulators.
  '(\\.tsx$|\\.test\\.ts$|/testing\\.ts$|/test-support\\.ts$|/simulator/)',
  ...(byModule ? [] : ['--collapse', '^(src/[^/]+|connectors/(jira|azure-devops|http)|connectors|rules|db)/']),
  'src',
  'connectors',
  'rules',
  'db',
];
let mermaid;
try {
  mermaid = execFileSync(node, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: 'pipe' });
} catch (err) {
  // A violation makes dependency-cruiser exit non-zero; the graph it printed is still the graph.
  mermaid = err.stdout ?? '';
  if (!mermaid) {
    process.stderr.write(
      `npm run graph: dependency-cruiser failed: ${
        String(err.stderr ?? err.message)
          .trim()
          .split('\n')[0]
      }\n`,
    );
    process.exit(1);
  }
}
const out = join(root, 'docs/import-graph.md');
writeFileSync(
  out,
  `# Import graph\n\nMade by \`npm run graph\` (dependency-cruiser, ${byModule ? 'every module' : 'folder by folder'}); \`npm run arch\` checks the rules it must keep (\`.dependency-cruiser.cjs\`, docs/architecture.md).\n\n\`\`\`mermaid\n${mermaid.trim()}\n\`\`\`\n`,
);
process.stdout.write(`import graph written to docs/import-graph.md\n`);
