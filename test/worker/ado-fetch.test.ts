// The fetch-based Azure DevOps transport (connectors/azure-devops/fetch) in Node: it builds the
// same URLs and negotiates the same api-versions as azure-devops-node-api for every location the
// connector calls, and talks to the simulator with discovery cached per area.
import { VsoClient } from 'azure-devops-node-api/VsoClient';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchTransport, fillRoute, negotiateVersion } from '../../connectors/azure-devops/fetch/transport.ts';
import { LOCATIONS } from '../../connectors/azure-devops/locations.ts';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';

const ROUTE_VALUES = {
  project: 'Payments',
  team: '',
  workItemId: 12,
  commentId: 7,
  id: 12,
  type: 'User Story',
  structureGroup: 'iterations',
  path: 'Sprint 1',
  areaId: '5264459e-e5e0-4bd8-b118-0985e68a4ec5',
  subscriptionId: 'abc',
};

describe('fetch transport matches azure-devops-node-api', () => {
  // The two helpers are protected in the SDK's types; the test calls them as the SDK does.
  const sdk = new VsoClient('https://dev.azure.com/acme', null as never) as unknown as {
    getRequestUrl(t: string, area: string, resource: string, values: Record<string, string>, q: undefined): string;
    autoNegotiateApiVersion(location: unknown, requested: string): string;
  };

  it('fills every route template the connector uses the same way', () => {
    const ours = Object.values(LOCATIONS).map((l) =>
      fillRoute(l.routeTemplate, { area: l.area, resource: l.resourceName, ...strings(ROUTE_VALUES) }),
    );
    const theirs = Object.values(LOCATIONS).map((l) =>
      sdk.getRequestUrl(l.routeTemplate, l.area, l.resourceName, { ...strings(ROUTE_VALUES) }, undefined),
    );
    expect(ours.map((p) => `https://dev.azure.com/acme/${p}`)).toEqual(theirs);
  });

  it('negotiates the same api-version for every location and some versions it does not support', () => {
    for (const l of Object.values(LOCATIONS)) {
      for (const asked of [l.apiVersion, '7.2-preview.9', '8.0', '5.0', '7.1']) {
        expect([l.id, asked, negotiateVersion(l, asked)]).toEqual([l.id, asked, sdk.autoNegotiateApiVersion(l, asked)]);
      }
    }
  });
});

describe('fetch transport against the simulator', () => {
  let sim: AdoSimulator;
  let ids: number[];
  beforeAll(async () => {
    sim = await startAdoSimulator();
    sim.addProject('Payments', 'Agile');
    ids = sim.seedPortfolio({
      process: 'Agile',
      project: 'Payments',
      epics: 1,
      featuresPerEpic: 1,
      storiesPerFeature: 2,
      seed: 3,
    }).ids;
  });
  afterAll(async () => {
    await sim.close();
  });

  it('discovers once per area, queries and reads work items, and hands a 404 back as is', async () => {
    const requests: string[] = [];
    const send = createFetchTransport({ orgUrl: sim.url, pat: 'any-pat-0001', onRequest: (e) => requests.push(e) });
    const l = LOCATIONS;
    const wiql = await send({
      method: 'POST',
      area: 'wit',
      locationId: l.wiql.id,
      apiVersion: l.wiql.apiVersion,
      routeValues: { project: 'Payments' },
      query: { $top: 100 },
      body: { query: 'Select [System.Id] From WorkItems Order By [System.Id]' },
    });
    const batch = await send({
      method: 'POST',
      area: 'wit',
      locationId: l.workItemsBatch.id,
      apiVersion: l.workItemsBatch.apiVersion,
      body: { ids: ids.slice(0, 2), $expand: 'Relations', errorPolicy: 'Omit' },
    });
    const missing = await send({
      method: 'GET',
      area: 'wit',
      locationId: l.workItems.id,
      apiVersion: l.workItems.apiVersion,
      routeValues: { id: 999_999 },
    });
    expect({
      wiql: [wiql.status, (JSON.parse(wiql.text) as { workItems: { id: number }[] }).workItems.map((w) => w.id)],
      batch: [batch.status, (JSON.parse(batch.text) as { value: { id: number }[] }).value.map((w) => w.id)],
      missing: missing.status,
      requests,
    }).toEqual({
      wiql: [200, ids],
      batch: [200, ids.slice(0, 2)],
      missing: 404,
      requests: ['OPTIONS wit', 'POST wit/wiql', 'POST wit/workitemsbatch', 'GET wit/workitems/{id}'],
    });
  });
});

function strings(o: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}
