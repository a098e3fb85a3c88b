import { describe, expect, test } from 'vitest';
import type { WorkItem } from '../../src/core/work-item.ts';
import { type MapContext, toWorkItem } from './map.ts';
import { AdoWorkItem, AdoWorkItemList } from './schema.ts';
import { PROCESSES, type ProcessName } from './simulator/processes.ts';
import { adoConfig, fixture } from './testing.ts';

const jiraResolver: MapContext['resolveRef'] = ({ url, key }) => {
  if (url?.startsWith('https://acme.atlassian.net/browse/')) return `jira-main:${url.split('/').pop()}`;
  if (key && /^[A-Z]+-\d+$/.test(key)) return `jira-main:${key}`;
  return null;
};

function ctx(process: ProcessName, type: string, over: Partial<MapContext> = {}): MapContext {
  return {
    connectionId: 'ado',
    orgUrl: 'https://dev.azure.com/fabrikam',
    config: adoConfig(),
    resolveRef: jiraResolver,
    categories: new Map(PROCESSES[process].types[type]!.map((s) => [s.name, s.category])),
    ...over,
  };
}

type Example = { responses: { 200: { body: unknown } } };
const expandAll = AdoWorkItemList.parse(fixture<Example>('wit-workitems-expand-all.json').responses[200].body).value;

const base = (w: Partial<WorkItem> & { raw: unknown }): WorkItem => ({
  ref: '',
  connection: 'ado',
  tracker: 'azure-devops',
  key: '',
  project: 'Fabrikam-Fiber-Git',
  kind: 'story',
  type: '',
  title: '',
  status: '',
  statusCategory: 'todo',
  assignee: null,
  owner: null,
  priority: null,
  labels: [],
  created: '',
  updated: '',
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
  url: '',
  revision: '',
  ...w,
});

describe("Microsoft's $expand=all example (Scrum)", () => {
  test('the Product Backlog Item maps with Effort as points and its attachments ignored', () => {
    // Arrange
    const raw = expandAll[0]!;
    // Act
    const item = toWorkItem(raw, ctx('Scrum', 'Product Backlog Item'));
    // Assert
    expect(item).toEqual(
      base({
        ref: 'ado:297',
        key: '297',
        kind: 'story',
        type: 'Product Backlog Item',
        title: 'Customer can sign in using their Microsoft Account',
        status: 'New',
        statusCategory: 'todo',
        created: '2014-12-29T20:49:20.770Z',
        updated: '2014-12-29T20:49:20.770Z',
        points: 8,
        url: 'https://dev.azure.com/fabrikam/Fabrikam-Fiber-Git/_workitems/edit/297',
        revision: '0000000001',
        raw,
      }),
    );
  });

  test('a Task maps parent, related link, tags, string assignee and remaining work', () => {
    // Arrange
    const raw = expandAll[1]!;
    // Act
    const item = toWorkItem(raw, ctx('Scrum', 'Task'));
    // Assert
    expect(item).toEqual(
      base({
        ref: 'ado:299',
        key: '299',
        kind: 'task',
        type: 'Task',
        title: 'JavaScript implementation for Microsoft Account',
        status: 'To Do',
        statusCategory: 'todo',
        assignee: { id: 'fabrikamfiber2@hotmail.com', name: 'Johnnie McLeod' },
        owner: { id: 'fabrikamfiber2@hotmail.com', name: 'Johnnie McLeod' },
        labels: ['Tag1', 'Tag2'],
        created: '2014-12-29T20:49:21.617Z',
        updated: '2014-12-29T20:49:28.740Z',
        remainingHours: 4,
        parent: 'ado:297',
        links: [{ type: 'relates', target: 'ado:300' }],
        url: 'https://dev.azure.com/fabrikam/Fabrikam-Fiber-Git/_workitems/edit/299',
        revision: '0000000007',
        raw,
      }),
    );
  });
});

test("Microsoft's workitemsbatch example (fields subset) maps what it has and nulls the rest", () => {
  // Arrange
  const body = fixture<Example>('wit-workitemsbatch.json').responses[200].body;
  const raw = AdoWorkItemList.parse(body).value[2]!;
  // Act
  const item = toWorkItem(raw, ctx('Scrum', 'Task'));
  // Assert
  expect(item).toEqual(
    base({
      ref: 'ado:300',
      key: '300',
      project: '',
      kind: 'task',
      type: 'Task',
      title: 'Unit Testing for MSA login',
      remainingHours: 3,
      url: 'https://dev.azure.com/fabrikam//_workitems/edit/300',
      revision: '0000000001',
      raw,
    }),
  );
});

test("Microsoft's update example (PATCH guarded by test /rev) maps the returned revision", () => {
  // Arrange
  const body = fixture<Example>('wit-patch-test-rev.json').responses[200].body;
  const raw = AdoWorkItem.parse(body);
  // Act
  const item = toWorkItem(raw, ctx('Scrum', 'Task'));
  // Assert
  expect({ key: item.key, revision: item.revision, title: item.title, status: item.status }).toEqual({
    key: '299',
    revision: '0000000002',
    title: String(raw.fields['System.Title']),
    status: String(raw.fields['System.State']),
  });
});

describe('every process template', () => {
  const fields = (type: string, state: string, extra: Record<string, unknown>) => ({
    'System.TeamProject': 'Payments',
    'System.WorkItemType': type,
    'System.State': state,
    'System.Title': `${type} example`,
    'System.CreatedDate': '2026-03-01T10:00:00Z',
    'System.ChangedDate': '2026-03-02T10:00:00.123Z',
    'System.IterationPath': 'Payments\\Sprint 4',
    'System.AssignedTo': { displayName: 'Ada Lovelace', uniqueName: 'ada@example.com', id: 'a1' },
    'Microsoft.VSTS.Common.Priority': 2,
    ...extra,
  });
  const expected = (over: Partial<WorkItem> & { raw: unknown }) =>
    base({
      ref: 'ado:42',
      key: '42',
      project: 'Payments',
      priority: '2',
      assignee: { id: 'ada@example.com', name: 'Ada Lovelace' },
      owner: { id: 'ada@example.com', name: 'Ada Lovelace' },
      created: '2026-03-01T10:00:00.000Z',
      updated: '2026-03-02T10:00:00.123Z',
      iteration: { name: 'Payments\\Sprint 4', start: null, end: null },
      url: 'https://dev.azure.com/fabrikam/Payments/_workitems/edit/42',
      revision: '0000000003',
      ...over,
    });

  test.each([
    ['Agile', 'User Story', 'Active', { 'Microsoft.VSTS.Scheduling.StoryPoints': 5 }, 'story', 'in_progress', 5],
    ['Scrum', 'Product Backlog Item', 'Done', { 'Microsoft.VSTS.Scheduling.Effort': 3 }, 'story', 'done', 3],
    ['CMMI', 'Requirement', 'Resolved', { 'Microsoft.VSTS.Scheduling.Size': 13 }, 'story', 'done', 13],
    ['CMMI', 'Risk', 'Proposed', {}, 'risk', 'todo', null],
    ['Basic', 'Issue', 'Doing', { 'Microsoft.VSTS.Scheduling.Effort': 2 }, 'story', 'in_progress', 2],
    ['Agile', 'Epic', 'Removed', {}, 'epic', 'removed', null],
  ] as const)('%s %s in state %s', (process, type, state, extra, kind, statusCategory, points) => {
    // Arrange
    const raw = AdoWorkItem.parse({ id: 42, rev: 3, fields: fields(type, state, extra) });
    // Act
    const item = toWorkItem(raw, ctx(process, type));
    // Assert
    expect(item).toEqual(
      expected({ kind, type, title: `${type} example`, status: state, statusCategory, points, raw }),
    );
  });

  test('typeMap overrides the default kind, and dependency, hyperlink and field links resolve', () => {
    // Arrange
    const raw = AdoWorkItem.parse({
      id: 42,
      rev: 3,
      fields: fields('Issue', 'Active', { 'System.Parent': 7, 'Custom.JiraKey': 'PAY-12' }),
      relations: [
        { rel: 'System.LinkTypes.Dependency-Reverse', url: 'https://dev.azure.com/fabrikam/_apis/wit/workItems/8' },
        { rel: 'System.LinkTypes.Dependency-Forward', url: 'https://dev.azure.com/fabrikam/_apis/wit/workItems/9' },
        { rel: 'Hyperlink', url: 'https://acme.atlassian.net/browse/WEB-3' },
      ],
    });
    const c = ctx('CMMI', 'Issue', {
      config: adoConfig({ typeMap: { Issue: 'other' }, fields: { crossTracker: 'Custom.JiraKey' } }),
    });
    // Act
    const item = toWorkItem(raw, c);
    // Assert
    expect(item).toEqual(
      expected({
        kind: 'other',
        type: 'Issue',
        title: 'Issue example',
        status: 'Active',
        statusCategory: 'in_progress',
        parent: 'ado:7',
        links: [
          { type: 'depends_on', target: 'ado:8' },
          { type: 'blocks', target: 'ado:9' },
          { type: 'cross_tracker', target: 'jira-main:WEB-3', relation: null },
          { type: 'cross_tracker', target: 'jira-main:PAY-12', relation: null },
        ],
        fields: { crossTracker: 'PAY-12' },
        raw,
      }),
    );
  });
});

test("faros-airbyte's work items (Fabrikam, Scrum) all normalize with their project and type", () => {
  // Arrange
  const list = AdoWorkItemList.parse(fixture('faros-workitems.json')).value.filter((w) => w !== null);
  // Act
  const items = list.map((raw) => toWorkItem(raw, ctx('Scrum', String(raw.fields['System.WorkItemType']))));
  // Assert
  expect(items.map((i) => [i.ref, i.kind, i.statusCategory, i.parent])).toEqual(
    list.map((raw) => [
      `ado:${raw.id}`,
      raw.fields['System.WorkItemType'] === 'Task' ? 'task' : 'story',
      'todo',
      null, // this trimmed capture carries no relations
    ]),
  );
});

describe('service hook payload resources (Microsoft receiver test messages)', () => {
  const hookResource = (file: string, pick: (r: Record<string, unknown>) => unknown) =>
    AdoWorkItem.parse(pick(fixture<{ resource: Record<string, unknown> }>(file).resource));

  test.each(['Agile', 'Scrum'] as const)('the workitem.created Bug maps under %s', (process) => {
    // Arrange
    const raw = hookResource('hook-workitem.created.json', (r) => r);
    // Act
    const item = toWorkItem(raw, ctx(process, 'Bug'));
    // Assert
    expect(item).toEqual(
      base({
        ref: 'ado:5',
        key: '5',
        project: 'GoodCompanyCloud',
        kind: 'bug',
        type: 'Bug',
        title: 'Some great new idea!',
        status: 'New',
        statusCategory: 'todo',
        created: '2014-07-15T17:42:44.663Z',
        updated: '2014-07-15T17:42:44.663Z',
        iteration: { name: 'GoodCompanyCloud\\Release 1\\Sprint 1', start: null, end: null },
        url: 'https://dev.azure.com/fabrikam/GoodCompanyCloud/_workitems/edit/5',
        revision: '0000000001',
        raw,
      }),
    );
  });

  test('the workitem.updated revision maps to the state the Bug had at that revision', () => {
    // Arrange
    const raw = hookResource('hook-workitem.updated.json', (r) => r.revision);
    // Act
    const item = toWorkItem(raw, ctx('CMMI', 'Bug', { categories: new Map([['New', 'Proposed']]) }));
    // Assert
    expect({
      key: item.key,
      revision: item.revision,
      status: item.status,
      statusCategory: item.statusCategory,
    }).toEqual({
      key: '5',
      revision: '0000000002',
      status: 'New',
      statusCategory: 'todo',
    });
  });
});
