// The CEL environment every rule expression is checked and compiled in: the declared shape of
// `item`, `parent`, `children`, `links`, `now` and `params`, plus the few helper functions rule
// authors need for dates. Declaring types (rather than letting every variable be `dyn`) is what
// lets `rules lint` catch an unknown field or a wrong type before a rule ever runs.
import { Environment } from '@marcbachmann/cel-js';

const TS = 'google.protobuf.Timestamp';
const DAY_MS = 86_400_000;

/** CEL value of a person (`item.owner`, `item.assignee`). */
export class CelPerson {
  readonly id: string;
  readonly name: string;
  constructor(id: string, name: string) {
    this.id = id;
    this.name = name;
  }
}

/** CEL value of an iteration; `start`/`end` are absent (not null) when unknown. */
export class CelIteration {
  name = '';
  start?: Date;
  end?: Date;
}

/**
 * CEL value of a work item. Only set fields are own properties, so `has(item.due)` means "the
 * tracker has a value", exactly as a PMO analyst would read it.
 */
export class CelItem {
  ref?: string;
  connection?: string;
  tracker?: string;
  key?: string;
  project?: string;
  kind?: string;
  type?: string;
  title?: string;
  status?: string;
  statusCategory?: string;
  assignee?: CelPerson;
  owner?: CelPerson;
  priority?: string;
  labels?: string[];
  created?: Date;
  updated?: Date;
  started?: Date;
  resolved?: Date;
  start?: Date;
  due?: Date;
  points?: number;
  estimateHours?: number;
  remainingHours?: number;
  parent?: string;
  links?: Record<string, string>[];
  iteration?: CelIteration;
  fields?: Record<string, unknown>;
  url?: string;
  revision?: string;
  raw?: unknown;
  /** Derived: todo or in progress. */
  open?: boolean;
  /** Derived: was resolved once but is no longer done (the tracker re-opened it). */
  reopened?: boolean;
}

/**
 * CEL value of `forecast`: the item's completion forecast (epics and features), as write-back
 * shows it (P85 moved only past a threshold, on-time probability in 5% steps). Fields are absent
 * when unknown: `has(forecast.p85)` is false without history or for items that are not forecast.
 */
export class CelForecast {
  status?: string;
  confidence?: string;
  unit?: string;
  remaining?: number;
  p50?: Date;
  p85?: Date;
  p95?: Date;
  onTimeProbability?: number;
}

/** CEL value of `children`: aggregates over all descendants of the item. */
export class CelChildren {
  direct = 0n;
  total = 0n;
  todo = 0n;
  inProgress = 0n;
  done = 0n;
  removed = 0n;
  open = 0n;
  overdue = 0n;
  anyOverdue = false;
  points = 0;
  pointsDone = 0;
  earliestStart?: Date;
  earliestDue?: Date;
  latestDue?: Date;
}

/** CEL value of one entry of `links`: the linked item as resolved, whichever tracker holds it. */
export class CelLink {
  ref = '';
  /** The link type as stored (`blocks`, `blocked_by`, `depends_on`, `relates`, `duplicates`, `cross_tracker`). */
  type = '';
  /** What the link means from this item's side: `blocked_by`, `blocks`, `depends_on`, `required_by`, … */
  relation = '';
  /** `outward` when this item holds the link, `inward` when the other item does. */
  direction = '';
  crossTracker = false;
  /** False when the linked item is not stored (outside the synced scope) or was deleted from its tracker. */
  found = false;
  /** Always false: a deleted item reads as not synced (graph.ts linkTo); kept for rule files that read it. */
  deleted = false;
  key?: string;
  tracker?: string;
  project?: string;
  kind?: string;
  title?: string;
  status?: string;
  statusCategory?: string;
  due?: Date;
  resolved?: Date;
  reopened = false;
}

const PERSON_FIELDS = { id: 'string', name: 'string' };
const FORECAST_FIELDS = {
  status: 'string',
  confidence: 'string',
  unit: 'string',
  remaining: 'double',
  p50: TS,
  p85: TS,
  p95: TS,
  onTimeProbability: 'double',
};
const ITERATION_FIELDS = { name: 'string', start: TS, end: TS };
const ITEM_FIELDS = {
  ref: 'string',
  connection: 'string',
  tracker: 'string',
  key: 'string',
  project: 'string',
  kind: 'string',
  type: 'string',
  title: 'string',
  status: 'string',
  statusCategory: 'string',
  assignee: 'Person',
  owner: 'Person',
  priority: 'string',
  labels: 'list<string>',
  created: TS,
  updated: TS,
  started: TS,
  resolved: TS,
  start: TS,
  due: TS,
  points: 'double',
  estimateHours: 'double',
  remainingHours: 'double',
  parent: 'string',
  links: 'list<map<string, string>>',
  iteration: 'Iteration',
  fields: 'map<string, dyn>',
  url: 'string',
  revision: 'string',
  raw: 'dyn',
  open: 'bool',
  reopened: 'bool',
};
const CHILDREN_FIELDS = {
  direct: 'int',
  total: 'int',
  todo: 'int',
  inProgress: 'int',
  done: 'int',
  removed: 'int',
  open: 'int',
  overdue: 'int',
  anyOverdue: 'bool',
  points: 'double',
  pointsDone: 'double',
  earliestStart: TS,
  earliestDue: TS,
  latestDue: TS,
};
const LINK_FIELDS = {
  ref: 'string',
  type: 'string',
  relation: 'string',
  direction: 'string',
  crossTracker: 'bool',
  found: 'bool',
  deleted: 'bool',
  key: 'string',
  tracker: 'string',
  project: 'string',
  kind: 'string',
  title: 'string',
  status: 'string',
  statusCategory: 'string',
  due: TS,
  resolved: TS,
  reopened: 'bool',
};

/** Field names per CEL type, for docs and for tests that keep the docs honest. */
export const CEL_FIELDS = {
  item: Object.keys(ITEM_FIELDS),
  children: Object.keys(CHILDREN_FIELDS),
  link: Object.keys(LINK_FIELDS),
  forecast: Object.keys(FORECAST_FIELDS),
} as const;

export type CelEnvironment = Environment;

/** A fresh environment; create one per rule set (it is not cheap, and it is not shared state). */
export function createCelEnvironment(): CelEnvironment {
  return new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false })
    .registerType('Person', { ctor: CelPerson, fields: PERSON_FIELDS })
    .registerType('Iteration', { ctor: CelIteration, fields: ITERATION_FIELDS })
    .registerType('Item', { ctor: CelItem, fields: ITEM_FIELDS })
    .registerType('Children', { ctor: CelChildren, fields: CHILDREN_FIELDS })
    .registerType('Link', { ctor: CelLink, fields: LINK_FIELDS })
    .registerType('Forecast', { ctor: CelForecast, fields: FORECAST_FIELDS })
    .registerVariable('item', 'Item')
    .registerVariable('parent', 'Item')
    .registerVariable('children', 'Children')
    .registerVariable('links', 'list<Link>')
    .registerVariable('forecast', 'Forecast')
    .registerVariable('now', TS)
    .registerVariable('params', 'map<string, dyn>')
    .registerFunction(`daysBetween(${TS}, ${TS}): int`, (a: Date, b: Date) =>
      BigInt(Math.floor((b.getTime() - a.getTime()) / DAY_MS)),
    )
    .registerFunction(`date(${TS}): string`, (a: Date) => a.toISOString().slice(0, 10));
}
