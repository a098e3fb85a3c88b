// Every endpoint the connector uses answers, in the simulator, what Atlassian's OpenAPI spec says
// it answers (response schemas copied into __fixtures__/openapi-subset.json, see PROVENANCE.md).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JiraSimulator, startJiraSimulator } from './index.ts';
import { checkAgainst, type OpenApiSubset } from './openapi-check.ts';

const spec = JSON.parse(
  readFileSync(new URL('../__fixtures__/openapi-subset.json', import.meta.url), 'utf8'),
) as OpenApiSubset;
const AUTH = {
  Authorization: `Basic ${Buffer.from('bot@acme.test:token').toString('base64')}`,
  'Content-Type': 'application/json',
};

describe('simulator responses match the Jira Cloud OpenAPI spec', () => {
  let sim: JiraSimulator;

  beforeAll(async () => {
    sim = await startJiraSimulator();
    sim.seedPortfolio({ epics: 2, storiesPerEpic: 3, subtasksPerStory: 1, bugsPerEpic: 1, seed: 5 });
    sim.seedFromDevlake();
    sim.store.addComment('PAY-2', { type: 'doc', version: 1, content: [] });
  });
  afterAll(async () => {
    await sim.close();
  });

  const calls: [string, string, string, unknown][] = [
    [
      'GET /rest/api/3/search/jql',
      'GET',
      '/rest/api/3/search/jql?jql=project%20%3D%20PAY%20ORDER%20BY%20key&maxResults=3&fields=summary,status,customfield_10020',
      undefined,
    ],
    [
      'POST /rest/api/3/search/jql',
      'POST',
      '/rest/api/3/search/jql',
      { jql: 'project in (PAY, EE)', fields: ['*all'], maxResults: 100 },
    ],
    [
      'POST /rest/api/3/search/jql',
      'POST',
      '/rest/api/3/search/jql',
      { jql: 'project = PAY', fields: ['id'], maxResults: 5000 },
    ],
    [
      'POST /rest/api/3/search/approximate-count',
      'POST',
      '/rest/api/3/search/approximate-count',
      { jql: 'project = PAY' },
    ],
    ['GET /rest/api/3/issue/{issueIdOrKey}', 'GET', '/rest/api/3/issue/PAY-2', undefined],
    ['GET /rest/api/3/issue/{issueIdOrKey}', 'GET', '/rest/api/3/issue/EE-25', undefined],
    [
      'POST /rest/api/3/issue/bulkfetch',
      'POST',
      '/rest/api/3/issue/bulkfetch',
      { issueIdsOrKeys: ['PAY-1', 'PAY-2', 'K5-2'], fields: ['summary', 'parent'] },
    ],
    [
      'POST /rest/api/3/changelog/bulkfetch',
      'POST',
      '/rest/api/3/changelog/bulkfetch',
      { issueIdsOrKeys: ['PAY-1', 'PAY-2', 'EE-1'], fieldIds: ['status'] },
    ],
    ['GET /rest/api/3/issue/{issueIdOrKey}/comment', 'GET', '/rest/api/3/issue/PAY-2/comment', undefined],
    [
      'POST /rest/api/3/issue/{issueIdOrKey}/comment',
      'POST',
      '/rest/api/3/issue/PAY-2/comment',
      { body: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text: 'hi' }] }] } },
    ],
    ['GET /rest/api/3/field', 'GET', '/rest/api/3/field', undefined],
    ['GET /rest/api/3/myself', 'GET', '/rest/api/3/myself', undefined],
  ];

  it.each(calls)('%s (%s %s)', async (operation, method, path, body) => {
    // Act
    const res = await fetch(`${sim.url}${path}`, {
      method,
      headers: AUTH,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();

    // Assert
    expect({ status: res.status, errors: checkAgainst(spec, spec.operations[operation]!.schema, json) }).toEqual({
      status: spec.operations[operation]!.status,
      errors: [],
    });
  });

  it("answers a board's configuration and its filter as the Jira Software and platform specs say", async () => {
    // Arrange
    const boards = JSON.parse(
      readFileSync(new URL('../__fixtures__/openapi-boards.json', import.meta.url), 'utf8'),
    ) as OpenApiSubset;
    const board = sim.store.addBoard({ name: 'Payments', jql: 'project = PAY ORDER BY Rank ASC', type: 'kanban' });

    // Act
    const config = await fetch(`${sim.url}/rest/agile/1.0/board/${board.id}/configuration`, { headers: AUTH });
    const filter = await fetch(`${sim.url}/rest/api/3/filter/${board.filterId}`, { headers: AUTH });
    const missing = await fetch(`${sim.url}/rest/agile/1.0/board/999/configuration`, { headers: AUTH });

    // Assert
    const op = (name: string) => boards.operations[name]!.schema;
    expect({
      status: [config.status, filter.status, missing.status],
      config: checkAgainst(boards, op('GET /rest/agile/1.0/board/{boardId}/configuration'), await config.json()),
      filter: checkAgainst(boards, op('GET /rest/api/3/filter/{id}'), await filter.json()),
    }).toEqual({ status: [200, 200, 404], config: [], filter: [] });
  });

  it('GET and PUT one comment', async () => {
    // Arrange
    const commentId = sim.store.addComment('PAY-3', { type: 'doc', version: 1, content: [] }).id;

    // Act
    const got = await fetch(`${sim.url}/rest/api/3/issue/PAY-3/comment/${commentId}`, { headers: AUTH });
    const put = await fetch(`${sim.url}/rest/api/3/issue/PAY-3/comment/${commentId}`, {
      method: 'PUT',
      headers: AUTH,
      body: JSON.stringify({ body: { type: 'doc', version: 1, content: [] } }),
    });

    // Assert
    expect([
      checkAgainst(
        spec,
        spec.operations['GET /rest/api/3/issue/{issueIdOrKey}/comment/{id}']!.schema,
        await got.json(),
      ),
      checkAgainst(
        spec,
        spec.operations['PUT /rest/api/3/issue/{issueIdOrKey}/comment/{id}']!.schema,
        await put.json(),
      ),
    ]).toEqual([[], []]);
  });

  it('PUT issue and DELETE comment answer 204 with no body', async () => {
    // Arrange
    const commentId = sim.store.addComment('PAY-4', { type: 'doc', version: 1, content: [] }).id;

    // Act
    const edit = await fetch(`${sim.url}/rest/api/3/issue/PAY-2`, {
      method: 'PUT',
      headers: AUTH,
      body: JSON.stringify({ update: { labels: [{ add: 'pmo' }] } }),
    });
    const del = await fetch(`${sim.url}/rest/api/3/issue/PAY-4/comment/${commentId}`, {
      method: 'DELETE',
      headers: AUTH,
    });

    // Assert
    expect([edit.status, await edit.text(), del.status, await del.text()]).toEqual([204, '', 204, '']);
  });

  it('the validator catches what the spec forbids', () => {
    // Act
    const errors = checkAgainst(spec, spec.operations['POST /rest/api/3/search/jql']!.schema, {
      issues: [{ id: 1, surprise: true }],
      total: 3,
    });

    // Assert
    expect(errors).toEqual([
      '$.issues[0].id: number where string is expected',
      '$.issues[0].surprise: not in the schema (additionalProperties: false)',
      '$.total: not in the schema (additionalProperties: false)',
    ]);
  });
});
