// What the simulated Jira site has: its users, statuses, issue types and custom fields, and the
// JSON shapes Jira uses for them, shared by the store, the server and the generator.
import type { SimUser } from './model.ts';

export const BOT_USER: SimUser = {
  accountId: '5b10a2844c20165700ede21g',
  displayName: 'pmo-sync bot',
  emailAddress: 'pmo-sync@example.com',
};
export const PEOPLE: SimUser[] = [
  { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Mia Krystof' },
  { accountId: '5b109f2e9729b51b54dc274d', displayName: 'Emma Richards' },
  { accountId: '5b10a0effa615349cb016cd8', displayName: 'Kai Tanaka' },
  { accountId: '5b10ac8d82e05b22cc7d4ef6', displayName: 'Zhang Wei' },
  { accountId: '5b10ac8d82e05b22cc7d4ef7', displayName: 'Priya Nair' },
];

export const STATUSES: Record<
  string,
  { id: string; category: 'new' | 'indeterminate' | 'done'; categoryId: number; categoryName: string }
> = {
  'To Do': { id: '10000', category: 'new', categoryId: 2, categoryName: 'To Do' },
  'In Progress': { id: '3', category: 'indeterminate', categoryId: 4, categoryName: 'In Progress' },
  'In Review': { id: '10001', category: 'indeterminate', categoryId: 4, categoryName: 'In Progress' },
  Done: { id: '10002', category: 'done', categoryId: 3, categoryName: 'Done' },
};

export const ISSUE_TYPES: Record<string, { id: string; hierarchyLevel: number; subtask: boolean }> = {
  Epic: { id: '10000', hierarchyLevel: 1, subtask: false },
  Story: { id: '10001', hierarchyLevel: 0, subtask: false },
  Task: { id: '10002', hierarchyLevel: 0, subtask: false },
  Bug: { id: '10004', hierarchyLevel: 0, subtask: false },
  Risk: { id: '10005', hierarchyLevel: 0, subtask: false },
  'Sub-task': { id: '10003', hierarchyLevel: -1, subtask: true },
};

/** Custom fields the simulated site has, so field discovery has something real to find. */
export const CUSTOM_FIELDS = [
  { id: 'customfield_10014', name: 'Epic Link', custom: 'com.pyxis.greenhopper.jira:gh-epic-link', type: 'any' },
  {
    id: 'customfield_10015',
    name: 'Start date',
    custom: 'com.atlassian.jpo:jpo-custom-field-baseline-start',
    type: 'date',
  },
  {
    id: 'customfield_10016',
    name: 'Story point estimate',
    custom: 'com.pyxis.greenhopper.jira:jsw-story-points',
    type: 'number',
  },
  { id: 'customfield_10020', name: 'Sprint', custom: 'com.pyxis.greenhopper.jira:gh-sprint', type: 'array' },
  {
    id: 'customfield_10100',
    name: 'Acceptance criteria',
    custom: 'com.atlassian.jira.plugin.system.customfieldtypes:textarea',
    type: 'string',
  },
  {
    id: 'customfield_10200',
    name: 'Gate approved',
    custom: 'com.atlassian.jira.plugin.system.customfieldtypes:select',
    type: 'option',
  },
  {
    id: 'customfield_10300',
    name: 'Depends on (Azure DevOps)',
    custom: 'com.atlassian.jira.plugin.system.customfieldtypes:url',
    type: 'string',
  },
  // Where write-back puts the completion forecast (issue 26).
  {
    id: 'customfield_10400',
    name: 'Forecast P85',
    custom: 'com.atlassian.jira.plugin.system.customfieldtypes:datepicker',
    type: 'date',
  },
  {
    id: 'customfield_10401',
    name: 'On-time probability',
    custom: 'com.atlassian.jira.plugin.system.customfieldtypes:float',
    type: 'number',
  },
];

/** Jira's timestamp format: `2026-11-21T09:15:02.123+0000`. */
export function jiraTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export function userJson(u: SimUser, site: string) {
  return {
    self: `${site}/rest/api/3/user?accountId=${u.accountId}`,
    accountId: u.accountId,
    displayName: u.displayName,
    active: true,
    timeZone: 'Etc/UTC',
    accountType: 'atlassian',
  };
}

export function statusJson(name: string, site: string) {
  const s = STATUSES[name];
  if (!s) throw new Error(`unknown status ${name}`);
  return {
    self: `${site}/rest/api/3/status/${s.id}`,
    id: s.id,
    name,
    statusCategory: {
      self: `${site}/rest/api/3/statuscategory/${s.categoryId}`,
      id: s.categoryId,
      key: s.category,
      name: s.categoryName,
    },
  };
}

export function issueTypeJson(name: string, site: string) {
  const t = ISSUE_TYPES[name];
  if (!t) throw new Error(`unknown issue type ${name}`);
  return {
    self: `${site}/rest/api/3/issuetype/${t.id}`,
    id: t.id,
    name,
    subtask: t.subtask,
    hierarchyLevel: t.hierarchyLevel,
  };
}

export const LINK_TYPES: Record<string, { id: string; inward: string; outward: string }> = {
  Blocks: { id: '10000', inward: 'is blocked by', outward: 'blocks' },
  Duplicate: { id: '10002', inward: 'is duplicated by', outward: 'duplicates' },
  Relates: { id: '10003', inward: 'relates to', outward: 'relates to' },
};
