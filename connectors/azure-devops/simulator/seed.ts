// Deterministic portfolio generator: the same options always give the same work items (ids,
// fields, dates), so tests and the demo can rely on exact counts. `violationRate` is the share
// of items that break a PMO standard (no owner, no target date, no estimate…).
import { PROCESSES, type ProcessName } from './processes.ts';
import type { SimIdentity, SimStore } from './store.ts';

export interface SeedOptions {
  process: ProcessName;
  project?: string;
  epics: number;
  featuresPerEpic?: number;
  storiesPerFeature?: number;
  tasksPerStory?: number;
  /** Stop after this many items in all (for exact totals such as 25,000). */
  limit?: number;
  violationRate?: number;
  seed?: number;
  /** Creation dates are spread over the 90 days before this instant. */
  baseDate?: string;
}

export type Violation = 'epic-missing-due' | 'start-after-due' | 'story-missing-points' | 'missing-assignee';

export interface SeedResult {
  project: string;
  ids: number[];
  /** Ids as connector keys (strings). */
  keys: string[];
  epics: number[];
  byType: Record<string, number>;
  /** Items given exactly one deliberate violation of the PMO standard. */
  violations: { id: number; violation: Violation }[];
}

export const PEOPLE: readonly SimIdentity[] = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Edsger Dijkstra',
  'Barbara Liskov',
].map((name, i) => ({
  id: `0000000${i}-0000-4000-8000-00000000000${i}`,
  displayName: name,
  uniqueName: `${name.split(' ')[0]!.toLowerCase()}@example.com`,
}));

/** mulberry32: tiny, fast, good enough for test data. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;

export function seedPortfolio(store: SimStore, o: SeedOptions): SeedResult {
  const proc = PROCESSES[o.process];
  const projectName = o.project ?? `${o.process} Project`;
  if (![...store.projects.values()].some((p) => p.name === projectName)) store.addProject(projectName, o.process);
  const rnd = prng(o.seed ?? 1);
  const violationRate = o.violationRate ?? 0.1;
  const base = Date.parse(o.baseDate ?? '2026-01-01T00:00:00Z');
  const limit = o.limit ?? Number.POSITIVE_INFINITY;
  const ids: number[] = [];
  const epics: number[] = [];
  const byType: Record<string, number> = {};
  const violations: SeedResult['violations'] = [];
  const [epicT, featureT, storyT, taskT] =
    proc.hierarchy.length === 4 ? proc.hierarchy : [proc.hierarchy[0], undefined, proc.hierarchy[1], proc.hierarchy[2]];
  let n = 0;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const CANDIDATES: Record<string, Violation[]> = {
    epic: ['epic-missing-due', 'start-after-due', 'missing-assignee'],
    feature: ['epic-missing-due', 'missing-assignee'],
    story: ['story-missing-points', 'missing-assignee'],
    task: ['missing-assignee'],
  };

  const make = (
    type: string,
    title: string,
    parentId: number | undefined,
    level: 'epic' | 'feature' | 'story' | 'task',
  ) => {
    if (ids.length >= limit) return undefined;
    n++;
    const states = proc.types[type]!.filter((st) => st.category !== 'Removed');
    const violation = rnd() < violationRate ? pick(CANDIDATES[level]!) : null;
    const created = base - Math.floor((10 + rnd() * 80) * DAY);
    const state = pick(states);
    const fields: Record<string, unknown> = {
      'System.State': state.name,
      'Microsoft.VSTS.Common.Priority': 1 + Math.floor(rnd() * 4),
    };
    if (violation !== 'missing-assignee') {
      const who = pick(PEOPLE);
      fields['System.AssignedTo'] = { displayName: who.displayName, id: who.id, uniqueName: who.uniqueName };
    }
    if (level === 'epic' || level === 'feature') {
      const due = created + (30 + Math.floor(rnd() * 120)) * DAY;
      fields['Microsoft.VSTS.Scheduling.StartDate'] = new Date(
        violation === 'start-after-due' ? due + 5 * DAY : created,
      ).toISOString();
      if (violation !== 'epic-missing-due')
        fields['Microsoft.VSTS.Scheduling.TargetDate'] = new Date(due).toISOString();
    }
    if (level === 'story') {
      if (violation !== 'story-missing-points') fields[proc.pointsField] = pick([1, 2, 3, 5, 8, 13]);
      fields['System.IterationPath'] = `${projectName}\\Sprint ${1 + Math.floor(rnd() * 6)}`;
    }
    if (level === 'task') fields['Microsoft.VSTS.Scheduling.RemainingWork'] = Math.floor(rnd() * 16);
    if (rnd() < 0.3) fields['System.Tags'] = pick(['backend', 'frontend', 'compliance', 'q3']);
    let changed = created;
    if (state.category !== 'Proposed') {
      const activated = created + Math.floor(rnd() * 5 * DAY);
      fields['Microsoft.VSTS.Common.ActivatedDate'] = new Date(activated).toISOString();
      changed = activated;
      if (state.category === 'Completed' || state.category === 'Resolved') {
        changed = activated + Math.floor((1 + rnd() * 4) * DAY);
        fields['Microsoft.VSTS.Common.ClosedDate'] = new Date(changed).toISOString();
      }
    }
    const it = store.create({
      project: projectName,
      type,
      title: `${title} ${n}`,
      fields,
      parentId,
      createdDate: new Date(created).toISOString(),
      silent: true,
    });
    it.fields['System.ChangedDate'] = new Date(changed).toISOString();
    ids.push(it.id);
    byType[type] = (byType[type] ?? 0) + 1;
    if (violation) violations.push({ id: it.id, violation });
    if (level === 'epic') epics.push(it.id);
    return it.id;
  };

  for (let e = 0; e < o.epics && ids.length < limit; e++) {
    const epicId = make(epicT!, 'Epic', undefined, 'epic');
    const featureParents = featureT
      ? Array.from({ length: o.featuresPerEpic ?? 3 }, (_, f) => make(featureT, `Feature ${e}.${f}`, epicId, 'feature'))
      : [epicId];
    for (const fid of featureParents) {
      if (fid === undefined) continue;
      for (let s = 0; s < (o.storiesPerFeature ?? 4); s++) {
        const sid = make(storyT!, 'Story', fid, 'story');
        if (sid === undefined) break;
        for (let t = 0; t < (o.tasksPerStory ?? 0); t++) if (make(taskT!, 'Task', sid, 'task') === undefined) break;
      }
    }
  }
  return { project: projectName, ids, keys: ids.map(String), epics, byType, violations };
}
