// The demo's sample portfolio: two programs, each spanning a Jira project and an Azure DevOps
// project, with a realistic share of work that breaks the PMO standard and a few dependencies
// that cross from one tracker to the other.
import type { AdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import type { JiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { curateDemo, type DemoProfile } from './curate.ts';

export const DEMO_JIRA_FIELDS = {
  acceptanceCriteria: 'customfield_10100',
  gate: 'customfield_10200',
  dependsOn: 'customfield_10300',
} as const;

export interface DemoSeed {
  jiraKeys: string[];
  jiraEpics: string[];
  adoIds: number[];
  crossLinks: { from: string; to: string }[];
  /** The plan each epic was given (src/demo/curate.ts), by ref. */
  profiles: Map<string, DemoProfile>;
}

export function seedDemo(jira: JiraSimulator, ado: AdoSimulator, now = Date.now()): DemoSeed {
  // Azure DevOps dates around today, as Jira's are: not in a fixed year long past.
  const baseDate = new Date(now).toISOString();
  const j = jira.seedPortfolio({
    projects: ['PAY', 'WEB'],
    epics: 6,
    storiesPerEpic: 8,
    bugsPerEpic: 2,
    subtasksPerStory: 1,
    violationRate: 0.25,
    seed: 2026,
  });
  ado.addProject('Payments', 'Agile');
  ado.addProject('Mobile', 'Scrum');
  const pay = ado.seedPortfolio({
    process: 'Agile',
    project: 'Payments',
    epics: 3,
    featuresPerEpic: 2,
    storiesPerFeature: 4,
    tasksPerStory: 1,
    violationRate: 0.25,
    seed: 7,
    baseDate,
  });
  const mob = ado.seedPortfolio({
    process: 'Scrum',
    project: 'Mobile',
    epics: 2,
    featuresPerEpic: 2,
    storiesPerFeature: 4,
    tasksPerStory: 1,
    violationRate: 0.25,
    seed: 8,
    baseDate,
  });

  // Cross-tracker dependencies: Jira stories that depend on Azure DevOps work, and Azure DevOps
  // items that link back to Jira issues.
  const crossLinks: DemoSeed['crossLinks'] = [];
  const stories = j.keys.filter((k) => !j.epics.includes(k));
  const adoStories = (ids: number[]) =>
    ids.filter((id) => /Story|Backlog Item/.test(String(ado.store.get(id).fields['System.WorkItemType'])));
  const targets = [...adoStories(pay.ids).slice(0, 3), ...adoStories(mob.ids).slice(0, 2)];
  targets.forEach((id, i) => {
    const key = stories[i * 7]!;
    const project = String(ado.store.get(id).fields['System.TeamProject']);
    jira.store.updateIssue(
      key,
      { [DEMO_JIRA_FIELDS.dependsOn]: `${ado.url}/${project}/_workitems/edit/${id}` },
      { emit: false },
    );
    crossLinks.push({ from: `jira-main:${key}`, to: `ado-main:${id}` });
  });
  adoStories(pay.ids)
    .slice(5, 7)
    .forEach((id, i) => {
      const key = stories[3 + i * 11]!;
      ado.store.update(id, {}, undefined, {
        add: [{ rel: 'Hyperlink', url: `${jira.url}/browse/${key}`, attributes: { comment: 'depends on' } }],
      });
      crossLinks.push({ from: `ado-main:${id}`, to: `jira-main:${key}` });
    });
  const profiles = curateDemo(jira, ado, {
    now,
    jiraEpics: j.epics,
    adoEpics: [
      ...pay.epics.map((id) => ({ id, process: 'Agile' as const })),
      ...mob.epics.map((id) => ({ id, process: 'Scrum' as const })),
    ],
  });
  return { jiraKeys: j.keys, jiraEpics: j.epics, adoIds: [...pay.ids, ...mob.ids], crossLinks, profiles };
}
