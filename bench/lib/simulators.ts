// Both tracker simulators, started and seeded at a chosen size (deterministic for a seed). Kept
// apart from the pipeline's wiring (world.ts) so the simulator child process (sim-child.ts)
// loads the simulators and nothing of pmo-sync.
import {
  type AdoSimulator,
  startAdoSimulator,
  type ThrottleBudget,
} from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimFaults, type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';

export const JIRA_TOKEN = 'bench-jira-token-0001';
export const ADO_PAT = 'bench-ado-pat-0001';
export const JIRA_HOOK_SECRET = 'bench-jira-hook-secret-0001';
export const ADO_HOOK = { username: 'pmo-sync', password: 'bench-ado-hook-password-0001' };
export const JIRA_PROJECTS = ['PAY', 'WEB'];
export const ADO_PROJECT = 'Payments';

/** Items per seeded Jira epic: the epic, 16 stories with 2 sub-tasks each, 1 bug. */
export const JIRA_ITEMS_PER_EPIC = 1 + 16 + 32 + 1;

export interface SimulatorOptions {
  jiraItems: number;
  adoItems: number;
  violationRate?: number;
  seed?: number;
  jiraFaults?: Partial<JiraSimFaults>;
  adoLatencyMs?: number;
  adoBudget?: ThrottleBudget | null;
}

export interface Seeded {
  jira: JiraSimulator;
  ado: AdoSimulator;
  jiraKeys: string[];
  /** Seeded Jira issues in a done status category (their changelog is fetched). */
  jiraDone: number;
  adoIds: number[];
}

/** Starts and seeds both simulators (deterministic for a given seed). */
export async function startSimulators(o: SimulatorOptions): Promise<Seeded> {
  const jira = await startJiraSimulator({ seed: o.seed ?? 1, faults: o.jiraFaults });
  const ado = await startAdoSimulator({ latencyMs: o.adoLatencyMs ?? 0, budget: o.adoBudget ?? null });
  const epics = Math.max(1, Math.round(o.jiraItems / JIRA_ITEMS_PER_EPIC / JIRA_PROJECTS.length));
  const keys: string[] = [];
  let done = 0;
  for (const [i, project] of JIRA_PROJECTS.entries()) {
    const m = jira.seedPortfolio({
      projects: [project],
      epics,
      storiesPerEpic: 16,
      bugsPerEpic: 1,
      subtasksPerStory: 2,
      // A third of the epics wait on another: the timeline and dependency map draw arrows.
      epicLinkRate: 0.3,
      violationRate: o.violationRate ?? 0.2,
      seed: (o.seed ?? 1) * 31 + i,
    });
    keys.push(...m.keys);
    done += m.done;
  }
  ado.addProject(ADO_PROJECT, 'Agile');
  const seeded = ado.seedPortfolio({
    process: 'Agile',
    project: ADO_PROJECT,
    epics: Math.ceil(o.adoItems / 40) + 1,
    featuresPerEpic: 3,
    storiesPerFeature: 4,
    tasksPerStory: 2,
    limit: o.adoItems,
    violationRate: o.violationRate ?? 0.2,
    seed: (o.seed ?? 1) * 17 + 3,
  });
  return { jira, ado, jiraKeys: keys, jiraDone: done, adoIds: seeded.ids };
}

/** Whether a Jira issue's status is in the done category (only "Done" in the simulator's catalog). */
export function isDone(jira: JiraSimulator, key: string): boolean {
  const status = jira.store.liveIssue(key)?.fields.status as { statusCategory?: { key?: string } } | undefined;
  return status?.statusCategory?.key === 'done';
}
