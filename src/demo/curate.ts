// Shapes the generated demo portfolio into one worth showing: each epic gets a plan a PMO would
// recognise — on track, slipping, late, delivered — so the dashboard shows a mix of green, amber
// and red for reasons that read true, and every epic and feature has a distinct name. Dates are
// relative to `now`, so the demo looks the same whenever it is started.
import type { AdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { PROCESSES, type StateCategory } from '../../connectors/azure-devops/simulator/processes.ts';
import type { JiraSimulator } from '../../connectors/jira/simulator/index.ts';

const DAY = 86_400_000;

/** What each epic is made to be; the cycle gives about 4 green, 3 amber, 2 red and 2 done of 11. */
export type DemoProfile = 'on-track' | 'slipping' | 'late' | 'delivered' | 'delivered-late';
const CYCLE: DemoProfile[] = [
  'on-track',
  'slipping',
  'late',
  'delivered',
  'on-track',
  'slipping',
  'on-track',
  'late',
  'delivered-late',
  'slipping',
  'on-track',
];

const EPIC_NAMES = [
  'Instant refunds',
  'Card tokenisation',
  'Fraud scoring v2',
  'Ledger reconciliation',
  'Mobile onboarding',
  'Push notifications',
  'Offline wallet',
  'Merchant payouts',
  'Dispute handling',
  'Accessibility pass',
  'Checkout redesign',
  'Subscription billing',
];
const FEATURE_NAMES = ['API', 'Back office', 'Reporting', 'Rollout', 'Migration', 'Monitoring'];

/** Done work spread evenly through the children (not the first ones), `share` of them. */
const isDone = (i: number, share: number) => Math.floor((i + 1) * share) > Math.floor(i * share);

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

export interface CurateOptions {
  now: number;
  jiraEpics: string[];
  /** Azure DevOps epics with their project's process. */
  adoEpics: { id: number; process: 'Agile' | 'Scrum' }[];
}

/** Each epic's ref and the profile it was given. */
export function curateDemo(jira: JiraSimulator, ado: AdoSimulator, o: CurateOptions): Map<string, DemoProfile> {
  const profiles = new Map<string, DemoProfile>();
  let n = 0;
  const next = () => {
    const p = CYCLE[n % CYCLE.length]!;
    const name = EPIC_NAMES[n % EPIC_NAMES.length]!;
    n++;
    return { p, name };
  };
  for (const key of o.jiraEpics) {
    const { p, name } = next();
    curateJira(jira, key, p, name, o.now);
    profiles.set(`jira-main:${key}`, p);
  }
  for (const e of o.adoEpics) {
    const { p, name } = next();
    curateAdo(ado, e.id, e.process, p, name, o.now);
    profiles.set(`ado-main:${e.id}`, p);
  }
  return profiles;
}

interface Plan {
  start: number;
  due: number;
  /** Share of children done. */
  done: number;
  epicDone: boolean;
  /** Resolution of done work (epic and children). */
  resolved: number;
  /** One open child is overdue (amber). */
  overdueChild: boolean;
}

function planOf(p: DemoProfile, now: number): Plan {
  switch (p) {
    case 'on-track':
      return {
        start: now - 20 * DAY,
        due: now + 70 * DAY,
        done: 0.8,
        epicDone: false,
        resolved: now - 3 * DAY,
        overdueChild: false,
      };
    case 'slipping':
      return {
        start: now - 15 * DAY,
        due: now + 75 * DAY,
        done: 0.4,
        epicDone: false,
        resolved: now - 4 * DAY,
        overdueChild: true,
      };
    case 'late':
      return {
        start: now - 100 * DAY,
        due: now - 12 * DAY,
        done: 0.6,
        epicDone: false,
        resolved: now - 20 * DAY,
        overdueChild: false,
      };
    case 'delivered':
      return {
        start: now - 120 * DAY,
        due: now - 20 * DAY,
        done: 1,
        epicDone: true,
        resolved: now - 25 * DAY,
        overdueChild: false,
      };
    case 'delivered-late':
      return {
        start: now - 120 * DAY,
        due: now - 40 * DAY,
        done: 1,
        epicDone: true,
        resolved: now - 30 * DAY,
        overdueChild: false,
      };
  }
}

function descendantsJira(jira: JiraSimulator, key: string): string[] {
  const all = jira.store.all();
  const out: string[] = [];
  let level = [key];
  while (level.length > 0) {
    const set = new Set(level);
    level = all.filter((i) => set.has((i.fields.parent as { key?: string } | undefined)?.key ?? '')).map((i) => i.key);
    out.push(...level);
  }
  return out;
}

/**
 * When the `nth` of `count` finished children was finished: spread from the epic's start to its
 * plan's last resolution, so the history forecasts draw on shows a steady weekly pace rather
 * than everything finished on one day.
 */
function doneAt(plan: Plan, nth: number, count: number): number {
  const from = Math.min(plan.start + DAY, plan.resolved);
  return Math.round(from + ((plan.resolved - from) * (nth + 1)) / Math.max(1, count));
}

function curateJira(jira: JiraSimulator, key: string, p: DemoProfile, name: string, now: number): void {
  const plan = planOf(p, now);
  const kids = descendantsJira(jira, key);
  const doneCount = kids.filter((_, i) => isDone(i, plan.done)).length;
  let doneSoFar = 0;
  kids.forEach((k, i) => {
    const done = isDone(i, plan.done);
    const finished = done ? doneAt(plan, doneSoFar++, doneCount) : 0;
    // Open work started recently: long-running work in progress is a finding of its own.
    const status = done ? 'Done' : i % 2 === 0 ? 'In Progress' : 'To Do';
    const overdue = plan.overdueChild && i === kids.length - 1 && !done;
    jira.store.updateIssue(
      k,
      {
        status,
        duedate: done ? null : day(overdue ? now - 3 * DAY : Math.min(plan.due, now + (20 + i) * DAY)),
      },
      { emit: false, at: done ? finished : now - 2 * DAY },
    );
  });
  jira.store.updateIssue(
    key,
    {
      summary: name,
      status: plan.epicDone ? 'Done' : 'In Progress',
      customfield_10015: day(plan.start),
      duedate: day(plan.due),
      customfield_10200: { value: 'Approved' },
    },
    { emit: false, at: plan.epicDone ? plan.resolved : plan.start },
  );
}

function curateAdo(
  ado: AdoSimulator,
  id: number,
  process: 'Agile' | 'Scrum',
  p: DemoProfile,
  name: string,
  now: number,
): void {
  const plan = planOf(p, now);
  const proc = PROCESSES[process];
  const stateOf = (type: string, cats: StateCategory[]) =>
    proc.types[type]!.find((s) => cats.includes(s.category))!.name;
  const items = [...ado.store.items.values()];
  const children = (parent: number) => items.filter((w) => !w.deleted && w.fields['System.Parent'] === parent);
  const features = children(id);
  const leaves: number[] = [];
  features.forEach((f, fi) => {
    ado.store.update(f.id, {
      'System.Title': `${name}: ${FEATURE_NAMES[fi % FEATURE_NAMES.length]}`,
      'System.State': stateOf(String(f.fields['System.WorkItemType']), plan.epicDone ? ['Completed'] : ['InProgress']),
      'Microsoft.VSTS.Scheduling.StartDate': new Date(plan.start).toISOString(),
      'Microsoft.VSTS.Scheduling.TargetDate': new Date(plan.due - fi * 5 * DAY).toISOString(),
    });
    for (const s of children(f.id)) {
      leaves.push(s.id);
      for (const t of children(s.id)) leaves.push(t.id);
    }
  });
  // Counted per type: stories carry the points, tasks do not.
  const seen = new Map<string, number>();
  const doneCount = leaves.filter((leaf) => {
    const type = String(ado.store.get(leaf).fields['System.WorkItemType']);
    const nth = seen.get(type) ?? 0;
    seen.set(type, nth + 1);
    return isDone(nth, plan.done);
  }).length;
  seen.clear();
  let doneSoFar = 0;
  leaves.forEach((leaf, i) => {
    const w = ado.store.get(leaf);
    const type = String(w.fields['System.WorkItemType']);
    const nth = seen.get(type) ?? 0;
    seen.set(type, nth + 1);
    const done = isDone(nth, plan.done);
    const finished = done ? doneAt(plan, doneSoFar++, doneCount) : 0;
    const overdue = plan.overdueChild && i === leaves.length - 1 && !done;
    ado.store.update(leaf, {
      'System.State': stateOf(type, done ? ['Completed'] : i % 2 === 0 ? ['InProgress'] : ['Proposed']),
      'Microsoft.VSTS.Common.ActivatedDate': new Date(done ? finished - 5 * DAY : now - 2 * DAY).toISOString(),
      'Microsoft.VSTS.Common.ClosedDate': done ? new Date(finished).toISOString() : null,
      'Microsoft.VSTS.Scheduling.DueDate': done ? null : overdue ? new Date(now - 3 * DAY).toISOString() : null,
    });
  });
  ado.store.update(id, {
    'System.Title': name,
    'System.State': stateOf(
      String(ado.store.get(id).fields['System.WorkItemType']),
      plan.epicDone ? ['Completed'] : ['InProgress'],
    ),
    'Microsoft.VSTS.Scheduling.StartDate': new Date(plan.start).toISOString(),
    'Microsoft.VSTS.Scheduling.TargetDate': new Date(plan.due).toISOString(),
    'Microsoft.VSTS.Common.ClosedDate': plan.epicDone ? new Date(plan.resolved).toISOString() : null,
  });
}
