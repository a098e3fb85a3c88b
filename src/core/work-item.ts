// The tracker-neutral project model every rule and rollup reads (DESIGN.md, "Common project model").
// Absent values are `null`, never `undefined`, so a row round-trips through JSON and SQL unchanged.

export const TRACKERS = ['jira', 'azure-devops'] as const;
export type Tracker = (typeof TRACKERS)[number];

export const KINDS = ['initiative', 'epic', 'feature', 'story', 'bug', 'task', 'subtask', 'risk', 'other'] as const;
export type Kind = (typeof KINDS)[number];

export const STATUS_CATEGORIES = ['todo', 'in_progress', 'done', 'removed'] as const;
export type StatusCategory = (typeof STATUS_CATEGORIES)[number];

export const LINK_TYPES = ['blocks', 'blocked_by', 'depends_on', 'relates', 'duplicates', 'cross_tracker'] as const;
export type LinkType = (typeof LINK_TYPES)[number];

export interface Person {
  id: string;
  name: string;
}

export interface ItemLink {
  type: LinkType;
  /** Ref of the linked item, `<connection>:<key>`. */
  target: string;
  /** For `cross_tracker` links: what the link means when the tracker says (e.g. `blocked_by`). */
  relation?: Exclude<LinkType, 'cross_tracker'> | null;
}

export interface Iteration {
  name: string;
  start: string | null;
  end: string | null;
}

export interface WorkItem {
  /** `<connection>:<key>`, unique across the portfolio. */
  ref: string;
  connection: string;
  tracker: Tracker;
  /** The tracker's own key: `PAY-123` (Jira) or `4567` (Azure DevOps). */
  key: string;
  project: string;
  kind: Kind;
  /** Native type name as the tracker shows it (`Story`, `User Story`, `故事`). */
  type: string;
  title: string;
  status: string;
  statusCategory: StatusCategory;
  assignee: Person | null;
  owner: Person | null;
  priority: string | null;
  labels: string[];
  created: string;
  updated: string;
  started: string | null;
  resolved: string | null;
  start: string | null;
  due: string | null;
  points: number | null;
  estimateHours: number | null;
  remainingHours: number | null;
  parent: string | null;
  links: ItemLink[];
  iteration: Iteration | null;
  /** Configured extra fields by friendly name (`businessCase`, `budget`, `acceptanceCriteria`…). */
  fields: Record<string, unknown>;
  url: string;
  /**
   * Monotonic version of the item in its tracker (Azure DevOps `rev`, Jira `updated`), so late
   * deliveries never regress an item.
   */
  revision: string;
  /** The tracker's JSON as read, kept for audit and for rules that need a field the model lacks. */
  raw: unknown;
}

export function makeRef(connection: string, key: string): string {
  return `${connection}:${key}`;
}

export function splitRef(ref: string): { connection: string; key: string } {
  const i = ref.indexOf(':');
  if (i <= 0) throw new TypeError(`not a ref: ${JSON.stringify(ref)} (expected "<connection>:<key>")`);
  return { connection: ref.slice(0, i), key: ref.slice(i + 1) };
}
