// Normalization of real Jira Cloud issues captured by Apache DevLake (merico.atlassian.net):
// Chinese type and status names, sub-tasks, the legacy epic link, sprint arrays.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRefResolver } from '../resolve-ref.ts';
import { iterationOf, kindOf, linkOf, type MapContext, startedFromChangelog, toWorkItem } from './map.ts';
import { JiraIssue } from './schema.ts';
import { jiraConfig } from './testing.ts';

const captured = JSON.parse(readFileSync(new URL('./__fixtures__/devlake-issues.json', import.meta.url), 'utf8')) as {
  key: string;
}[];
const issue = (key: string) => JiraIssue.parse(structuredClone(captured.find((i) => i.key === key)));

const ctx: MapContext = {
  connection: 'jira-main',
  siteUrl: 'https://merico.atlassian.net',
  fieldIds: {
    points: 'customfield_10024',
    start: 'customfield_10015',
    sprint: 'customfield_10020',
    epicLink: 'customfield_10014',
    owner: null,
    crossTracker: null,
    dependsOn: null,
  },
  extras: {},
  typeMap: {},
  resolveRef: () => null,
};

// Expected values were checked field by field against the captured JSON (see PROVENANCE.md).
const EXPECTED = {
  'EE-2': {
    ref: 'jira-main:EE-2',
    connection: 'jira-main',
    tracker: 'jira',
    key: 'EE-2',
    project: 'EE',
    kind: 'story',
    type: '故事',
    title: '​问题堆叠分布排序图',
    status: '已完成',
    statusCategory: 'done',
    assignee: {
      id: '5ecfbd0c730ec90c1999cadf',
      name: 'Dingding Zhang',
    },
    owner: {
      id: '5ecfbd0c730ec90c1999cadf',
      name: 'Dingding Zhang',
    },
    priority: 'Medium',
    labels: ['frontEnd', 'Saas'],
    created: '2020-06-12T00:15:36.123Z',
    updated: '2021-03-28T08:05:55.016Z',
    started: '2020-06-12T01:45:27.521Z',
    resolved: '2020-06-23T10:20:58.999Z',
    start: '2020-06-12',
    due: null,
    points: 2,
    estimateHours: null,
    remainingHours: null,
    parent: null,
    links: [],
    iteration: {
      name: 'EE Sprint 7',
      start: '2020-06-12T00:38:51.882Z',
      end: '2020-06-26T00:38:00.000Z',
    },
    fields: {},
    url: 'https://merico.atlassian.net/browse/EE-2',
    revision: '2021-03-28T08:05:55.016Z',
  },
  'EE-25': {
    ref: 'jira-main:EE-25',
    connection: 'jira-main',
    tracker: 'jira',
    key: 'EE-25',
    project: 'EE',
    kind: 'subtask',
    type: '子任务',
    title: '​组件封装及Demo',
    status: '已完成',
    statusCategory: 'done',
    assignee: {
      id: '5ecfbd0c730ec90c1999cadf',
      name: 'Dingding Zhang',
    },
    owner: {
      id: '5ecfbd0c730ec90c1999cadf',
      name: 'Dingding Zhang',
    },
    priority: 'Medium',
    labels: [],
    created: '2020-06-12T00:40:54.210Z',
    updated: '2021-03-28T08:05:57.189Z',
    started: '2020-06-12T00:45:12.459Z',
    resolved: '2020-06-18T04:02:22.350Z',
    start: '2020-06-12',
    due: null,
    points: null,
    estimateHours: 4,
    remainingHours: 4,
    parent: 'jira-main:EE-1',
    links: [],
    iteration: {
      name: 'EE Sprint 7',
      start: '2020-06-12T00:38:51.882Z',
      end: '2020-06-26T00:38:00.000Z',
    },
    fields: {},
    url: 'https://merico.atlassian.net/browse/EE-25',
    revision: '2021-03-28T08:05:57.189Z',
  },
  'K5-2': {
    ref: 'jira-main:K5-2',
    connection: 'jira-main',
    tracker: 'jira',
    key: 'K5-2',
    project: 'K5',
    kind: 'story',
    type: 'Story',
    title: 'first story',
    status: 'To Do',
    statusCategory: 'todo',
    assignee: null,
    owner: null,
    priority: 'Medium',
    labels: [],
    created: '2022-07-15T22:29:49.026Z',
    updated: '2022-07-15T22:30:23.341Z',
    started: null,
    resolved: null,
    start: null,
    due: null,
    points: null,
    estimateHours: null,
    remainingHours: null,
    parent: 'jira-main:K5-1',
    links: [],
    iteration: {
      name: 'K5 Sprint 1',
      start: '2022-07-15T22:35:25.617Z',
      end: '2022-07-29T22:35:00.000Z',
    },
    fields: {},
    url: 'https://merico.atlassian.net/browse/K5-2',
    revision: '2022-07-15T22:30:23.341Z',
  },
  'K5-4': {
    ref: 'jira-main:K5-4',
    connection: 'jira-main',
    tracker: 'jira',
    key: 'K5-4',
    project: 'K5',
    kind: 'epic',
    type: 'Epic',
    title: 'K5 epic',
    status: 'To Do',
    statusCategory: 'todo',
    assignee: null,
    owner: null,
    priority: 'Medium',
    labels: [],
    created: '2022-07-15T22:31:15.981Z',
    updated: '2022-07-15T22:31:38.598Z',
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
    url: 'https://merico.atlassian.net/browse/K5-4',
    revision: '2022-07-15T22:31:38.598Z',
  },
  'EE-23': {
    ref: 'jira-main:EE-23',
    connection: 'jira-main',
    tracker: 'jira',
    key: 'EE-23',
    project: 'EE',
    kind: 'bug',
    type: '缺陷',
    title: '​批量删除事故',
    status: '已完成',
    statusCategory: 'done',
    assignee: {
      id: '5ecfbd0a47d31e0c2a15fd87',
      name: 'yuxiang',
    },
    owner: {
      id: '5ecfbd0a47d31e0c2a15fd87',
      name: 'yuxiang',
    },
    priority: 'Medium',
    labels: [],
    created: '2020-06-12T00:33:57.204Z',
    updated: '2021-03-28T08:05:57.095Z',
    started: '2020-06-12T01:27:39.141Z',
    resolved: '2020-06-15T09:07:56.798Z',
    start: null,
    due: null,
    points: null,
    estimateHours: null,
    remainingHours: 0,
    parent: null,
    links: [],
    iteration: {
      name: 'EE Sprint 7',
      start: '2020-06-12T00:38:51.882Z',
      end: '2020-06-26T00:38:00.000Z',
    },
    fields: {},
    url: 'https://merico.atlassian.net/browse/EE-23',
    revision: '2021-03-28T08:05:57.095Z',
  },
  'EE-37': {
    ref: 'jira-main:EE-37',
    connection: 'jira-main',
    tracker: 'jira',
    key: 'EE-37',
    project: 'EE',
    kind: 'other',
    type: 'Test Execution',
    title: '数据填充与联调 ',
    status: '已完成',
    statusCategory: 'todo',
    assignee: {
      id: '5ecfbd0c730ec90c1999cadf',
      name: 'Dingding Zhang',
    },
    owner: {
      id: '5ecfbd0c730ec90c1999cadf',
      name: 'Dingding Zhang',
    },
    priority: 'Medium',
    labels: [],
    created: '2020-06-12T00:52:23.456Z',
    updated: '2021-03-28T08:05:55.638Z',
    started: null,
    resolved: '2020-06-18T04:04:31.261Z',
    start: '2020-06-12',
    due: null,
    points: null,
    estimateHours: null,
    remainingHours: null,
    parent: 'jira-main:EE-3',
    links: [],
    iteration: {
      name: 'EE Sprint 7',
      start: '2020-06-12T00:38:51.882Z',
      end: '2020-06-26T00:38:00.000Z',
    },
    fields: {},
    url: 'https://merico.atlassian.net/browse/EE-37',
    revision: '2021-03-28T08:05:55.638Z',
  },
} as const;

describe('toWorkItem on captured DevLake issues', () => {
  it.each(Object.keys(EXPECTED))('normalizes %s', (key) => {
    // Arrange
    const raw = issue(key);

    // Act
    const item = toWorkItem(raw, ctx, startedFromChangelog(raw.changelog!.histories));

    // Assert
    expect(item).toEqual({ ...EXPECTED[key as keyof typeof EXPECTED], raw });
  });

  it('takes the parent from the legacy epic link when there is no parent field', () => {
    // Arrange
    const raw = issue('K5-3');
    delete (raw.fields as { parent?: unknown }).parent;

    // Act
    const item = toWorkItem(raw, ctx, null);

    // Assert
    expect({ parent: item.parent, kind: item.kind }).toEqual({ parent: 'jira-main:K5-4', kind: 'story' });
  });

  it('reads configured extra fields by friendly name, and cross-tracker links from a configured field', () => {
    // Arrange
    const raw = issue('EE-2');
    Object.assign(raw.fields, {
      customfield_10100: {
        type: 'doc',
        version: 1,
        content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Given…' }] }],
      },
      customfield_10200: { value: 'Approved', id: '10021' },
      customfield_10300: 'https://dev.azure.com/acme/Payments/_workitems/edit/4567',
      customfield_10301: '4568',
    });
    const resolveRef = createRefResolver([
      jiraConfig(),
      {
        id: 'ado-main',
        kind: 'azure-devops',
        orgUrl: 'https://dev.azure.com/acme',
        auth: { pat: 'x' },
        scope: { projects: ['Payments'] },
        fields: {},
        typeMap: {},
        writeback: { comment: true, tags: true, fields: {}, whenCompliant: 'update' },
        limits: { concurrency: 1, requestsPerSecond: 1 },
      },
    ]);
    const withExtras: MapContext = {
      ...ctx,
      resolveRef,
      fieldIds: { ...ctx.fieldIds, crossTracker: 'customfield_10300', dependsOn: 'customfield_10301' },
      extras: { acceptanceCriteria: 'customfield_10100', gate: 'customfield_10200', missing: 'customfield_99999' },
    };

    // Act
    const item = toWorkItem(raw, withExtras, null);

    // Assert
    expect({ fields: item.fields, links: item.links }).toEqual({
      fields: { acceptanceCriteria: 'Given…', gate: 'Approved', missing: null },
      links: [
        { type: 'cross_tracker', target: 'ado-main:4567', relation: null },
        { type: 'cross_tracker', target: 'ado-main:4568', relation: 'depends_on' },
      ],
    });
  });
});

describe('kindOf', () => {
  it('uses the hierarchy level before the name, so unknown localized names still place epics and sub-tasks', () => {
    // Act
    const kinds = [
      kindOf({ name: 'Épica', hierarchyLevel: 1 }, {}),
      kindOf({ name: 'Подзадача', subtask: true, hierarchyLevel: -1 }, {}),
      kindOf({ name: 'Programme', hierarchyLevel: 2 }, {}),
      kindOf({ name: 'Баг', hierarchyLevel: 0 }, {}),
      kindOf({ name: 'Test Execution', hierarchyLevel: 0 }, {}),
      kindOf({ name: 'Test Execution', hierarchyLevel: 0 }, { 'Test Execution': 'task' }),
    ];

    // Assert
    expect(kinds).toEqual(['epic', 'subtask', 'initiative', 'bug', 'other', 'task']);
  });
});

describe('linkOf and iterationOf', () => {
  it('maps issue links by the direction Jira reports', () => {
    // Arrange
    const type = { name: 'Blocks', inward: 'is blocked by', outward: 'blocks' };

    // Act
    const links = [
      linkOf({ type, outwardIssue: { key: 'PAY-2' } }, 'c'),
      linkOf({ type, inwardIssue: { key: 'PAY-3' } }, 'c'),
      linkOf(
        {
          type: { name: 'Duplicate', inward: 'is duplicated by', outward: 'duplicates' },
          outwardIssue: { key: 'PAY-4' },
        },
        'c',
      ),
      linkOf(
        { type: { name: 'Relates', inward: 'relates to', outward: 'relates to' }, inwardIssue: { key: 'PAY-5' } },
        'c',
      ),
    ];

    // Assert
    expect(links).toEqual([
      { type: 'blocks', target: 'c:PAY-2' },
      { type: 'blocked_by', target: 'c:PAY-3' },
      { type: 'duplicates', target: 'c:PAY-4' },
      { type: 'relates', target: 'c:PAY-5' },
    ]);
  });

  it('picks the active sprint from an array, and reads legacy sprint strings', () => {
    // Act
    const current = iterationOf([
      { name: 'S1', state: 'closed', startDate: '2026-01-01T00:00:00.000Z', endDate: '2026-01-14T00:00:00.000Z' },
      { name: 'S2', state: 'active', startDate: '2026-01-15T00:00:00.000Z', endDate: '2026-01-28T00:00:00.000Z' },
    ]);
    const legacy = iterationOf([
      'com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=7,rapidViewId=8,state=CLOSED,name=EE Sprint 7,startDate=2020-06-12T00:38:51.882Z,endDate=2020-06-26T00:38:00.000Z,completeDate=<null>]',
    ]);

    // Assert
    expect([current, legacy]).toEqual([
      { name: 'S2', start: '2026-01-15T00:00:00.000Z', end: '2026-01-28T00:00:00.000Z' },
      { name: 'EE Sprint 7', start: '2020-06-12T00:38:51.882Z', end: '2020-06-26T00:38:00.000Z' },
    ]);
  });
});
