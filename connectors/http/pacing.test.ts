// The waiting primitives both transports share: Retry-After and Jira's reset instant read
// exactly, the cap, gates per key and for the whole connection, and sleeps an AbortSignal ends.
import { describe, expect, test } from 'vitest';
import { abortableSleep, capWait, createPacer, parseResetAt, parseRetryAfter } from './pacing.ts';

const NOW = Date.parse('2026-03-02T10:00:00Z');

describe('reading what the tracker asked for', () => {
  test.each([
    ['7', 7_000],
    [' 120 ', 120_000],
    ['0.5', 500],
    ['1900000', 1_900_000_000],
    ['Mon, 02 Mar 2026 10:00:30 GMT', 30_000],
    ['Mon, 02 Mar 2026 09:00:00 GMT', 0],
    ['-5', null],
    ['soon', null],
    ['', null],
    [null, null],
  ])('Retry-After %j is %j ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  test.each([
    ['2026-03-02T10:02Z', 120_000],
    ['2026-03-02T10:00:45.000Z', 45_000],
    ['2026-03-02T09:59Z', 0],
    ['1772445720', null],
    ['later', null],
    [undefined, null],
  ])('X-RateLimit-Reset %j is %j ms from now', (value, ms) => {
    expect(parseResetAt(value, NOW)).toBe(ms);
  });

  test('a wait over the cap is the cap, and says so', () => {
    expect([capWait(1_900_000_000, 600_000), capWait(30_000, 600_000), capWait(600_000, 600_000)]).toEqual([
      { ms: 600_000, capped: true },
      { ms: 30_000, capped: false },
      { ms: 600_000, capped: false },
    ]);
  });
});

describe('gates', () => {
  function clock() {
    const c = { t: NOW, sleeps: [] as number[] };
    const sleep = async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms;
    };
    return { c, now: () => c.t, sleep };
  }

  test('a key is held until its instant; other keys are not', async () => {
    // Arrange
    const k = clock();
    const pacer = createPacer(k);
    pacer.hold('POST search/jql', NOW + 30_000);
    // Act
    await pacer.ready('GET field', new AbortController().signal);
    const fieldAt = k.c.t;
    await pacer.ready('POST search/jql', new AbortController().signal);
    // Assert
    expect({ fieldAt: fieldAt - NOW, searchAt: k.c.t - NOW }).toEqual({ fieldAt: 0, searchAt: 30_000 });
  });

  test('the whole connection is held by a null key; a hold only ever lengthens', async () => {
    // Arrange
    const k = clock();
    const pacer = createPacer(k);
    pacer.hold(null, NOW + 60_000);
    pacer.hold(null, NOW + 10_000);
    pacer.hold('GET myself', NOW + 5_000);
    // Act
    await pacer.ready('GET myself', new AbortController().signal);
    // Assert
    expect(k.c.t - NOW).toBe(60_000);
  });

  test('a hold that moves while a request waits is waited for too', async () => {
    // Arrange: the first sleep ends at +10 s, when a second 429 has moved the gate to +25 s.
    const c = { t: NOW };
    const pacer = createPacer({
      now: () => c.t,
      sleep: async (ms) => {
        c.t += ms;
        if (c.t === NOW + 10_000) pacer.hold('k', NOW + 25_000);
      },
    });
    pacer.hold('k', NOW + 10_000);
    // Act
    await pacer.ready('k', new AbortController().signal);
    // Assert
    expect(c.t - NOW).toBe(25_000);
  });

  test('an abort ends a wait at once, with its reason, even when the sleep ignores signals', async () => {
    // Arrange: a sleep that would never end by itself.
    const pacer = createPacer({ now: () => NOW, sleep: () => new Promise<void>(() => {}) });
    pacer.hold(null, NOW + 1_900_000_000);
    const stop = new AbortController();
    const waiting = pacer.ready('k', stop.signal).catch((e: unknown) => e);
    // Act
    stop.abort(new Error('closing'));
    // Assert
    expect(await waiting).toEqual(new Error('closing'));
    await expect(abortableSleep(() => new Promise<void>(() => {}), 1, stop.signal)).rejects.toEqual(
      new Error('closing'),
    );
  });
});
