// Child process of the zero-latency scenario (bench/scenarios/zero.ts): a fresh pipeline process
// for one database, so its peak RSS is the sync's alone. Opens the database, runs the initial
// sync against the simulators (in a child process of their own), sends the figures back and
// exits. Exits at once if the bench goes away, taking the simulators' process with it.
import { tuneHeap } from '../scripts/node24.mjs';
import { openBenchDatabase } from './lib/db.ts';
import { runSyncScenario } from './scenarios/sync.ts';
import { UNLIMITED, type ZeroLatencyReply, type ZeroLatencyRequest } from './scenarios/zero.ts';

tuneHeap();
process.on('disconnect', () => process.exit(1));

process.once('message', async (o: ZeroLatencyRequest) => {
  let reply: ZeroLatencyReply;
  try {
    const db = await openBenchDatabase(o.db);
    try {
      const r = await runSyncScenario(db, {
        jiraItems: o.jiraItems,
        adoItems: o.adoItems,
        latencyMs: 0,
        jiraBurst: null,
        adoRate: null,
        jiraLimits: UNLIMITED,
        adoLimits: UNLIMITED,
        incremental: false,
      });
      await r.world.close();
      reply = { ok: true, figures: r.initial };
    } finally {
      await db.close();
    }
  } catch (e) {
    reply = { ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  process.send!(reply, undefined, {}, () => process.exit(0));
});
