// Oversized request bodies against `serve` (issue 23): 20 concurrent 50 MB bodies at the
// unauthenticated routes (webhooks, sign-in), chunked without a Content-Length (the case a
// length check alone cannot stop) and with one, to known and unknown connections, from clients
// that stop at the answer and clients that go on sending. The server
// runs in a fresh process (bodies-worker.ts) that samples its own RSS, so the figure is the
// server's growth while it refuses them; the goal is under 50 MB.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE_ENV, NODE_FLAGS } from '../../scripts/node24.mjs';
import { rawRequest } from '../../test/helpers/raw-http.ts';

const WORKER = fileURLToPath(new URL('../bodies-worker.ts', import.meta.url));

export interface BodyLimitFigures {
  requests: number;
  bytesPerRequest: number;
  /** Body bytes the clients got onto the wire before each was refused, all together. */
  bytesSent: number;
  statuses: Record<string, number>;
  /** Server RSS before the bodies, at its peak while refusing them, and the difference (MiB). */
  baselineRssMiB: number;
  peakRssMiB: number;
  growthMiB: number;
  wallMs: number;
  /** /healthz answered during the flood (ms), or null when it did not. */
  healthzMs: number | null;
}

export type BodiesWorkerReply =
  | { kind: 'ready'; port: number; rssMiB: number }
  | { kind: 'peak'; baselineRssMiB: number; peakRssMiB: number }
  | { kind: 'error'; error: string };

const MiB = 2 ** 20;

/**
 * The mix, round robin. Most clients send their whole body before they read the answer, and
 * those keep the server reading (and dropping) until it closes; the others stop at the answer.
 */
const KINDS = [
  { path: '/webhooks/jira/jira-main', chunked: true, keepSending: true },
  { path: '/webhooks/azure-devops/ado-main', chunked: true, keepSending: false },
  { path: '/login', chunked: true, keepSending: true },
  { path: '/webhooks/jira/no-such-connection', chunked: false, keepSending: true },
  { path: '/webhooks/azure-devops/ado-main', chunked: false, keepSending: false },
] as const;

export async function runBodiesScenario(o: { requests: number; bytesPerRequest: number }): Promise<BodyLimitFigures> {
  const child = fork(WORKER, [], {
    execArgv: [...NODE_FLAGS, '--import', 'tsx'],
    env: { ...NODE_ENV, ...process.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', kill);
  const replies: BodiesWorkerReply[] = [];
  let wake: (() => void) | null = null;
  child.on('message', (m: BodiesWorkerReply) => {
    replies.push(m);
    wake?.();
  });
  const next = async (): Promise<BodiesWorkerReply> => {
    while (replies.length === 0) {
      await new Promise<void>((resolve, reject) => {
        wake = resolve;
        child.once('exit', (code) => reject(new Error(`bodies worker exited (code ${code})`)));
      });
    }
    const m = replies.shift()!;
    if (m.kind === 'error') throw new Error(`bodies worker failed: ${m.error}`);
    return m;
  };
  try {
    const ready = await next();
    if (ready.kind !== 'ready') throw new Error('bodies worker: expected ready');
    const t0 = performance.now();
    const flood = Promise.all(
      Array.from({ length: o.requests }, (_, i) => {
        const kind = KINDS[i % KINDS.length]!;
        return rawRequest({ port: ready.port, total: o.bytesPerRequest, ...kind });
      }),
    );
    // Liveness while the bodies arrive.
    const h0 = performance.now();
    const healthzMs = await fetch(`http://127.0.0.1:${ready.port}/healthz`, { signal: AbortSignal.timeout(10_000) })
      .then((r) => (r.ok ? Math.round(performance.now() - h0) : null))
      .catch(() => null);
    const results = await flood;
    const wallMs = Math.round(performance.now() - t0);
    child.send('peak');
    const peak = await next();
    if (peak.kind !== 'peak') throw new Error('bodies worker: expected peak');
    const statuses: Record<string, number> = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    return {
      requests: o.requests,
      bytesPerRequest: o.bytesPerRequest,
      bytesSent: results.reduce((n, r) => n + r.sent, 0),
      statuses,
      baselineRssMiB: peak.baselineRssMiB,
      peakRssMiB: peak.peakRssMiB,
      growthMiB: Math.round((peak.peakRssMiB - peak.baselineRssMiB) * 10) / 10,
      wallMs,
      healthzMs,
    };
  } finally {
    process.off('exit', kill);
    kill();
  }
}

export const BODIES = { requests: 20, bytesPerRequest: 50 * 1000 * 1000 };
export const BODY_GROWTH_GOAL_MIB = Math.floor(50e6 / MiB);
