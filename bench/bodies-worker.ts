// Child process of the oversized-bodies scenario (bench/scenarios/bodies.ts): `serve` as
// `pmo-sync serve` starts it (embedded PGlite, a Jira and an Azure DevOps connection, the
// background runtime), sampling its own RSS every 5 ms. Reports its port and settled RSS, then,
// when asked, the peak since. Exits when the bench goes away.

import { openDatabase } from '../db/client.ts';
import { tuneHeap } from '../scripts/node24.mjs';
import { parseConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/core/log.ts';
import { startServer } from '../src/server/start.ts';
import { releaseFreedMemory } from '../src/util/memory.ts';
import type { BodiesWorkerReply } from './scenarios/bodies.ts';

tuneHeap();
process.on('disconnect', () => process.exit(1));
const send = (m: BodiesWorkerReply) => process.send!(m);
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

try {
  const { config } = parseConfig(
    `
server: { port: 0, host: 127.0.0.1 }
connections:
  - { id: jira-main, kind: jira, baseUrl: "http://127.0.0.1:9", auth: { email: a@b.test, apiToken: bench-token }, scope: { projects: [PAY] }, webhookSecret: bench-hook-secret }
  - { id: ado-main, kind: azure-devops, orgUrl: "http://127.0.0.1:9/acme", auth: { pat: bench-pat }, scope: { projects: [P] }, webhookAuth: { username: pmo-sync, password: bench-hook-password } }
`,
    { env: {} },
  );
  const database = await openDatabase('memory://');
  await database.migrate();
  const server = await startServer({ config, database, log: silentLogger(), cwd: process.cwd(), schedule: false });
  // Let startup's garbage go, then settle: the baseline is what the idle server holds.
  releaseFreedMemory();
  await new Promise((r) => setTimeout(r, 500));
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  process.on('message', async (m) => {
    if (m !== 'peak') return;
    peak = Math.max(peak, process.memoryUsage.rss());
    clearInterval(sampler);
    send({ kind: 'peak', baselineRssMiB: mib(baseline), peakRssMiB: mib(peak) });
    await server.stop();
    await database.close();
    process.exit(0);
  });
  send({ kind: 'ready', port: server.port, rssMiB: mib(baseline) });
} catch (e) {
  send({ kind: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
}
