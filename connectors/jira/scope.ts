// Whether Jira items belong to the connection's scope. A `projects` scope: the issue's project
// key, name or id (JQL's `project in (…)` accepts each). A JQL scope: the tracker answers, by
// searching `(<scope JQL>) AND key in (…)` for the items' keys.

import type { WorkItem } from '../../src/core/work-item.ts';
import { byKeys, byProjects } from '../scope.ts';
import type { ScopeCheck } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { JiraApi } from './client.ts';
import type { JiraConnection } from './config.ts';
import { scopeJql } from './read.ts';
import { JiraKeyPage } from './schema.ts';

/** Keys per membership search: a JQL of 100 quoted keys stays far below Jira's length limit. */
const KEYS_PER_QUERY = 100;

function projectOf(item: WorkItem): (string | undefined)[] {
  const raw = item.raw as { fields?: { project?: { key?: unknown; name?: unknown; id?: unknown } } } | null;
  const p = raw?.fields?.project;
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  return [item.project, text(p?.key), text(p?.name), text(p?.id)];
}

/** The JQL that answers which of `keys` are in the scope. */
export function membershipJql(scope: JiraConnection['scope'], keys: readonly string[]): string {
  return `${scopeJql(scope)} AND key in (${keys.map((k) => JSON.stringify(k)).join(', ')})`;
}

export function createJiraScopeCheck(deps: { api: JiraApi; config: JiraConnection }) {
  const { api, config } = deps;
  return async function checkScope(items: WorkItem[], opts?: { viaScopeQuery?: boolean }): Promise<ScopeCheck> {
    const scope = config.scope;
    if ('projects' in scope) return byProjects(items, scope.projects, projectOf);
    if (opts?.viaScopeQuery || items.length === 0) return { inScope: [...items], outOfScope: [] };
    const found = new Set<string>();
    const keys = [...new Set(items.map((i) => i.key))];
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      let token: string | undefined;
      do {
        const page = validateReply(
          JiraKeyPage,
          await api.issueSearch.searchAndReconsileIssuesUsingJqlPost({
            jql: membershipJql(scope, chunk),
            fields: ['id'],
            maxResults: KEYS_PER_QUERY,
            nextPageToken: token,
          }),
          'POST search/jql',
          { tracker: 'jira', connection: config.id },
        );
        for (const issue of page.issues) found.add(issue.key);
        token = page.nextPageToken ?? undefined;
      } while (token);
    }
    return byKeys(items, found);
  };
}
