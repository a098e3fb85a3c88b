// The simulated site's field list (`GET /rest/api/3/field`): Jira's system fields plus the
// custom fields pmo-sync discovers (story points, start date, sprint, epic link) and two extras.
import { CUSTOM_FIELDS } from './catalog.ts';

const SYSTEM_FIELDS: { id: string; name: string; type: string; items?: string }[] = [
  { id: 'summary', name: 'Summary', type: 'string' },
  { id: 'issuetype', name: 'Issue Type', type: 'issuetype' },
  { id: 'status', name: 'Status', type: 'status' },
  { id: 'project', name: 'Project', type: 'project' },
  { id: 'created', name: 'Created', type: 'datetime' },
  { id: 'updated', name: 'Updated', type: 'datetime' },
  { id: 'assignee', name: 'Assignee', type: 'user' },
  { id: 'reporter', name: 'Reporter', type: 'user' },
  { id: 'priority', name: 'Priority', type: 'priority' },
  { id: 'labels', name: 'Labels', type: 'array', items: 'string' },
  { id: 'resolutiondate', name: 'Resolved', type: 'datetime' },
  { id: 'duedate', name: 'Due date', type: 'date' },
  { id: 'statuscategorychangedate', name: 'Status Category Changed', type: 'datetime' },
  { id: 'parent', name: 'Parent', type: 'issuelink' },
  { id: 'issuelinks', name: 'Linked Issues', type: 'array', items: 'issuelinks' },
  { id: 'timetracking', name: 'Time tracking', type: 'timetracking' },
];
export const KNOWN_FIELDS = new Set([...SYSTEM_FIELDS.map((f) => f.id), ...CUSTOM_FIELDS.map((f) => f.id)]);

export function fieldList() {
  return [
    ...SYSTEM_FIELDS.map((f) => ({
      id: f.id,
      key: f.id,
      name: f.name,
      custom: false,
      orderable: true,
      navigable: true,
      searchable: true,
      clauseNames: [f.id],
      schema: { type: f.type, system: f.id, ...(f.items ? { items: f.items } : {}) },
    })),
    ...CUSTOM_FIELDS.map((f) => {
      const n = Number(f.id.split('_')[1]);
      return {
        id: f.id,
        key: f.id,
        name: f.name,
        custom: true,
        orderable: true,
        navigable: true,
        searchable: true,
        clauseNames: [`cf[${n}]`, f.name],
        schema: { type: f.type, custom: f.custom, customId: n, ...(f.type === 'array' ? { items: 'json' } : {}) },
      };
    }),
  ];
}
