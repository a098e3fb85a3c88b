// The CI bench guard's verdict: growth within the margins passes, beyond them fails and says what.
import { describe, expect, it } from 'vitest';
import { judge } from '../../bench/guard.ts';

const base = { peakRssMiB: 300, cpuMsPerThousandItems: 400, itemsPerSec: 2000 };
const margins = { peakRss: 0.25, cpuPerItem: 0.5 };

describe('bench guard', () => {
  it('passes figures within the margins, whatever the wall-clock speed', () => {
    expect(judge(base, { peakRssMiB: 375, cpuMsPerThousandItems: 600, itemsPerSec: 200 }, margins)).toEqual({
      over: [],
      rssLimit: 375,
      cpuLimit: 600,
    });
  });

  it('fails peak RSS and CPU per item beyond the margins, naming each', () => {
    expect(judge(base, { peakRssMiB: 376, cpuMsPerThousandItems: 601, itemsPerSec: 2000 }, margins).over).toEqual([
      'peak RSS 376 MiB > 375 MiB',
      'CPU 601 ms > 600 ms per 1,000 items',
    ]);
  });
});
