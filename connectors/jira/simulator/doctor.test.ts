// The administration endpoints `pmo-sync doctor` reads answer, in the simulator, what Atlassian's
// OpenAPI spec says they answer (schemas in __fixtures__/openapi-doctor.json, see PROVENANCE.md),
// and the knobs a test turns change the answers the way the real site would.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JiraSimulator, startJiraSimulator } from './index.ts';
import { checkAgainst, type OpenApiSubset } from './openapi-check.ts';

const spec = JSON.parse(
  readFileSync(new URL('../__fixtures__/openapi-doctor.json', import.meta.url), 'utf8'),
) as OpenApiSubset;
const AUTH = { Authorization: `Basic ${Buffer.from('bot@acme.test:token').toString('base64')}` };

describe('the Jira simulator: administration for doctor', () => {
  let sim: JiraSimulator;
  const get = async (path: string) => {
    const res = await fetch(`${sim.url}${path}`, { headers: AUTH });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    sim = await startJiraSimulator();
    sim.seedPortfolio({ projects: ['PAY'], epics: 1, storiesPerEpic: 1, bugsPerEpic: 0, seed: 7 });
  });
  afterAll(async () => {
    await sim.close();
  });

  for (const [operation, path] of [
    [
      'GET /rest/api/3/mypermissions',
      '/rest/api/3/mypermissions?projectKey=PAY&permissions=BROWSE_PROJECTS,ADMINISTER',
    ],
    ['GET /rest/api/3/project/{projectIdOrKey}', '/rest/api/3/project/PAY'],
    ['GET /rest/api/3/issue/{issueIdOrKey}/editmeta', '/rest/api/3/issue/PAY-1/editmeta'],
  ] as const) {
    it(`${operation} matches the spec`, async () => {
      const r = await get(path);
      expect(r.status).toBe(spec.operations[operation]!.status);
      expect(checkAgainst(spec, spec.operations[operation]!.schema, r.body)).toEqual([]);
    });
  }

  it('answers a revoked permission false in its project only, and asks for the permissions parameter', async () => {
    sim.admin.addProject('WEB');
    sim.admin.revokePermission('ADD_COMMENTS', 'PAY');
    const have = async (project: string) =>
      (
        (await get(`/rest/api/3/mypermissions?projectKey=${project}&permissions=ADD_COMMENTS`)).body.permissions as {
          ADD_COMMENTS: { havePermission: boolean };
        }
      ).ADD_COMMENTS.havePermission;

    expect({ PAY: await have('PAY'), WEB: await have('WEB') }).toEqual({ PAY: false, WEB: true });
    expect((await get('/rest/api/3/mypermissions')).status).toBe(400);
    expect((await get('/rest/api/3/project/NOPE')).status).toBe(404);
  });

  it('lists added fields and leaves hidden ones off the edit screen of their project', async () => {
    sim.admin.addField({ id: 'customfield_12346', name: 'PMO health' });
    sim.admin.hideFromEditScreen('customfield_12346', 'PAY');

    const fields = (await (await fetch(`${sim.url}/rest/api/3/field`, { headers: AUTH })).json()) as { id: string }[];
    const meta = (await get('/rest/api/3/issue/PAY-1/editmeta')).body.fields as Record<string, unknown>;

    expect(fields.some((f) => f.id === 'customfield_12346')).toBe(true);
    expect({ health: 'customfield_12346' in meta, labels: 'labels' in meta, status: 'status' in meta }).toEqual({
      health: false,
      labels: true,
      status: false,
    });
  });
});
