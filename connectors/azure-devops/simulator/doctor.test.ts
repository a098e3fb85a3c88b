// The administration endpoints `pmo-sync doctor` reads, as the simulator answers them: Security's
// "has permissions by tokens" per namespace and token, the area root its CSS token names, fields
// and work item type fields, and subscription statuses the service set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMESPACES } from './doctor.ts';
import { type AdoSimulator, startAdoSimulator } from './index.ts';

const AUTH = { Authorization: `Basic ${Buffer.from(':a-pat').toString('base64')}` };

describe('the Azure DevOps simulator: administration for doctor', () => {
  let sim: AdoSimulator;
  const get = async (path: string) => {
    const res = await fetch(`${sim.url}/${path}`, { headers: AUTH });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const projectId = (name: string) => [...sim.store.projects.values()].find((p) => p.name === name)!.id;
  const areaToken = async (project: string) =>
    `vstfs:///Classification/Node/${(await get(`${project}/_apis/wit/classificationnodes/areas?api-version=7.1`)).body.identifier}`;

  beforeAll(async () => {
    sim = await startAdoSimulator();
    sim.addProject('Payments', 'Scrum');
    sim.addProject('Web', 'Agile');
  });
  afterAll(async () => {
    await sim.close();
  });

  it('answers one flag per token, false where a permission was denied in that project', async () => {
    sim.admin.denyPermission('edit work items', 'Payments');
    const tokens = [await areaToken('Payments'), await areaToken('Web')].join(',');

    const read = await get(
      `_apis/permissions/${NAMESPACES.css}/16?tokens=${encodeURIComponent(tokens)}&api-version=7.1`,
    );
    const write = await get(
      `_apis/permissions/${NAMESPACES.css}/32?tokens=${encodeURIComponent(tokens)}&api-version=7.1`,
    );
    const tags = await get(
      `_apis/permissions/${NAMESPACES.tagging}/2?tokens=/${projectId('Payments')}&api-version=7.1`,
    );

    expect([read.body, write.body, tags.body]).toEqual([
      { count: 2, value: [true, true] },
      { count: 2, value: [false, true] },
      { count: 1, value: [true] },
    ]);
    expect((await get(`_apis/permissions/${NAMESPACES.css}/16?api-version=7.1`)).status).toBe(400);
  });

  it('knows standard and added fields, and on which work item types an added field is', async () => {
    sim.admin.addField({ referenceName: 'Custom.PMOHealth', name: 'PMO health', types: ['Epic'] });
    const status = async (path: string) => (await get(`${path}?api-version=7.1`)).status;

    expect({
      standard: await status('_apis/wit/fields/System.Tags'),
      added: await status('_apis/wit/fields/Custom.PMOHealth'),
      unknown: await status('_apis/wit/fields/Custom.Nope'),
      onEpic: await status('Payments/_apis/wit/workitemtypes/Epic/fields/Custom.PMOHealth'),
      onFeature: await status('Payments/_apis/wit/workitemtypes/Feature/fields/Custom.PMOHealth'),
    }).toEqual({ standard: 200, added: 200, unknown: 404, onEpic: 200, onFeature: 404 });
  });

  it('shows the status the service gave a subscription', async () => {
    const [sub] = sim.subscribe({ url: 'https://pmo.example.com/hooks', eventTypes: ['workitem.updated'] });
    sim.admin.setSubscriptionStatus(sub!.id, 'disabledBySystem');

    const list = (await get('_apis/hooks/subscriptions?api-version=7.1')).body.value as {
      id: string;
      status: string;
    }[];

    expect(list.map((s) => ({ id: s.id, status: s.status }))).toEqual([{ id: sub!.id, status: 'disabledBySystem' }]);
  });
});
