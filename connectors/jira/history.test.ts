// Status histories from the simulator's changelog: a backfill of 2,500 issues in the fewest
// requests the bulk changelog's batch size allows, transitions that agree with the issues, and an
// incremental read of only the issues that changed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkItem } from '../../src/core/work-item.ts';
import type { Connector, ItemHistory } from '../types.ts';
import { createJiraConnector } from './index.ts';
import { CHANGELOG_ISSUES_MAX } from './read.ts';
import { STATUSES } from './simulator/catalog.ts';
import { type JiraSimulator, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const HORIZON = new Date(NOW - 180 * 86_400_000).toISOString();

describe('Jira status history', () => {
  let sim: JiraSimulator;
  let connector: Connector;

  beforeEach(async () => {
    sim = await startJiraSimulator({ now: () => NOW });
    connector = createJiraConnector({ config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: sim.url });
  });
  afterEach(async () => {
    await connector.close();
    await sim.close();
  });

  async function pulled(): Promise<WorkItem[]> {
    const items: WorkItem[] = [];
    await connector.pull({ cursor: null, onPage: async (p) => void items.push(...p) });
    return items;
  }
  const idOf = (it: WorkItem) => String((it.raw as { id: string }).id);

  async function read(items: WorkItem[], cursor: string | null) {
    const out = new Map<string, ItemHistory>();
    const r = await connector.history!({
      items: items.map((it) => ({ key: it.key, id: idOf(it) })),
      since: HORIZON,
      cursor,
      onHistories: async (hs) => {
        for (const h of hs) out.set(h.key, h);
      },
    });
    return { histories: out, cursor: r.cursor };
  }

  it('backfills 2,500 issues in one request per 1,000 and agrees with their dates', async () => {
    // Arrange
    sim.seedPortfolio({ epics: 50, storiesPerEpic: 49, seed: 3 });
    const items = await pulled();
    sim.resetCounts();

    // Act
    const { histories } = await read(items, null);

    // Assert: the minimum is ⌈2500/1000⌉ changelog requests (each batch has < 10,000 changes) and
    // the one status list.
    expect(items.length).toBe(2500);
    expect(sim.requestCounts()).toEqual({
      'GET status': 1,
      'POST changelog/bulkfetch': Math.ceil(2500 / CHANGELOG_ISSUES_MAX),
    });
    expect(histories.size).toBe(2500);
    // Changes before the horizon are not read: the generator starts some work 200 days back.
    const within = (at: string | null) => (at !== null && at >= HORIZON ? at : null);
    for (const it of items) {
      const h = histories.get(it.key)!;
      const started = h.transitions.find((t) => t.to === 'in_progress')?.at ?? null;
      const done = h.transitions.findLast((t) => t.to === 'done')?.at ?? null;
      expect({ key: it.key, started, done }).toEqual({
        key: it.key,
        started: it.statusCategory === 'todo' ? null : within(it.started),
        done: it.statusCategory === 'done' ? within(it.resolved) : null,
      });
    }
  });

  it('reads again only what it is given, and sees a change made since', async () => {
    // Arrange
    sim.seedPortfolio({ epics: 2, storiesPerEpic: 4, seed: 5 });
    const items = await pulled();
    const first = await read(items, null);
    const todo = items.find((it) => it.statusCategory === 'todo')!;
    sim.store.updateIssue(todo.key, { status: 'In Progress' }, { at: NOW - 3_600_000 });
    sim.resetCounts();

    // Act
    const next = await read([todo], first.cursor);

    // Assert
    // The status list read by the first call serves this one.
    expect(sim.requestCounts()).toEqual({ 'POST changelog/bulkfetch': 1 });
    expect(next.histories.get(todo.key)).toEqual({
      key: todo.key,
      mode: 'replace',
      transitions: [{ at: new Date(NOW - 3_600_000).toISOString(), to: 'in_progress' }],
      due: [],
      parent: [],
    });
  });

  it('reads target date and parent changes beside the status, in the same requests', async () => {
    // Arrange: a story's due date set then moved, and the story moved to another epic; a second
    // story's parent change logged with the parent's id only (no key in the strings).
    sim.seedPortfolio({ epics: 3, storiesPerEpic: 3, seed: 5 });
    const items = await pulled();
    const epics = items.filter((it) => it.kind === 'epic');
    const [story, other] = items.filter((it) => it.kind === 'story' && it.parent === epics[0]!.ref);
    const at = (h: number) => NOW - h * 3_600_000;
    const iso = (h: number) => new Date(at(h)).toISOString();
    sim.store.updateIssue(story!.key, { duedate: '2027-01-15' }, { at: at(5) });
    sim.store.updateIssue(story!.key, { duedate: '2027-02-01' }, { at: at(4) });
    sim.store.updateIssue(story!.key, { parent: epics[1]!.key }, { at: at(3) });
    const idOfKey = (key: string) => idOf(items.find((it) => it.key === key)!);
    sim.store.liveIssue(other!.key)!.histories.push({
      id: '990001',
      created: new Date(at(2)).toISOString(),
      author: sim.store.liveIssue(other!.key)!.histories[0]?.author ?? { accountId: 'a', displayName: 'A' },
      items: [
        {
          field: 'IssueParentAssociation',
          fieldtype: 'jira',
          from: idOfKey(epics[0]!.key),
          fromString: null,
          to: idOfKey(epics[2]!.key),
          toString: null,
        },
      ],
    });
    sim.resetCounts();

    // Act: the other story's old parent is one of the items read, its new one is not (found by id).
    const out = new Map<string, ItemHistory>();
    const asked: string[][] = [];
    await connector.history!({
      items: [story!, other!, epics[0]!].map((it) => ({ key: it.key, id: idOf(it) })),
      since: HORIZON,
      cursor: null,
      keysOf: async (ids) => {
        asked.push([...ids]);
        return new Map(ids.map((id) => [id, items.find((it) => idOf(it) === id)!.key]));
      },
      onHistories: async (hs) => {
        for (const h of hs) out.set(h.key, h);
      },
    });

    // Assert: one changelog request; values from the horizon, then each change's.
    expect(sim.requestCounts()['POST changelog/bulkfetch']).toBe(1);
    expect({ due: out.get(story!.key)!.due, parent: out.get(story!.key)!.parent }).toEqual({
      due: [
        { at: HORIZON, value: story!.due },
        { at: iso(5), value: '2027-01-15' },
        { at: iso(4), value: '2027-02-01' },
      ],
      parent: [
        { at: HORIZON, value: epics[0]!.key },
        { at: iso(3), value: epics[1]!.key },
      ],
    });
    expect(out.get(other!.key)!.parent).toEqual([
      { at: HORIZON, value: epics[0]!.key },
      { at: iso(2), value: epics[2]!.key },
    ]);
    expect(asked).toEqual([[idOfKey(epics[2]!.key)]]);
  });

  it('leaves out changes older than the horizon', async () => {
    // Arrange
    sim.seedPortfolio({ epics: 3, storiesPerEpic: 6, seed: 9 });
    const items = await pulled();

    // Act
    const out = new Map<string, ItemHistory>();
    const late = new Date(NOW - 5 * 86_400_000).toISOString();
    await connector.history!({
      items: items.map((it) => ({ key: it.key, id: idOf(it) })),
      since: late,
      cursor: null,
      onHistories: async (hs) => {
        for (const h of hs) out.set(h.key, h);
      },
    });

    // Assert
    const all = [...out.values()].flatMap((h) => h.transitions);
    expect(all.every((t) => t.at >= late)).toBe(true);
  });
  it('reads the status list again for a status it lacks, and once it is an hour old', async () => {
    // Arrange: a connector on a clock the test moves; a first read; then a status added to the
    // site's workflow, and an issue moved into it.
    let clock = NOW;
    const timed = createJiraConnector(
      { config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: sim.url },
      { now: () => clock },
    );
    sim.seedPortfolio({ epics: 1, storiesPerEpic: 3, seed: 5 });
    const items: WorkItem[] = [];
    await timed.pull({ cursor: null, onPage: async (p) => void items.push(...p) });
    const todo = items.find((it) => it.statusCategory === 'todo')!;
    const readOf = async (its: WorkItem[]) => {
      const out = new Map<string, ItemHistory>();
      await timed.history!({
        items: its.map((it) => ({ key: it.key, id: idOf(it) })),
        since: HORIZON,
        cursor: null,
        onHistories: async (hs) => {
          for (const h of hs) out.set(h.key, h);
        },
      });
      return out;
    };
    await readOf(items);
    STATUSES['Awaiting QA'] = { id: '10077', category: 'indeterminate', categoryId: 4, categoryName: 'In Progress' };
    try {
      sim.store.updateIssue(todo.key, { status: 'Awaiting QA' }, { at: NOW - 3_600_000 });
      const statusReads: number[] = [];
      sim.resetCounts();

      // Act
      const moved = await readOf([todo]);
      statusReads.push(sim.requestCounts()['GET status'] ?? 0);
      await readOf([todo]);
      statusReads.push(sim.requestCounts()['GET status'] ?? 0);
      clock += 61 * 60_000;
      await readOf([todo]);
      statusReads.push(sim.requestCounts()['GET status'] ?? 0);

      // Assert: read for the new status (which is then known), not again, then once the hour is up.
      expect(moved.get(todo.key)!.transitions.at(-1)).toEqual({
        at: new Date(NOW - 3_600_000).toISOString(),
        to: 'in_progress',
      });
      expect(statusReads).toEqual([1, 1, 2]);
    } finally {
      delete STATUSES['Awaiting QA'];
      await timed.close();
    }
  });
});
