// Cycles and layers of the dependency map, on small hand-drawn graphs.
import { describe, expect, it } from 'vitest';
import { findCycles, layers } from '../../src/dashboard/workspace/graph.ts';

const e = (from: string, to: string) => ({ from, to });

describe('findCycles', () => {
  it('finds each cycle once, in natural key order, and ignores chains', () => {
    const nodes = ['j:A-10', 'j:A-2', 'a:3', 'a:4', 'x:1', 'x:2'];
    const edges = [
      e('j:A-10', 'j:A-2'),
      e('j:A-2', 'j:A-10'),
      e('a:3', 'a:4'),
      e('a:4', 'x:1'),
      e('x:1', 'a:3'),
      e('x:1', 'x:2'),
    ];
    expect(findCycles(nodes, edges)).toEqual([
      ['a:3', 'a:4', 'x:1'],
      ['j:A-2', 'j:A-10'],
    ]);
    expect(findCycles(['p', 'q'], [e('p', 'q')])).toEqual([]);
  });

  it('walks a long chain without overflowing the stack', () => {
    const n = 50_000;
    const nodes = Array.from({ length: n }, (_, i) => `n:${i}`);
    const edges = nodes.slice(1).map((v, i) => e(nodes[i]!, v));
    expect(findCycles(nodes, [...edges, e(nodes[n - 1]!, nodes[0]!)]).map((c) => c.length)).toEqual([n]);
  });
});

describe('layers', () => {
  it('puts each node one right of its furthest predecessor, cycles cut for layout only', () => {
    const edges = [e('a', 'b'), e('b', 'c'), e('a', 'c'), e('c', 'd'), e('d', 'b')];
    expect(Object.fromEntries(layers(['a', 'b', 'c', 'd', 'z'], edges))).toEqual({ a: 0, b: 1, c: 2, d: 3, z: 0 });
  });
});
