// Status histories from the simulator's reporting revisions stream: a backfill in the fewest
// batches the page size allows, transitions that agree with the items, and a continuation that
// brings only what changed since.
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkItem } from '../../src/core/work-item.ts';
import type { ItemHistory } from '../types.ts';
import { REVISIONS_PAGE } from './history.ts';
import { pullAll, simulatedConnector } from './testing.ts';

const SINCE = '2025-06-01T00:00:00.000Z';

describe('Azure DevOps status history', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) await f();
  });
  /** A connector over an Agile "Payments" project seeded with epics, features and stories. */
  const payments = (size: { epics: number; featuresPerEpic: number; storiesPerFeature: number; seed: number }) =>
    simulatedConnector(
      (s) => s.seedPortfolio({ process: 'Agile', project: 'Payments', ...size }),
      {},
      (...f) => cleanups.push(...f),
    );

  it('backfills in ⌈revisions/1000⌉ batches and agrees with the items', async () => {
    // Arrange
    const { sim, connector } = await payments({ epics: 30, featuresPerEpic: 3, storiesPerFeature: 8, seed: 4 });
    const { items } = await pullAll(connector, null);
    sim.resetCounts();

    // Act
    const histories = new Map<string, ItemHistory>();
    let revisions = 0;
    await connector.history!({
      items: [],
      since: SINCE,
      cursor: null,
      onHistories: async (hs) => {
        for (const h of hs) {
          revisions += h.transitions.length;
          const known = histories.get(h.key);
          if (known) known.transitions.push(...h.transitions);
          else histories.set(h.key, { ...h, transitions: [...h.transitions] });
        }
      },
    });

    // Assert
    expect(items.length).toBe(840);
    expect(revisions).toBeGreaterThan(REVISIONS_PAGE);
    expect(sim.requestCounts()['GET wit/reporting/workitemrevisions']).toBe(Math.ceil(revisions / REVISIONS_PAGE));
    const byKey = new Map<string, WorkItem>(items.map((it) => [it.key, it]));
    expect(histories.size).toBe(840);
    for (const [key, h] of histories) {
      const it = byKey.get(key)!;
      expect({ key, last: h.transitions.at(-1)!.to }).toEqual({ key, last: it.statusCategory });
      if (it.statusCategory === 'done') expect(h.transitions.findLast((t) => t.to === 'done')!.at).toBe(it.resolved);
    }
  });

  it('continues from its cursor with only the revisions made since', async () => {
    // Arrange
    const { sim, connector } = await payments({ epics: 2, featuresPerEpic: 2, storiesPerFeature: 3, seed: 8 });
    const first = await connector.history!({ items: [], since: SINCE, cursor: null, onHistories: async () => {} });
    const { items } = await pullAll(connector, null);
    const story = items.find((it) => it.kind === 'story' && it.statusCategory !== 'done')!;
    sim.store.update(Number(story.key), { 'System.State': 'Closed' });
    sim.resetCounts();

    // Act
    const seen: ItemHistory[] = [];
    await connector.history!({
      items: [],
      since: SINCE,
      cursor: first.cursor,
      onHistories: async (hs) => void seen.push(...hs),
    });

    // Assert
    expect(sim.requestCounts()['GET wit/reporting/workitemrevisions']).toBe(1);
    expect(seen.map((h) => ({ key: h.key, mode: h.mode, to: h.transitions.map((t) => t.to) }))).toEqual([
      { key: story.key, mode: 'append', to: ['done'] },
    ]);
  });

  it("reads each revision's target date and parent from the same batches", async () => {
    // Arrange: after a first read, an epic's target date moves and a story moves to another feature.
    const { sim, connector } = await payments({ epics: 2, featuresPerEpic: 2, storiesPerFeature: 2, seed: 8 });
    const { items } = await pullAll(connector, null);
    const backfill = new Map<string, ItemHistory>();
    const first = await connector.history!({
      items: [],
      since: SINCE,
      cursor: null,
      onHistories: async (hs) => {
        for (const h of hs) backfill.set(h.key, h);
      },
    });
    const epic = items.find((it) => it.kind === 'epic')!;
    const story = items.find((it) => it.kind === 'story')!;
    const feature = items.find((it) => it.kind === 'feature' && it.ref !== story.parent)!;
    const key = (ref: string | null) => ref && ref.split(':').pop()!;
    sim.store.update(Number(epic.key), { 'Microsoft.VSTS.Scheduling.TargetDate': '2027-03-31T00:00:00Z' });
    sim.store.setParent(Number(story.key), Number(key(feature.ref)));
    sim.resetCounts();

    // Act
    const seen = new Map<string, ItemHistory>();
    await connector.history!({
      items: [],
      since: SINCE,
      cursor: first.cursor,
      onHistories: async (hs) => {
        for (const h of hs) seen.set(h.key, h);
      },
    });

    // Assert: every revision read before shows the values the items had; the new ones, the moves.
    const values = (h: ItemHistory | undefined, f: 'due' | 'parent') => [...new Set(h?.[f]?.map((v) => v.value))];
    expect({
      epicDue: values(backfill.get(epic.key), 'due'),
      storyParent: values(backfill.get(story.key), 'parent'),
    }).toEqual({ epicDue: [epic.due?.slice(0, 10) ?? null], storyParent: [key(story.parent)] });
    expect(sim.requestCounts()['GET wit/reporting/workitemrevisions']).toBe(1);
    expect({
      epicDue: values(seen.get(epic.key), 'due'),
      storyParent: values(seen.get(story.key), 'parent'),
    }).toEqual({ epicDue: ['2027-03-31'], storyParent: [key(feature.ref)] });
    const [moved] = await connector.fetchItems([story.key]);
    expect(moved!.parent).toBe(feature.ref);
  });
  it('dates a state when it was entered, so edits that leave it alone add no transition', async () => {
    // Arrange: a story closed long ago and an open one; read past the horizon set at "now", after
    // which pmo-sync's own write-back tags the closed story and a person starts the open one.
    const { sim, connector } = await payments({ epics: 2, featuresPerEpic: 2, storiesPerFeature: 3, seed: 8 });
    const { items } = await pullAll(connector, null);
    const closed = items.find((it) => it.kind === 'story' && it.statusCategory === 'done')!;
    const open = items.find((it) => it.kind === 'story' && it.statusCategory === 'todo')!;
    const since = new Date(sim.store.clock()).toISOString();
    sim.store.update(Number(closed.key), { 'System.Tags': 'pmo-compliant' });
    sim.store.update(Number(open.key), { 'System.State': 'Active' });
    const started = String(sim.store.get(Number(open.key)).fields['System.ChangedDate']);

    // Act
    const seen = new Map<string, ItemHistory>();
    await connector.history!({
      items: [],
      since,
      cursor: null,
      onHistories: async (hs) => {
        for (const h of hs) seen.set(h.key, h);
      },
    });

    // Assert: the tag made a revision, which shows the state entered when the story was closed.
    expect(closed.resolved! < since).toBe(true);
    expect(seen.get(closed.key)?.transitions).toEqual([{ at: closed.resolved, to: 'done' }]);
    expect(seen.get(open.key)?.transitions).toEqual([{ at: new Date(started).toISOString(), to: 'in_progress' }]);
  });
});
