// Small hand-written work items for tests that need exact numbers.
import { splitRef, type WorkItem } from '../../src/core/work-item.ts';

export function item(ref: string, over: Partial<WorkItem> = {}): WorkItem {
  const { connection, key } = splitRef(ref);
  const tracker = connection.startsWith('ado') ? 'azure-devops' : 'jira';
  return {
    ref,
    connection,
    tracker,
    key,
    project: tracker === 'jira' ? key.split('-')[0]! : 'Payments',
    kind: 'story',
    type: 'Story',
    title: `Item ${key}`,
    status: 'To Do',
    statusCategory: 'todo',
    assignee: null,
    owner: null,
    priority: null,
    labels: [],
    created: '2026-01-01T00:00:00.000Z',
    updated: '2026-01-01T00:00:00.000Z',
    started: null,
    resolved: null,
    start: null,
    due: null,
    points: null,
    estimateHours: null,
    remainingHours: null,
    parent: null,
    links: [],
    iteration: null,
    fields: {},
    url: `https://example.test/${key}`,
    revision: '1',
    raw: null,
    ...over,
  };
}

export const daysFrom = (now: Date, days: number) => new Date(now.getTime() + days * 86_400_000).toISOString();
