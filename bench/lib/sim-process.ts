// Both tracker simulators in a child process (sim-child.ts), as the trackers are remote in
// production: their CPU (building JSON, sorting search results) then no longer competes with the
// pipeline for one event loop, and the pipeline's peak RSS no longer includes their stores. The
// child answers a few questions over IPC (request counts, 429s, its own peak RSS) and makes the
// changes the scenarios script. Neither side outlives the other: the child exits when the IPC
// channel closes (the parent exited or was killed), the parent kills the child when it exits.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RequestRecord } from '../../connectors/jira/simulator/index.ts';
import type { SimulatorOptions } from './simulators.ts';

const CHILD = fileURLToPath(new URL('./sim-child.ts', import.meta.url));

export interface TrackerCounts {
  requests: number;
  byEndpoint: Record<string, number>;
  /** 429 answers the simulator sent (its own count, independent of the client's); ADO: not logged, 0. */
  sim429: number;
}

export interface SimCounts {
  jira: TrackerCounts;
  ado: TrackerCounts;
  /** The child's peak RSS since it started or since the last resetCounts(). */
  peakRssMiB: number;
}

/** What changeShare() changed: every `every`-th seeded item from `offset`, as a person would. */
export interface Changed {
  jiraKeys: string[];
  /** Of those, issues in a done status category (their changelog is fetched again). */
  jiraDone: number;
  adoIds: number[];
}

export type SimRequest =
  | { op: 'counts' }
  | { op: 'resetCounts' }
  | { op: 'jiraLog' }
  | { op: 'changeShare'; every: number; offset: number }
  | { op: 'close' };

export type ChildMessage =
  | { type: 'ready'; jiraUrl: string; adoUrl: string; jiraKeys: string[]; jiraDone: number; adoIds: number[] }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

export type ParentMessage = { type: 'start'; options: SimulatorOptions } | ({ type: 'call'; id: number } & SimRequest);

export interface SimProcess {
  pid: number;
  jiraUrl: string;
  adoUrl: string;
  jiraKeys: string[];
  /** Seeded Jira issues in a done status category (their changelog is fetched). */
  jiraDone: number;
  adoIds: number[];
  counts(): Promise<SimCounts>;
  /** Zeroes request counts, the Jira request log and the peak RSS. */
  resetCounts(): Promise<void>;
  jiraLog(): Promise<RequestRecord[]>;
  changeShare(every: number, offset: number): Promise<Changed>;
  /** Rejects when the child exits before close(): race it against work that talks to the trackers. */
  failure: Promise<never>;
  close(): Promise<void>;
}

export interface SimProcessOptions {
  /** Heap limit of the child in MiB (its stores hold every seeded item, twice for the ADO revisions). */
  maxOldSpaceMiB?: number;
}

export async function startSimulatorProcess(o: SimulatorOptions, p: SimProcessOptions = {}): Promise<SimProcess> {
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: ['--import', 'tsx', `--max-old-space-size=${p.maxOldSpaceMiB ?? 4096}`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const killChild = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // A normal exit of the bench (process.exit included); a killed parent is covered by the child.
  process.on('exit', killChild);

  let closing = false;
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let failed: (e: Error) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    failed = reject;
  });
  failure.catch(() => {});
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killChild);
      const e = new Error(`simulator process ${child.pid} exited (${signal ?? `code ${code}`})`);
      for (const w of pending.values()) w.reject(e);
      pending.clear();
      if (!closing) failed(e);
      resolve();
    });
  });

  // Spawning failed (no exit follows) or a message could not be sent: either way the trackers are gone.
  child.on('error', (e) => {
    if (!closing) failed(e);
  });

  const ready = new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    failure.catch(reject);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') resolve(m);
      else {
        const w = pending.get(m.id);
        pending.delete(m.id);
        if (m.ok) w?.resolve(m.result);
        else w?.reject(new Error(`simulator process: ${m.error}`));
      }
    });
  });
  child.send({ type: 'start', options: o } satisfies ParentMessage);
  let info: Extract<ChildMessage, { type: 'ready' }>;
  try {
    info = await ready;
  } catch (e) {
    killChild();
    throw e;
  }

  const call = <T>(req: SimRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error('simulator process is gone'));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ type: 'call', id, ...req } satisfies ParentMessage);
    });

  return {
    pid: child.pid!,
    jiraUrl: info.jiraUrl,
    adoUrl: info.adoUrl,
    jiraKeys: info.jiraKeys,
    jiraDone: info.jiraDone,
    adoIds: info.adoIds,
    counts: () => call<SimCounts>({ op: 'counts' }),
    resetCounts: () => call<void>({ op: 'resetCounts' }),
    jiraLog: () => call<RequestRecord[]>({ op: 'jiraLog' }),
    changeShare: (every, offset) => call<Changed>({ op: 'changeShare', every, offset }),
    failure,
    async close() {
      if (closing) return exited;
      closing = true;
      if (child.connected) await call({ op: 'close' }).catch(() => {});
      // The child exits once its servers are closed; one that hangs is not waited for long.
      const timer = setTimeout(killChild, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
