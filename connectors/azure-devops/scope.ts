// Whether Azure DevOps work items belong to the connection's scope. Service hooks are registered
// per project, but a hook made by hand or by an older pmo-sync may be org-wide, and re-reads by
// id return items of any project: each item is checked. A `projects` scope: the item's
// System.TeamProject. A WIQL scope: the service answers, by running the scope's WIQL for the
// items' ids.

import type { WorkItem } from '../../src/core/work-item.ts';
import { byKeys, byProjects } from '../scope.ts';
import type { ScopeCheck } from '../types.ts';
import type { AdoConnection } from './config.ts';
import { BATCH_MAX, membershipQuery } from './wiql.ts';

export function createAdoScopeCheck(deps: {
  config: AdoConnection;
  /** Runs a WIQL query the way the pull does (the scope's project, if any) and returns the ids. */
  runQuery(query: string): Promise<number[]>;
}) {
  const { config } = deps;
  return async function checkScope(items: WorkItem[], opts?: { viaScopeQuery?: boolean }): Promise<ScopeCheck> {
    const scope = config.scope;
    if ('projects' in scope) return byProjects(items, scope.projects, (it) => [it.project]);
    if (opts?.viaScopeQuery || items.length === 0) return { inScope: [...items], outOfScope: [] };
    const ids = [...new Set(items.map((i) => Number(i.key)).filter((n) => Number.isInteger(n) && n > 0))];
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += BATCH_MAX) {
      for (const id of await deps.runQuery(membershipQuery(scope.wiql, ids.slice(i, i + BATCH_MAX)))) {
        found.add(String(id));
      }
    }
    return byKeys(items, found);
  };
}
