// A kept read: shared by concurrent callers, forgotten when it fails, read again past the age a
// caller accepts.
import { describe, expect, it } from 'vitest';
import { keptRead } from './kept-read.ts';

describe('keptRead', () => {
  it('shares one read between callers and keeps it for any age by default', async () => {
    let reads = 0;
    const k = keptRead(
      async () => ++reads,
      () => 0,
    );
    expect(await Promise.all([k.get(), k.get(), k.get(60_000)])).toEqual([1, 1, 1]);
    expect(reads).toBe(1);
  });

  it('reads again once the kept value is as old as the caller allows, and at once for 0', async () => {
    let clock = 1_000;
    let reads = 0;
    const k = keptRead(
      async () => ++reads,
      () => clock,
    );
    await k.get(60_000);
    clock += 59_999;
    expect(await k.get(60_000)).toBe(1);
    clock += 1;
    expect(await k.get(60_000)).toBe(2);
    expect(await k.get(0)).toBe(3);
  });

  it('forgets a failed read, so the next call tries again', async () => {
    let reads = 0;
    const k = keptRead(
      async () => {
        reads += 1;
        if (reads === 1) throw new Error('refused');
        return reads;
      },
      () => 0,
    );
    await expect(k.get()).rejects.toThrow('refused');
    expect(await k.get()).toBe(2);
  });
});
