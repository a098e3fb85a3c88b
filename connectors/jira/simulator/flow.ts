// Seeds the Jira simulator with a flow portfolio (connectors/flow-portfolio.ts): epics and their
// stories in one project, each with the changelog its dates imply, so the changelog, the issue
// and every search agree.
import type { FlowPlannedItem } from '../../flow-portfolio.ts';
import { issueTypeJson, jiraTime, PEOPLE, STATUSES, statusJson, userJson } from './catalog.ts';
import type { JiraSimStore, SimHistory } from './store.ts';

export function seedFlowPortfolio(
  store: JiraSimStore,
  site: string,
  plan: readonly FlowPlannedItem[],
  project: string,
): Map<string, string> {
  const keys = new Map<string, string>();
  const issues = new Map<string, { id: string; key: string; fields: Record<string, unknown> }>();
  let n = 0;
  let historyId = 900_000;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  for (const p of plan) {
    const status = p.resolved !== null ? 'Done' : p.started !== null ? 'In Progress' : 'To Do';
    const who = PEOPLE[p.team % PEOPLE.length]!;
    const histories: SimHistory[] = [];
    const move = (at: number, from: string, to: string) =>
      histories.push({
        id: String(historyId++),
        created: jiraTime(at),
        author: who,
        items: [
          {
            field: 'status',
            fieldtype: 'jira',
            fieldId: 'status',
            from: STATUSES[from]!.id,
            fromString: from,
            to: STATUSES[to]!.id,
            toString: to,
          },
        ],
      });
    if (p.started !== null) move(p.started, 'To Do', 'In Progress');
    if (p.resolved !== null) move(p.resolved, 'In Progress', 'Done');
    const updated = Math.max(p.created, p.started ?? 0, p.resolved ?? 0);
    const fields: Record<string, unknown> = {
      summary: p.title,
      issuetype: issueTypeJson(p.kind === 'epic' ? 'Epic' : 'Story', site),
      status: statusJson(status, site),
      project: { self: `${site}/rest/api/3/project/${project}`, id: '10100', key: project, name: project },
      created: jiraTime(p.created),
      updated: jiraTime(updated),
      statuscategorychangedate: jiraTime(p.resolved ?? p.started ?? p.created),
      reporter: userJson(who, site),
      assignee: userJson(who, site),
      priority: { self: `${site}/rest/api/3/priority/3`, id: '3', name: 'Medium' },
      labels: [`team-${p.team + 1}`],
      resolutiondate: p.resolved === null ? null : jiraTime(p.resolved),
      duedate: p.due === null ? null : day(p.due),
      issuelinks: [],
      timetracking: {},
      customfield_10016: p.kind === 'story' ? p.points : null,
    };
    const parent = p.parent === null ? undefined : issues.get(p.parent);
    if (parent)
      fields.parent = {
        id: parent.id,
        key: parent.key,
        self: `${site}/rest/api/3/issue/${parent.id}`,
        fields: { summary: parent.fields.summary, status: parent.fields.status, issuetype: parent.fields.issuetype },
      };
    const issue = store.insertRaw({ key: `${project}-${++n}`, fields, histories });
    issues.set(p.id, issue);
    keys.set(p.id, issue.key);
  }
  return keys;
}
