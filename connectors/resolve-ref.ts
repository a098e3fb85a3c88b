// Resolves cross-tracker pointers to refs from the configured connections, so a Jira issue's
// link to an Azure DevOps work item (and back) becomes an edge of one dependency graph.

import { makeRef } from '../src/core/work-item.ts';
import type { Connection } from './config.ts';
import type { RefResolver } from './types.ts';

const JIRA_KEY = /^[A-Z][A-Z0-9_]+-\d+$/;

export function createRefResolver(connections: readonly Connection[]): RefResolver {
  const jira = connections.filter((c) => c.kind === 'jira');
  const ado = connections.filter((c) => c.kind === 'azure-devops');
  const hostOf = (u: string) => {
    try {
      return new URL(u).host.toLowerCase();
    } catch {
      return null;
    }
  };
  const jiraForProject = (key: string) => {
    const project = key.split('-')[0]!;
    const inScope = jira.filter((c) => 'projects' in c.scope && c.scope.projects.includes(project));
    if (inScope.length === 1) return inScope[0]!;
    return jira.length === 1 ? jira[0]! : null;
  };

  return ({ tracker, url, key }) => {
    if (url) {
      const host = hostOf(url);
      if (!host) return null;
      const browse = /\/browse\/([A-Z][A-Z0-9_]+-\d+)/.exec(url);
      if (browse) {
        const conn = jira.find((c) => hostOf(c.baseUrl) === host);
        return conn ? makeRef(conn.id, browse[1]!) : null;
      }
      // dev.azure.com/{org}/{project}/_workitems/edit/{id} or …/_apis/wit/workItems/{id}
      const adoId = /\/_workitems\/edit\/(\d+)|\/_apis\/wit\/workitems\/(\d+)/i.exec(url);
      if (adoId) {
        const id = adoId[1] ?? adoId[2]!;
        const path = new URL(url).pathname.toLowerCase();
        const conn = ado.find((c) => {
          const org = new URL(c.orgUrl);
          return org.host.toLowerCase() === host && path.startsWith(org.pathname.toLowerCase().replace(/\/$/, ''));
        });
        return conn ? makeRef(conn.id, id) : null;
      }
      return null;
    }
    if (!key) return null;
    if ((tracker === 'jira' || tracker === undefined) && JIRA_KEY.test(key)) {
      const conn = jiraForProject(key);
      return conn ? makeRef(conn.id, key) : null;
    }
    if ((tracker === 'azure-devops' || tracker === undefined) && /^\d+$/.test(key) && ado.length === 1) {
      return makeRef(ado[0]!.id, key);
    }
    return null;
  };
}
