// A portfolio with realistic flow for the simulators: teams with their own pace (2–9 items a
// week), weeks that vary around it (±40%, and about one week in twelve with nothing finished —
// holidays, incidents), two epics in progress at a time per team, stories started a few days
// before they finish, and epic target dates set from an optimistic or pessimistic guess of the
// team's pace. Simulated week by week from `weeksBack` weeks ago into the future; what lies after
// `now` is not yet known (not started or not finished), so forecasts have something real to
// predict and a backtest something to compare with. Deterministic for a seed.

export interface FlowPortfolioOptions {
  teams: number;
  epicsPerTeam: number;
  /** Stories per epic, inclusive range. */
  storiesPerEpic?: [number, number];
  /** Weeks of history before `now` when the teams started. */
  weeksBack?: number;
  now: number;
  seed?: number;
}

export interface FlowPlannedItem {
  /** `T<team>-E<n>` or `T<team>-E<n>-S<m>`. */
  id: string;
  team: number;
  kind: 'epic' | 'story';
  parent: string | null;
  title: string;
  created: number;
  started: number | null;
  resolved: number | null;
  /** Epics: the target date (ms, midnight UTC). */
  due: number | null;
  points: number;
}

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const POINTS = [1, 2, 3, 5, 8];

/** mulberry32. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(rand: () => number, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

export function planFlowPortfolio(o: FlowPortfolioOptions): FlowPlannedItem[] {
  const rand = rng(o.seed ?? 1);
  const [minS, maxS] = o.storiesPerEpic ?? [6, 30];
  const start = Math.floor((o.now - (o.weeksBack ?? 30) * WEEK) / DAY) * DAY;
  const out: FlowPlannedItem[] = [];
  for (let team = 0; team < o.teams; team++) {
    const pace = 2 + rand() * 7;
    const epics = Array.from({ length: o.epicsPerTeam }, (_, e) => {
      const size = minS + Math.floor(rand() * (maxS - minS + 1));
      const id = `T${team + 1}-E${e + 1}`;
      return {
        id,
        size,
        stories: Array.from({ length: size }, (_, s) => ({
          id: `${id}-S${s + 1}`,
          points: POINTS[Math.floor(rand() * POINTS.length)]!,
          resolved: null as number | null,
          started: null as number | null,
        })),
        activated: null as number | null,
        next: 0,
      };
    });
    const active: typeof epics = [];
    let queued = 0;
    const activate = (at: number) => {
      while (active.length < 2 && queued < epics.length) {
        const e = epics[queued++]!;
        e.activated = at;
        active.push(e);
      }
    };
    activate(start);
    for (let week = 0; week < 400 && active.length > 0; week++) {
      const weekStart = start + week * WEEK;
      const mean = rand() < 0.08 ? 0 : pace * (0.6 + rand() * 0.8);
      let finished = poisson(rand, mean);
      let turn = 0;
      while (finished > 0 && active.length > 0) {
        const e = active[turn % active.length]!;
        const story = e.stories[e.next++]!;
        story.resolved = weekStart + Math.floor(rand() * WEEK);
        story.started = Math.max(e.activated!, story.resolved - (1 + Math.floor(rand() * 9)) * DAY);
        finished--;
        turn++;
        if (e.next >= e.stories.length) {
          active.splice(active.indexOf(e), 1);
          activate(weekStart + WEEK);
        }
      }
    }
    for (const e of epics) {
      if (e.activated === null) continue;
      const created = e.activated - Math.floor(rand() * 4 * WEEK);
      if (created > o.now) continue;
      // The plan guessed half the team's pace for each of its two epics, give or take 30%.
      const guess = (e.size / (pace / 2)) * (0.7 + rand() * 0.6);
      const due = Math.floor((e.activated + guess * WEEK) / DAY) * DAY;
      const known = (t: number | null) => (t !== null && t <= o.now ? t : null);
      const starts = e.stories.map((s) => known(s.started)).filter((t): t is number => t !== null);
      const ends = e.stories.map((s) => known(s.resolved));
      out.push({
        id: e.id,
        team,
        kind: 'epic',
        parent: null,
        title: `Team ${team + 1} epic ${e.id}`,
        created,
        started: starts.length ? Math.min(...starts) : null,
        resolved: ends.every((t) => t !== null) ? Math.max(...(ends as number[])) : null,
        due,
        points: 0,
      });
      for (const s of e.stories) {
        out.push({
          id: s.id,
          team,
          kind: 'story',
          parent: e.id,
          title: `Story ${s.id}`,
          created: Math.min(created + DAY, o.now),
          started: known(s.started),
          resolved: known(s.resolved),
          due: null,
          points: s.points,
        });
      }
    }
  }
  return out;
}
