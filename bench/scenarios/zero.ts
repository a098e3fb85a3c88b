// The issue's throughput and memory goal: an initial sync at zero latency with no rate limits,
// 100,000 Jira issues + 50,000 work items, ≥ 5,000 items/s on Postgres (≥ 2,500 on PGlite),
// peak RSS under 500 MB. Each database runs in a fresh pipeline process (zero-worker.ts), which
// starts the simulators in a child of its own: the earlier scenarios' heap and PGlite's WASM
// memory (which never shrinks) would otherwise count in this peak, and so would the simulators.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_ENV, NODE_FLAGS } from '../../scripts/node24.mjs';
import type { DbKind } from '../lib/db.ts';
import type { Limits } from '../lib/world.ts';
import type { SyncFigures } from './sync.ts';

const WORKER = fileURLToPath(new URL('../zero-worker.ts', import.meta.url));

/** No politeness limits worth the name: the trackers answer at once and never refuse. */
export const UNLIMITED: Limits = { concurrency: 16, requestsPerSecond: 1000 };

export interface ZeroLatencyRequest {
  db: DbKind;
  jiraItems: number;
  adoItems: number;
}

export type ZeroLatencyReply = { ok: true; figures: SyncFigures } | { ok: false; error: string };

export async function runZeroLatencyScenario(o: ZeroLatencyRequest): Promise<SyncFigures> {
  const child = fork(WORKER, [], {
    // Started as `pmo-sync` starts (scripts/node24.mjs): its V8 and allocator settings are part
    // of its footprint.
    execArgv: [...NODE_FLAGS, '--import', 'tsx'],
    env: { ...NODE_ENV, ...process.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', kill);
  try {
    return await new Promise<SyncFigures>((resolve, reject) => {
      let reply: ZeroLatencyReply | null = null;
      child.on('message', (m: ZeroLatencyReply) => {
        reply = m;
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (reply?.ok) resolve(reply.figures);
        else reject(new Error(`zero-latency worker failed: ${reply?.error ?? `exited (${signal ?? `code ${code}`})`}`));
      });
      child.send(o);
    });
  } finally {
    process.off('exit', kill);
    kill();
  }
}
