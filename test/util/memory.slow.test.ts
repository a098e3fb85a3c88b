// A memory-reducing collection hands a stage's freed heap back to the system: a major collection
// alone keeps the pages pooled, so the process stays at its high-water mark (src/util/memory.ts).
import { describe, expect, it } from 'vitest';
import { releaseFreedMemory } from '../../src/util/memory.ts';

const mib = (n: number) => Math.round(n / 1048576);

describe('releaseFreedMemory', () => {
  it('returns the pages of a dropped working set to the system', () => {
    // About 200 MB of small objects, as a pull or an evaluation leaves behind.
    let junk: { i: number; s: string; a: number[] }[] | null = [];
    for (let i = 0; i < 1_500_000; i++) junk.push({ i, s: `item-${i}`, a: [i] });
    expect(junk).toHaveLength(1_500_000);
    junk = null;
    const before = process.memoryUsage().rss;
    expect(releaseFreedMemory()).toBe(true);
    const after = process.memoryUsage().rss;
    expect(mib(before - after)).toBeGreaterThan(100);
  });
});
