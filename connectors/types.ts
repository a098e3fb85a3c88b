// The one interface every tracker adapter implements (Renovate's platform pattern): the sync
// engine, write-back and webhooks talk only to this, never to a tracker SDK.

import type { Logger } from 'pino';
import type { Person, StatusCategory, Tracker, WorkItem } from '../src/core/work-item.ts';
import type { AdoConnection } from './azure-devops/config.ts';
import type { JiraTokenStore } from './jira/auth.ts';
import type { JiraConnection } from './jira/config.ts';

/** Request counters for one connection since it was created. The engine diffs snapshots per run. */
export interface ConnectorStats {
  requests: number;
  /** Responses that told us to slow down (429, Retry-After, throttling headers that forced a wait). */
  throttled: number;
  retries: number;
  /** Requests by endpoint label (`GET search/jql`, `POST wit/workitemsbatch`…). */
  byEndpoint: Record<string, number>;
  /**
   * Things a person should hear about (a Retry-After over `limits.maxRetryAfterSeconds`), by
   * message, with how often each happened since the connector was created. Messages carry no
   * tracker-supplied values, so the record stays small; the engine reports those whose count rose.
   */
  warnings?: Record<string, number>;
  /**
   * A points quota (Jira Cloud's hourly one): how often it paused the whole connection, until
   * when the latest pause lasts (ISO 8601) and why, and how often the connection slowed down
   * because the tracker said the quota was nearly spent.
   */
  quota?: { pauses: number; pausedUntil: string | null; reason: string | null; nearLimitSlowdowns: number };
}

export interface PullOptions {
  /** What the previous pull returned; `null` reads everything in scope. Opaque to the engine. */
  cursor: string | null;
  /**
   * Called with each page of normalized items. Calls never overlap and come in the order the
   * connector read the items; the connector may read ahead while one is awaited, but no further
   * than a page or two, so the database still paces the pull. The same item may appear twice
   * across pages (overlap windows); the engine upserts by ref.
   */
  onPage(items: WorkItem[]): Promise<void>;
  /**
   * Called with items the tracker returned that pmo-sync cannot read (a shape the schema or the
   * mapping refuses), in order with the pages; the rest of their page is delivered as usual.
   * Without it, such an item fails the pull as a broken page does.
   */
  onUnreadable?(items: UnreadableItem[]): Promise<void>;
  /**
   * Asks for the number of items the pull will deliver, for a progress display: called once the
   * tracker tells it (Jira's approximate count, the ids an Azure DevOps WIQL query returned),
   * possibly again as it grows, and never when the tracker cannot tell. Approximate: pages may
   * bring more or fewer. Unset, no request is spent on it.
   */
  onTotal?(items: number): void;
  signal?: AbortSignal;
}

/** An item a tracker returned that pmo-sync cannot read, named by its key, and why. */
export interface UnreadableItem {
  key: string;
  reason: string;
}

export interface FetchOptions {
  /**
   * Told of the keys whose items came back unreadable: they are neither returned nor missing
   * (missing means gone). Without it, such an item fails the call as a broken answer does.
   */
  onUnreadable?(items: UnreadableItem[]): void;
}

export interface PullResult {
  /** Cursor to store for the next incremental pull. */
  cursor: string;
}

/** Inline text in a bot comment. */
export interface CommentText {
  text: string;
  bold?: boolean;
  code?: boolean;
  href?: string;
}

export type CommentBlock =
  | { type: 'heading'; text: string }
  | { type: 'paragraph'; content: CommentText[] }
  | { type: 'bullets'; items: CommentText[][] };

/**
 * A tracker-neutral comment. Each connector renders it (Atlassian Document Format for Jira,
 * HTML for Azure DevOps) with `marker` embedded so the bot's comment can be found again if
 * its stored id is lost.
 */
export interface CommentDoc {
  marker: string;
  blocks: CommentBlock[];
}

export type EnsureOutcome = 'created' | 'updated' | 'unchanged';

export interface EnsureCommentInput {
  key: string;
  doc: CommentDoc;
  /** Id of the bot comment as last stored; `null` when unknown (then found by marker). */
  commentId: string | null;
}

export interface EnsureCommentResult {
  outcome: EnsureOutcome;
  commentId: string;
}

export interface DeleteCommentInput {
  key: string;
  commentId: string | null;
  marker: string;
}

export interface LabelChange {
  key: string;
  /** Labels (Jira) or tags (Azure DevOps) to add and to remove; others are left as they are. */
  add: string[];
  remove: string[];
}

export interface FieldChange {
  key: string;
  /** Tracker field id → value (`customfield_12345`, `Custom.PMOHealth`). */
  fields: Record<string, string | number | null>;
}

export type WebhookEventKind = 'created' | 'updated' | 'deleted' | 'restored' | 'commented' | 'linked' | 'other';

/** A verified, parsed webhook delivery. */
export interface TrackerEvent {
  /** Dedupe id: Jira `X-Atlassian-Webhook-Identifier`, Azure DevOps notification id. */
  deliveryId: string;
  kind: WebhookEventKind;
  /** Keys of the items to re-read (an issue-link event names two). */
  keys: string[];
  /** When the change happened in the tracker, if the payload says. */
  occurredAt: string | null;
  /** Item revision after the change, if the payload says (Azure DevOps `rev`, Jira `updated`). */
  revision: string | null;
  actor: Person | null;
  /** True when our own account caused the change: never triggers another write. */
  echo: boolean;
  /** Field names the change touched, when the payload lists them. */
  changedFields: string[];
}

export interface WebhookRequest {
  headers: Headers;
  /** The body exactly as received: signatures are over these bytes. */
  rawBody: string;
}

export interface WebhookRegistration {
  id: string;
  /** `deleted`: a registration of ours for this URL that no longer matches the scope. */
  action: 'created' | 'unchanged' | 'refreshed' | 'deleted';
  url: string;
  events: string[];
  expiresAt: string | null;
}

/**
 * How a tracker rates one of our webhook registrations. Azure DevOps puts a subscription whose
 * deliveries fail on `probation` (events raised meanwhile are lost) and disables it after more
 * failures (`disabled-by-system`); a person may disable it too (`disabled-by-user`).
 */
export type WebhookStatus = 'enabled' | 'probation' | 'disabled-by-system' | 'disabled-by-user' | 'disabled-other';

export interface WebhookHealth {
  id: string;
  url: string;
  events: string[];
  status: WebhookStatus;
  /** The tracker's own word for it (`onProbation`, `disabledBySystem`…). */
  trackerStatus: string;
  /** When the status last changed, when the tracker says. */
  since: string | null;
}

/** Items split by whether they belong to the connection's scope (Connector.checkScope). */
export interface ScopeCheck {
  inScope: WorkItem[];
  /** Keys of items outside the scope: another project's item, or one that moved out. */
  outOfScope: string[];
}

/** A mapping that no longer fits the tracker (a status with an unknown category, a vanished field). */
export interface MappingDrift {
  what: 'status' | 'type' | 'field';
  name: string;
  message: string;
}

/** An item's status category from `at` on, as its tracker's history records it. */
export interface StatusTransition {
  at: string;
  to: StatusCategory;
}

/**
 * A planning field's value from `at` on, as its tracker's history records it: a target date
 * (`YYYY-MM-DD`) or a parent (the key of an item of the same connection), null when unset.
 */
export interface FieldValue {
  at: string;
  value: string | null;
}

/**
 * History of one item read from its tracker. `replace`: the whole history since the horizon
 * (Jira's changelog is read per issue); `append`: changes after those already read (Azure DevOps
 * streams revisions past a watermark).
 */
export interface ItemHistory {
  key: string;
  mode: 'replace' | 'append';
  transitions: StatusTransition[];
  /**
   * The target date's and the parent's values over time, oldest first, each from the instant it
   * held: Jira gives the value a change replaced (at the horizon) and each new one; Azure DevOps
   * the value of each revision read. Absent: the connector does not read them.
   */
  due?: FieldValue[];
  parent?: FieldValue[];
}

export interface HistoryOptions {
  /**
   * Items whose history to read, by key and the tracker's internal id where known (Jira's changelog
   * answers by issue id): a tracker that reads history per item (Jira) reads these; one that
   * streams every change since a watermark (Azure DevOps) reads by `cursor` and ignores them.
   */
  items: readonly { key: string; id: string | null }[];
  /** The horizon: changes before it are not read. */
  since: string;
  /** What the previous history read returned; null on the first (a backfill from `since`). */
  cursor: string | null;
  /** Called with each batch of histories, in order; calls never overlap. */
  onHistories(histories: ItemHistory[]): Promise<void>;
  /**
   * Keys of stored items named by the tracker's internal id (Jira's changelog names a parent by
   * issue id, sometimes without its key); an id it does not know is left out.
   */
  keysOf?(ids: readonly string[]): Promise<ReadonlyMap<string, string>>;
  signal?: AbortSignal;
}

/** The issues a board shows (Jira): its filter's JQL as the board has it, and the keys it selects. */
export interface BoardIssues {
  jql: string;
  keys: string[];
}

/**
 * Who the connection's credentials are: the bot pmo-sync writes as. Each connector learns it in
 * its `identity.ts` (`createIdentity`); echo detection and the writer ask this, nothing else.
 */
export interface SelfIdentity {
  /** Asks the tracker who the credentials are (`Connector.whoami`). */
  whoami(): Promise<Person>;
  /** The last answer of `whoami`; null until it has answered once. */
  current(): Person | null;
}

export interface Connector {
  readonly id: string;
  readonly tracker: Tracker;

  /** The account pmo-sync writes as; events it caused are echoes. */
  whoami(): Promise<Person>;

  /** Reads every item in scope changed since the cursor (all items when it is null). */
  pull(opts: PullOptions): Promise<PullResult>;

  /** Keys of every item currently in scope, ids only, for the reconcile sweep. */
  listKeys(opts?: { signal?: AbortSignal }): Promise<string[]>;

  /** Authoritative re-read of some items in batches; keys missing from the result no longer exist. */
  fetchItems(keys: string[], opts?: FetchOptions): Promise<WorkItem[]>;

  /**
   * Which of these items belong to the connection's scope, as the tracker answers it: a
   * `projects` scope by each item's project, a query scope (JQL/WIQL) by reading the items again
   * through the scope query. Every item from any path is checked before it is stored: webhooks
   * (service hooks may be org-wide) and re-reads by key name items of any project. `viaScopeQuery`:
   * the items were just read through the scope query itself (a pull), so only the project check
   * is made.
   */
  checkScope(items: WorkItem[], opts?: { viaScopeQuery?: boolean }): Promise<ScopeCheck>;

  /** One bot comment per item: create, or edit in place when the rendered body differs. */
  ensureComment(input: EnsureCommentInput): Promise<EnsureCommentResult>;
  deleteComment(input: DeleteCommentInput): Promise<'deleted' | 'absent'>;
  updateLabels(change: LabelChange): Promise<'updated' | 'unchanged'>;
  updateFields(change: FieldChange): Promise<'updated' | 'unchanged'>;

  /** Throws WebhookVerificationError unless the request carries valid credentials. */
  verifyWebhook(req: WebhookRequest): void;
  /** Throws WebhookPayloadError on a body that is not what the tracker sends. */
  parseWebhook(req: WebhookRequest): TrackerEvent;

  /** Status histories from the tracker's own record (changelog, revisions), for flow metrics. */
  history?(opts: HistoryOptions): Promise<{ cursor: string }>;

  /** The issues a board shows, for teams grouped by board (Jira). */
  boardIssues?(opts: { board: number; signal?: AbortSignal }): Promise<BoardIssues>;

  installWebhooks?(input: { url: string; secret?: string }): Promise<WebhookRegistration[]>;
  /** The state of our registrations for `url`, as the tracker keeps it (probation, disabled). */
  webhookHealth?(input: { url: string }): Promise<WebhookHealth[]>;
  /** Turns a registration the tracker put on probation or disabled back on. */
  enableWebhook?(input: { id: string }): Promise<'enabled' | 'unchanged'>;
  /**
   * A cursor from which the next pull reads everything changed since `since` as well as since
   * `cursor` (the earlier of the two); `null` stays null (everything is read anyway).
   */
  rewindCursor?(cursor: string | null, since: string): string | null;
  checkMapping?(): Promise<MappingDrift[]>;

  stats(): ConnectorStats;
  close(): Promise<void>;
}

/**
 * Turns a pointer at another tracker's item (a URL, or a bare key with its tracker) into a
 * ref, using the configured connections. `null` when no configured connection owns it.
 */
export type RefResolver = (pointer: { tracker?: Tracker; url?: string; key?: string }) => string | null;

export interface ConnectorDeps<C> {
  config: C;
  log: Logger;
  resolveRef: RefResolver;
  /** Override of the tracker's base URL (tests point it at a simulator). */
  baseUrl?: string;
}

export type JiraConnectorDeps = ConnectorDeps<JiraConnection> & {
  /** Where a rotated OAuth refresh token is kept, so a restart still has a working one. */
  tokenStore?: JiraTokenStore;
};
export type AdoConnectorDeps = ConnectorDeps<AdoConnection>;
