// Seeds the Azure DevOps simulator with a flow portfolio (connectors/flow-portfolio.ts): Agile
// epics and user stories whose ActivatedDate and ClosedDate are the plan's, so the reporting
// revisions stream (reporting.ts) and every other route agree.
import type { FlowPlannedItem } from '../../flow-portfolio.ts';
import { PEOPLE } from './seed.ts';
import type { SimStore } from './store.ts';

export function seedFlowPortfolio(
  store: SimStore,
  plan: readonly FlowPlannedItem[],
  project: string,
): Map<string, number> {
  if (![...store.projects.values()].some((p) => p.name === project)) store.addProject(project, 'Agile');
  const ids = new Map<string, number>();
  const iso = (t: number) => new Date(t).toISOString();
  for (const p of plan) {
    const state = p.resolved !== null ? 'Closed' : p.started !== null ? 'Active' : 'New';
    const who = PEOPLE[p.team % PEOPLE.length]!;
    const fields: Record<string, unknown> = {
      'System.State': state,
      'System.AreaPath': `${project}\\Team ${p.team + 1}`,
      'System.AssignedTo': { displayName: who.displayName, id: who.id, uniqueName: who.uniqueName },
      'Microsoft.VSTS.Common.Priority': 2,
    };
    if (p.started !== null) fields['Microsoft.VSTS.Common.ActivatedDate'] = iso(p.started);
    if (p.resolved !== null) fields['Microsoft.VSTS.Common.ClosedDate'] = iso(p.resolved);
    if (p.kind === 'epic') {
      fields['Microsoft.VSTS.Scheduling.StartDate'] = iso(p.created);
      if (p.due !== null) fields['Microsoft.VSTS.Scheduling.TargetDate'] = iso(p.due);
    } else fields['Microsoft.VSTS.Scheduling.StoryPoints'] = p.points;
    const parentId = p.parent === null ? undefined : ids.get(p.parent);
    const it = store.create({
      project,
      type: p.kind === 'epic' ? 'Epic' : 'User Story',
      title: p.title,
      fields,
      parentId,
      createdDate: iso(p.created),
      silent: true,
    });
    it.fields['System.ChangedDate'] = iso(Math.max(p.created, p.started ?? 0, p.resolved ?? 0));
    ids.set(p.id, it.id);
  }
  return ids;
}
