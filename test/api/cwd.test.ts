// `pmo-sync` runs TypeScript through tsx, which reads tsconfig.json from the working directory.
// Started from any other directory, the dashboard's JSX must still render with Hono, not React.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'pmo-cwd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('renders the dashboard and docs when started outside the repository', async () => {
  const url = (p: string) => pathToFileURL(join(root, p)).href;
  writeFileSync(
    join(dir, 'probe.mts'),
    `import { openDatabase } from '${url('db/client.ts')}';
import { createApp } from '${url('src/http/app.ts')}';
import { silentLogger } from '${url('src/core/log.ts')}';
const database = await openDatabase('memory://');
await database.migrate();
const app = createApp({ database, config: null, log: silentLogger() });
const out = [];
for (const p of ['/', '/docs']) out.push([p, (await app.request(p)).status]);
await database.close();
console.log(JSON.stringify(out));
`,
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', url('node_modules/tsx/dist/esm/index.mjs'), 'probe.mts'],
    { cwd: dir },
  );
  expect(JSON.parse(stdout)).toEqual([
    ['/', 200],
    ['/docs', 200],
  ]);
});
