// The enhanced search keeps its sorted results between pages; these check that it answers as if
// it filtered and sorted the store afresh for every page: edits, new issues, search lag and
// relative dates between two pages are seen exactly as before the results were kept.
import { describe, expect, it } from 'vitest';
import { createReadApi } from './read-api.ts';
import { createStore } from './store.ts';

const T0 = Date.parse('2026-11-20T12:00:00Z');

function setup() {
  const clock = { now: T0, lagMs: 0 };
  const store = createStore({
    site: () => 'http://sim',
    now: () => clock.now,
    searchLagMs: () => clock.lagMs,
    emit: () => {},
  });
  const api = createReadApi({ store, site: () => 'http://sim', now: () => clock.now });
  const add = (n: number) => {
    for (let k = 0; k < n; k++) {
      store.createIssue({ project: 'PAY', issuetype: 'Story', summary: `story ${k}` });
      clock.now += 1000;
    }
  };
  const page = (jql: string, maxResults: number, nextPageToken?: string) => {
    const r = api.search({ jql, maxResults, fields: 'key', nextPageToken });
    return { keys: r.issues.map((i) => i.key), token: r.nextPageToken, isLast: r.isLast };
  };
  return { clock, store, add, page };
}

describe('enhanced search between pages', () => {
  it('drops an unread issue that stops matching and keeps the keyset position', async () => {
    // Arrange
    const { store, add, page } = setup();
    add(5);
    const jql = 'project = PAY AND status = "To Do" ORDER BY key ASC';

    // Act
    const first = page(jql, 2);
    store.updateIssue('PAY-3', { status: 'Done' });
    store.updateIssue('PAY-1', { summary: 'edited after it was read' });
    const second = page(jql, 2, first.token);

    // Assert
    expect([first.keys, second.keys, second.isLast]).toEqual([['PAY-1', 'PAY-2'], ['PAY-4', 'PAY-5'], true]);
  });

  it('sends an issue edited after it was read again at the end when ordered by updated', async () => {
    // Arrange
    const { clock, store, add, page } = setup();
    add(3);
    const jql = 'project = PAY ORDER BY updated ASC';

    // Act
    const first = page(jql, 2);
    clock.now += 60_000;
    store.updateIssue('PAY-1', { summary: 'edited' });
    const second = page(jql, 2, first.token);

    // Assert
    expect([first.keys, second.keys, second.isLast]).toEqual([['PAY-1', 'PAY-2'], ['PAY-3', 'PAY-1'], true]);
  });

  it('shows an issue created between pages, and a lagging one once its lag has passed', async () => {
    // Arrange
    const { clock, store, add, page } = setup();
    add(2);
    const jql = 'project = PAY ORDER BY key ASC';

    // Act
    const before = page(jql, 10);
    clock.lagMs = 60_000;
    store.createIssue({ project: 'PAY', issuetype: 'Bug', summary: 'indexed late' });
    const lagging = page(jql, 10);
    clock.now += 60_000;
    const indexed = page(jql, 10);

    // Assert
    expect([before.keys, lagging.keys, indexed.keys]).toEqual([
      ['PAY-1', 'PAY-2'],
      ['PAY-1', 'PAY-2'],
      ['PAY-1', 'PAY-2', 'PAY-3'],
    ]);
  });

  it('evaluates a relative date against the clock of each call', async () => {
    // Arrange
    const { clock, add, page } = setup();
    add(3);
    const jql = 'project = PAY AND updated >= "-5m" ORDER BY key ASC';

    // Act
    const now = page(jql, 10);
    clock.now += 10 * 60_000;
    const later = page(jql, 10);

    // Assert
    expect([now.keys, later.keys]).toEqual([['PAY-1', 'PAY-2', 'PAY-3'], []]);
  });

  it('pages through every issue once in the default order (key descending)', async () => {
    // Arrange
    const { add, page } = setup();
    add(1050);
    const keys: string[] = [];

    // Act
    let token: string | undefined;
    let pages = 0;
    do {
      const p = page('project = PAY', 100, token);
      keys.push(...p.keys);
      token = p.token;
      pages++;
    } while (token);

    // Assert
    expect(pages).toBe(11);
    expect(keys).toEqual(Array.from({ length: 1050 }, (_, k) => `PAY-${1050 - k}`));
  });
});
