// Times each workspace loader against an existing database (one kept by BENCH_KEEP_DATABASE=1):
// `npx tsx bench/workspace-probe.ts <postgres url>`. For finding where a route's time goes.
import { openDatabase } from '../db/client.ts';
import { loadExplorer } from '../src/dashboard/workspace/findings.ts';
import { loadDependencyMap, loadTimeline } from '../src/dashboard/workspace/graph.ts';
import { loadEpic, loadProgram } from '../src/dashboard/workspace/load.ts';
import { worldConfig } from './lib/world.ts';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: workspace-probe.ts <postgres url>\n');
  process.exit(2);
}
const database = await openDatabase(url, { maxConnections: 8 });
const config = worldConfig('http://127.0.0.1:1', 'http://127.0.0.1:2', {});
const epic = process.argv[3] ?? '';
const probes: [string, () => Promise<unknown>][] = [
  ['program', () => loadProgram(database.db, config, 'payments', {})],
  ['explorer by owner', () => loadExplorer(database.db, config, {}, { groupBy: 'owner', rules: new Map() })],
  ['timeline', () => loadTimeline(database.db, config, { program: 'payments' }, new Date())],
  ['dependency map', () => loadDependencyMap(database.db, config, { program: 'payments' })],
  ['epic', () => loadEpic(database.db, epic)],
];
const only = process.argv[4];
for (const [name, f] of probes) {
  if (only && !name.startsWith(only)) continue;
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    const v = await f();
    times.push(performance.now() - t0);
    bytes = JSON.stringify(v ?? null).length;
  }
  process.stdout.write(`${name}: ${times.map((t) => t.toFixed(0)).join(' ')} ms, ${bytes} bytes\n`);
}
await database.close();
