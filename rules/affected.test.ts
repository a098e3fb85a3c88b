// What a change can affect and how a large evaluation is cut into chunks, over item shapes and
// links held in memory: no database (src/findings/load-items.ts fills them from one).
import { describe, expect, it } from 'vitest';
import { affectedInMemory, chunkRefs, type ItemShape, treeChunks } from './affected.ts';

const shape = (ref: string, over: Partial<ItemShape> = {}): ItemShape => ({
  ref,
  parent: null,
  owner: null,
  active: false,
  links: [],
  ...over,
});

describe('what a change affects', () => {
  const all = [
    shape('E'),
    shape('S1', { parent: 'E', owner: 'ann', active: true }),
    shape('S2', { parent: 'E', owner: 'ann', active: true }),
    shape('T1', { parent: 'S1' }),
    shape('L', { links: ['S1'] }),
    shape('X', { owner: 'bob', active: true }),
    shape('D1'),
    shape('D2'),
  ];

  it('reaches ancestors, children, linkers, link targets and the owner’s work in progress', () => {
    const got = affectedInMemory(
      all.map((s) => (s.ref === 'S1' ? { ...s, links: ['NOT-STORED'] } : s)),
      ['S1'],
    );
    expect([...got].sort()).toEqual(['E', 'L', 'NOT-STORED', 'S1', 'S2', 'T1']);
  });

  it('adds the work of owners that changed items left, and everything along blocking links', () => {
    const blocking = new Map([
      ['S1', ['D1']],
      ['D1', ['S1', 'D2']],
      ['D2', ['D1']],
    ]);
    const got = affectedInMemory(all, ['S1'], ['bob'], blocking);
    expect([...got].sort()).toEqual(['D1', 'D2', 'E', 'L', 'S1', 'S2', 'T1', 'X']);
  });
});

describe('chunks of whole trees', () => {
  const parentOf = new Map<string, string | null>([
    ['A', null],
    ['A1', 'A'],
    ['A2', 'A1'],
    ['B', null],
    ['B1', 'B'],
    ['C1', 'C2'],
    ['C2', 'C1'],
  ]);

  it('never splits a tree, starts a chunk when the next tree would pass the limit, and keeps a parent cycle together', () => {
    const chunks = treeChunks(parentOf, null, 4);
    expect(chunks.map((c) => c.members.sort())).toEqual([
      ['A', 'A1', 'A2'],
      ['B', 'B1', 'C1', 'C2'],
    ]);
    expect(chunks.flatMap((c) => c.evaluate).sort()).toEqual([...parentOf.keys()].sort());
  });

  it('evaluates only the wanted refs, skips trees with none, and resolves refs that are not stored', () => {
    const chunks = treeChunks(parentOf, new Set(['A2', 'GONE']), 2);
    expect(chunks).toEqual([{ members: ['A', 'A1', 'A2'], evaluate: ['A2', 'GONE'] }]);
  });

  it('reads a chunk’s members, what links to them, and the whole blocking closure', () => {
    const refs = chunkRefs(
      { members: ['A', 'A1'], evaluate: ['A1'] },
      {
        linked: new Map([['A1', ['L', 'A']]]),
        blocking: new Map([
          ['L', ['B1']],
          ['B1', ['L', 'C1']],
        ]),
      },
    );
    expect(refs).toEqual(['A', 'A1', 'L', 'B1', 'C1']);
  });
});
