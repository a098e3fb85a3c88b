// The Azure DevOps REST resources the connector calls, by location id (what the SDK's discovery
// resolves) with the route templates and versions the service advertises for them. The simulator
// serves the same table from OPTIONS `/_apis/{area}`.
export interface AdoLocation {
  id: string;
  area: 'wit' | 'Location' | 'hooks' | 'core';
  resourceName: string;
  routeTemplate: string;
  /** Version the connector asks for: the one azure-devops-node-api 17 asks for, known to work. */
  apiVersion: string;
  resourceVersion: number;
  maxVersion: string;
  releasedVersion: string;
}

const loc = (
  id: string,
  area: AdoLocation['area'],
  resourceName: string,
  routeTemplate: string,
  apiVersion: string,
  resourceVersion: number,
): AdoLocation => ({
  id,
  area,
  resourceName,
  routeTemplate,
  apiVersion,
  resourceVersion,
  maxVersion: '7.2',
  releasedVersion: '7.1',
});

export const LOCATIONS = {
  wiql: loc(
    '1a9c53f7-f243-4447-b110-35ef023636e4',
    'wit',
    'wiql',
    '{project}/{team}/_apis/{area}/{resource}',
    '7.1-preview.2',
    2,
  ),
  workItemsBatch: loc(
    '908509b6-4248-4475-a1cd-829139ba419f',
    'wit',
    'workitemsbatch',
    '{project}/_apis/{area}/{resource}',
    '7.1-preview.1',
    1,
  ),
  workItems: loc(
    '72c7ddf8-2cdc-4f60-90cd-ab71c14a399b',
    'wit',
    'workItems',
    '{project}/_apis/{area}/{resource}/{id}',
    '7.1-preview.3',
    3,
  ),
  comments: loc(
    '608aac0a-32e1-4493-a863-b9cf4566d257',
    'wit',
    'comments',
    '{project}/_apis/{area}/workItems/{workItemId}/{resource}/{commentId}',
    '7.1-preview.3',
    4,
  ),
  workItemTypes: loc(
    '7c8d7a76-4a09-43e8-b5df-bd792f4ac6aa',
    'wit',
    'workItemTypes',
    '{project}/_apis/{area}/{resource}/{type}',
    '7.1-preview.2',
    2,
  ),
  workItemTypeStates: loc(
    '7c9d7a76-4a09-43e8-b5df-bd792f4ac6aa',
    'wit',
    'states',
    '{project}/_apis/{area}/workitemtypes/{type}/{resource}',
    '7.1-preview.1',
    1,
  ),
  classificationNodes: loc(
    '5a172953-1b41-49d3-840a-33f79c3ce89f',
    'wit',
    'classificationNodes',
    '{project}/_apis/{area}/{resource}/{structureGroup}/{*path}',
    '7.1-preview.2',
    2,
  ),
  /** The reporting revisions stream: every revision past a watermark, for status histories. */
  reportingRevisions: loc(
    'f828fe59-dd87-495d-a17c-7a8d6211ca6c',
    'wit',
    'workItemRevisions',
    '{project}/_apis/{area}/reporting/{resource}',
    '7.1-preview.2',
    2,
  ),
  connectionData: loc(
    '00d9565f-ed9c-4a06-9a50-00e7896ccab4',
    'Location',
    'connectionData',
    '_apis/{resource}',
    '7.1-preview.1',
    1,
  ),
  resourceAreas: loc(
    'e81700f7-3be2-46de-8624-2eb35882fcaa',
    'Location',
    'resourceAreas',
    '_apis/{resource}/{areaId}',
    '7.1-preview.1',
    1,
  ),
  /** A project by name or id: service hook subscriptions are filtered by project id. */
  projects: loc('603fe2ac-9723-48b9-88ad-09305aa6c6e1', 'core', 'projects', '_apis/{resource}/{*projectId}', '7.1', 4),
  subscriptions: loc(
    'fc50d02a-849f-41fb-8af1-0a5216103269',
    'hooks',
    'subscriptions',
    '_apis/{area}/{resource}/{subscriptionId}',
    '7.1',
    1,
  ),
} as const satisfies Record<string, AdoLocation>;

/** Resource area ids of the areas we use (what `GET _apis/resourceAreas` lists). */
export const RESOURCE_AREAS = {
  wit: '5264459e-e5e0-4bd8-b118-0985e68a4ec5',
  Location: '00d9565f-ed9c-4a06-9a50-00e7896ccab4',
  hooks: '6c2b0933-3600-42ae-bf8b-93d4f7e83594',
  core: '79134c72-4a58-4b42-976c-04e7115f32bf',
} as const;

/** The body of OPTIONS `/_apis/{area}` for one area, as the location service answers it. */
export function areaLocations(area: AdoLocation['area']): { count: number; value: Omit<AdoLocation, 'apiVersion'>[] } {
  const value = Object.values(LOCATIONS)
    .filter((l) => l.area === area)
    .map(({ apiVersion: _v, ...l }) => ({ ...l, minVersion: '1.0' }));
  return { count: value.length, value };
}

/** The body of GET `/_apis/resourceAreas` for an organization served at `orgUrl`. */
export function resourceAreasBody(orgUrl: string) {
  const locationUrl = orgUrl.endsWith('/') ? orgUrl : `${orgUrl}/`;
  const value = Object.entries(RESOURCE_AREAS).map(([name, id]) => ({ id, name, locationUrl }));
  return { count: value.length, value };
}
