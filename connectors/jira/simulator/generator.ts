// Seeds the simulator: a deterministic portfolio (epics, stories, bugs, sub-tasks with realistic
// dates, sizes, sprints and status histories, plus a known share of deliberate standard
// violations), or the real issues captured by Apache DevLake (trimmed copy in __fixtures__).
import { readFileSync } from 'node:fs';
import { createRng } from './faults.ts';
import { linkEntries } from './links.ts';
import type { JiraSimStore, SimHistory, SimUser } from './store.ts';
import { BOT_USER, issueTypeJson, jiraTime, PEOPLE, STATUSES, statusJson, userJson } from './store.ts';

export type Violation =
  | 'epic-missing-due'
  | 'start-after-due'
  | 'story-missing-points'
  | 'missing-assignee'
  | 'child-due-after-parent'
  | 'bug-missing-priority';

export interface PortfolioOptions {
  projects?: string[];
  epics: number;
  storiesPerEpic: number;
  bugsPerEpic?: number;
  subtasksPerStory?: number;
  /** Share of items (0..1) given exactly one deliberate violation. */
  violationRate?: number;
  /** Share of stories (0..1) blocked by the story before them in their epic. Default 0.1. */
  linkRate?: number;
  /**
   * Share of epics (0..1) waiting on the epic generated before them: the epic's first story
   * blocked by that epic's last story, a dependency a roadmap shows. Default 0.
   */
  epicLinkRate?: number;
  seed?: number;
  /** "Today" for the generated dates; every item was last updated at least an hour before it. */
  now?: number;
}

export interface PortfolioManifest {
  keys: string[];
  epics: string[];
  violations: { key: string; violation: Violation }[];
  counts: { epic: number; story: number; bug: number; subtask: number };
  /** Items in a done status (their `started` needs the changelog). */
  done: number;
  /** "from blocks to" links added between stories. */
  links: { from: string; to: string; type: 'Blocks' }[];
}

const DAY = 86_400_000;
const POINTS = [1, 2, 3, 5, 8, 13];
const NOUNS = [
  'checkout',
  'ledger',
  'refunds',
  'invoices',
  'onboarding',
  'search',
  'reports',
  'payouts',
  'alerts',
  'audit log',
];
const VERBS = ['Build', 'Redesign', 'Harden', 'Migrate', 'Instrument', 'Simplify', 'Localise', 'Speed up'];

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function seedPortfolio(store: JiraSimStore, site: string, opts: PortfolioOptions): PortfolioManifest {
  const rng = createRng(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const between = (a: number, b: number) => a + Math.floor(rng() * Math.max(1, b - a));
  const now = opts.now ?? Date.now();
  const latest = now - 3_600_000;
  const rate = opts.violationRate ?? 0.1;
  const manifest: PortfolioManifest = {
    keys: [],
    epics: [],
    violations: [],
    counts: { epic: 0, story: 0, bug: 0, subtask: 0 },
    done: 0,
    links: [],
  };
  // Links draw from their own sequence, so adding them leaves every other generated value as it was.
  const linkRng = createRng((opts.seed ?? 1) ^ 0x5eed);
  const epicLinkRng = createRng((opts.seed ?? 1) ^ 0xe91c);
  let linkId = 20_000;
  let lastStory: ReturnType<typeof store.insertRaw> | null = null;
  const counters = new Map<string, number>();
  let historyId = 500_000;

  /** A status history ending in `status`, with every timestamp before `latest`. */
  function lifecycle(created: number) {
    const r = rng();
    const status = r < 0.4 ? 'Done' : r < 0.7 ? 'In Progress' : 'To Do';
    const actor = pick(PEOPLE);
    const histories: SimHistory[] = [];
    let updated = created;
    let started: number | null = null;
    let resolved: number | null = null;
    const move = (at: number, from: string, to: string) => {
      histories.push({
        id: String(historyId++),
        created: jiraTime(at),
        author: actor,
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
      updated = at;
    };
    if (status !== 'To Do') {
      started = Math.min(latest - 2 * DAY, created + between(1, 20) * DAY);
      move(started, 'To Do', 'In Progress');
    }
    if (status === 'Done') {
      resolved = Math.min(latest - DAY, started! + between(1, 15) * DAY);
      move(resolved, 'In Progress', 'Done');
    }
    updated = Math.min(latest, updated + between(0, 3) * 3_600_000);
    return { status, histories, updated, categoryChanged: resolved ?? started ?? created, resolved };
  }

  function add(
    project: string,
    type: string,
    summary: string,
    created: number,
    fields: Record<string, unknown>,
    parent: { id: string; key: string; fields: Record<string, unknown> } | null,
    violation: Violation | null,
  ) {
    const n = (counters.get(project) ?? 0) + 1;
    counters.set(project, n);
    const life = lifecycle(created);
    const all: Record<string, unknown> = {
      summary,
      issuetype: issueTypeJson(type, site),
      status: statusJson(life.status, site),
      project: {
        self: `${site}/rest/api/3/project/${project}`,
        id: String(10_000 + project.length),
        key: project,
        name: project,
      },
      created: jiraTime(created),
      updated: jiraTime(life.updated),
      statuscategorychangedate: jiraTime(life.categoryChanged),
      reporter: userJson(pick(PEOPLE), site),
      assignee: userJson(pick(PEOPLE), site),
      priority: { self: `${site}/rest/api/3/priority/3`, id: '3', name: pick(['High', 'Medium', 'Low']) },
      labels: [],
      resolutiondate: life.resolved ? jiraTime(life.resolved) : null,
      duedate: null,
      issuelinks: [],
      timetracking: {},
      ...fields,
    };
    if (parent) {
      all.parent = {
        id: parent.id,
        key: parent.key,
        self: `${site}/rest/api/3/issue/${parent.id}`,
        fields: { summary: parent.fields.summary, status: parent.fields.status, issuetype: parent.fields.issuetype },
      };
    }
    if (violation === 'missing-assignee') all.assignee = null;
    if (violation === 'bug-missing-priority') all.priority = null;
    const issue = store.insertRaw({ key: `${project}-${n}`, fields: all, histories: life.histories });
    manifest.keys.push(issue.key);
    if (life.status === 'Done') manifest.done += 1;
    if (violation) manifest.violations.push({ key: issue.key, violation });
    return issue;
  }

  const maybe = (choices: Violation[]): Violation | null => (rng() < rate ? pick(choices) : null);
  const projects = opts.projects ?? ['PAY'];
  for (let e = 0; e < opts.epics; e++) {
    const project = projects[e % projects.length]!;
    const created = now - between(60, 200) * DAY;
    const start = created + between(1, 10) * DAY;
    const due = start + between(30, 120) * DAY;
    const ev = maybe(['epic-missing-due', 'start-after-due']);
    const epic = add(
      project,
      'Epic',
      `${pick(VERBS)} ${pick(NOUNS)}`,
      created,
      {
        customfield_10015: day(ev === 'start-after-due' ? due + 7 * DAY : start),
        duedate: ev === 'epic-missing-due' ? null : day(due),
        customfield_10200: { value: pick(['Approved', 'Pending']) },
      },
      null,
      ev,
    );
    manifest.epics.push(epic.key);
    manifest.counts.epic += 1;
    const sprint = {
      id: 100 + (e % 20),
      name: `${project} Sprint ${1 + (e % 20)}`,
      state: pick(['active', 'closed', 'future']),
      boardId: 1,
      startDate: new Date(start).toISOString(),
      endDate: new Date(start + 14 * DAY).toISOString(),
    };
    const child = (type: 'Story' | 'Bug', i: number) => {
      // A child can only be due after its epic when the epic has a due date.
      const storyViolations: Violation[] =
        ev === 'epic-missing-due'
          ? ['story-missing-points', 'missing-assignee']
          : ['story-missing-points', 'missing-assignee', 'child-due-after-parent'];
      const v = maybe(type === 'Bug' ? ['bug-missing-priority', 'missing-assignee'] : storyViolations);
      const cDue = v === 'child-due-after-parent' ? due + between(5, 30) * DAY : due - between(0, 20) * DAY;
      return add(
        project,
        type,
        `${type === 'Bug' ? 'Fix' : pick(VERBS)} ${pick(NOUNS)} #${i + 1}`,
        created + between(0, 20) * DAY,
        {
          customfield_10016: v === 'story-missing-points' ? null : pick(POINTS),
          customfield_10020: [sprint],
          customfield_10100: {
            type: 'doc',
            version: 1,
            content: [
              {
                type: 'paragraph',
                content: [{ type: 'text', text: `Given a user, when they use ${pick(NOUNS)}, then it works.` }],
              },
            ],
          },
          duedate: day(cDue),
          labels: rng() < 0.2 ? ['customer'] : [],
        },
        epic,
        v,
      );
    };
    const stories: ReturnType<typeof child>[] = [];
    for (let s = 0; s < opts.storiesPerEpic; s++) {
      const story = child('Story', s);
      stories.push(story);
      manifest.counts.story += 1;
      for (let t = 0; t < (opts.subtasksPerStory ?? 0); t++) {
        const v = maybe(['missing-assignee']);
        add(
          project,
          'Sub-task',
          `Subtask ${t + 1} of ${story.key}`,
          Date.parse(String(story.fields.created).replace('+0000', 'Z')),
          {
            timetracking: {
              originalEstimateSeconds: between(1, 16) * 3600,
              remainingEstimateSeconds: between(0, 8) * 3600,
            },
          },
          story,
          v,
        );
        manifest.counts.subtask += 1;
      }
    }
    for (let b = 0; b < (opts.bugsPerEpic ?? 0); b++) {
      child('Bug', b);
      manifest.counts.bug += 1;
    }
    for (let i = 1; i < stories.length; i++) {
      if (linkRng() >= (opts.linkRate ?? 0.1)) continue;
      const [from, to] = [stories[i - 1]!, stories[i]!];
      const { onSource, onDestination } = linkEntries(linkId++, 'Blocks', from, to, site);
      (from.fields.issuelinks as unknown[]).push(onSource);
      (to.fields.issuelinks as unknown[]).push(onDestination);
      manifest.links.push({ from: from.key, to: to.key, type: 'Blocks' });
    }
    if (lastStory && stories.length > 0 && epicLinkRng() < (opts.epicLinkRate ?? 0)) {
      const [from, to] = [lastStory, stories[0]!];
      const { onSource, onDestination } = linkEntries(linkId++, 'Blocks', from, to, site);
      (from.fields.issuelinks as unknown[]).push(onSource);
      (to.fields.issuelinks as unknown[]).push(onDestination);
      manifest.links.push({ from: from.key, to: to.key, type: 'Blocks' });
    }
    lastStory = stories[stories.length - 1] ?? lastStory;
  }
  return manifest;
}

interface CapturedIssue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
  changelog?: { histories: { id: string; created: string; items: SimHistory['items'] }[] };
}

/** The trimmed DevLake capture (33 real Jira Cloud issues, Chinese type and status names). */
export function loadDevlakeIssues(): CapturedIssue[] {
  return JSON.parse(
    readFileSync(new URL('../__fixtures__/devlake-issues.json', import.meta.url), 'utf8'),
  ) as CapturedIssue[];
}

export function seedFromCaptured(
  store: JiraSimStore,
  issues: readonly CapturedIssue[],
  author: SimUser = BOT_USER,
): string[] {
  return issues.map((raw) => {
    const histories: SimHistory[] = (raw.changelog?.histories ?? []).map((h) => ({
      id: h.id,
      created: h.created,
      author,
      items: h.items.map((i) => ({ ...i, fieldId: i.fieldId ?? i.field })),
    }));
    return store.insertRaw({ id: raw.id, key: raw.key, fields: raw.fields, histories }).key;
  });
}
