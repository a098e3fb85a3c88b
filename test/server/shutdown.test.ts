// The shutdown of `serve` and the demo: the first SIGINT/SIGTERM asks everything to stop and
// arms the deadline; the copies one Ctrl-C sends through npm and the launcher are one signal; a
// second signal, or the deadline, ends the process at once.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createShutdown, type SignalProcess, StopRequested } from '../../src/server/shutdown.ts';

function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const proc: SignalProcess = {
    on: (e, l) => emitter.on(e, l),
    off: (e, l) => emitter.off(e, l),
    exit: (code: number) => {
      exits.push(code);
      return undefined;
    },
  };
  return { proc, exits, send: (sig: 'SIGINT' | 'SIGTERM') => emitter.emit(sig), emitter };
}

describe('shutdown', () => {
  let clock = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = () => {
    const p = fakeProcess();
    const lines: string[] = [];
    const shutdown = createShutdown({ say: (l) => lines.push(l), proc: p.proc, deadlineMs: 10_000, now: () => clock });
    return { ...p, lines, shutdown };
  };

  it('aborts its signal and resolves with the first signal, and says so once', async () => {
    const { send, lines, shutdown, exits } = make();
    expect(shutdown.signal.aborted).toBe(false);
    send('SIGTERM');
    expect(await shutdown.requested).toBe('SIGTERM');
    expect(shutdown.signal.aborted).toBe(true);
    expect(shutdown.signal.reason).toBeInstanceOf(StopRequested);
    expect(lines).toEqual(['pmo-sync: SIGTERM received; stopping (send it again to exit at once)']);
    expect(exits).toEqual([]);
  });

  it('takes the same signal again within the duplicate window for a copy of the first', () => {
    const { send, lines, exits } = make();
    send('SIGINT');
    clock = 50;
    send('SIGINT');
    send('SIGINT');
    expect(exits).toEqual([]);
    expect(lines).toHaveLength(1);
  });

  it('exits at once on a second SIGINT (130) or SIGTERM (143), or on a different signal', () => {
    const a = make();
    a.send('SIGINT');
    clock = 1_000;
    a.send('SIGINT');
    expect(a.exits).toEqual([130]);
    expect(a.lines.at(-1)).toBe('pmo-sync: SIGINT again while stopping; exiting now (exit 130)');

    const b = make();
    b.send('SIGINT');
    b.send('SIGTERM');
    expect(b.exits).toEqual([143]);
  });

  it('ends the process with exit 1 when stopping takes longer than the deadline', () => {
    const { send, lines, exits } = make();
    send('SIGTERM');
    vi.advanceTimersByTime(9_999);
    expect(exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(exits).toEqual([1]);
    expect(lines.at(-1)).toBe('pmo-sync: still stopping 10 s after SIGTERM; exiting now (exit 1)');
  });

  it('arms no deadline without a signal, and dispose removes its listeners', () => {
    const { emitter, exits, shutdown } = make();
    expect([emitter.listenerCount('SIGINT'), emitter.listenerCount('SIGTERM')]).toEqual([1, 1]);
    vi.advanceTimersByTime(60_000);
    expect(exits).toEqual([]);
    shutdown.dispose();
    expect([emitter.listenerCount('SIGINT'), emitter.listenerCount('SIGTERM')]).toEqual([0, 0]);
    expect(shutdown.signal.aborted).toBe(false);
  });
});
