// Times the workspace's API calls and pages in-process (the real app, no socket) against an
// existing database, one kept by BENCH_KEEP_DATABASE=1: for finding where a route's time goes
// between full bench runs.
//   node scripts/node24.mjs node_modules/tsx/dist/cli.mjs bench/workspace-probe.ts <postgres url> [n] [route prefix]
import { openDatabase } from '../db/client.ts';
import { describeRules, loadRuleSet } from '../rules/load.ts';
import { silentLogger } from '../src/core/log.ts';
import { createApp } from '../src/http/app.ts';
import { worldConfig } from './lib/world.ts';
import { timeRoutes, WORKSPACE_ROUTES } from './scenarios/api.ts';

const [url, nArg, only] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: workspace-probe.ts <postgres url> [requests per route] [route name prefix]\n');
  process.exit(2);
}
const database = await openDatabase(url, { maxConnections: 8 });
const config = worldConfig('http://127.0.0.1:1', 'http://127.0.0.1:2', {});
const rules = describeRules(loadRuleSet({ config: config.rules, cwd: process.cwd() }));
const app = createApp({ database, config, log: silentLogger(), rules: async () => rules });
const routes = WORKSPACE_ROUTES.filter((r) => !only || r.name.startsWith(only));
const figures = await timeRoutes(async (path, init) => app.request(path, init), database, routes, Number(nArg ?? 10));
for (const f of figures) {
  process.stdout.write(
    `${f.route}: p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms (n=${f.samples}), ${f.bytes} bytes, ${f.status}\n`,
  );
}
await database.close();
