// The one database schema, for PGlite and Postgres alike. Deterministic keys (`ref` =
// `<connection>:<key>`) mean every table can be rebuilt from the trackers. Migrations are
// generated from this file by drizzle-kit (`npm run db:generate`) and committed.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { parseJson } from '../src/core/json.ts';
import type { ItemLink, Iteration, Person } from '../src/core/work-item.ts';
import { decodeTrackerJson, storableText, storableValue, trackerJsonText } from './storable.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

// Every text and jsonb column is written through db/storable.ts, so no statement drizzle builds
// can fail on a character Postgres does not hold (U+0000, a lone surrogate): error messages and
// summaries quote tracker text. Statements written as SQL (the bulk paths) make their values
// storable themselves. The column types are Postgres's own: migrations see text and jsonb.

/** Text, with U+0000 and lone surrogates written as U+FFFD. */
const text = customType<{ data: string; driverData: string }>({
  dataType: () => 'text',
  toDriver: storableText,
});

/** jsonb whose strings are written as `text` writes them. */
const jsonb = customType<{ data: unknown; driverData: string }>({
  dataType: () => 'jsonb',
  toDriver: (v) => JSON.stringify(storableValue(v)),
});

/**
 * A tracker's own JSON, kept losslessly: what jsonb cannot hold is escaped in an envelope that
 * every read undoes (db/storable.ts; db/select.ts decodes it on reads that bypass drizzle).
 */
const trackerJson = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => 'jsonb',
  toDriver: (v) => trackerJsonText(v),
  fromDriver: (v) => decodeTrackerJson(typeof v === 'string' ? parseJson(v) : v),
});

/** Normalized work items (the common model) with the tracker's raw JSON beside them. */
export const workItems = pgTable(
  'work_items',
  {
    ref: text('ref').primaryKey(),
    connection: text('connection').notNull(),
    tracker: text('tracker').notNull(),
    key: text('key').notNull(),
    project: text('project').notNull(),
    kind: text('kind').notNull(),
    type: text('type').notNull(),
    title: text('title').notNull(),
    status: text('status').notNull(),
    statusCategory: text('status_category').notNull(),
    assignee: jsonb('assignee').$type<Person | null>(),
    owner: jsonb('owner').$type<Person | null>(),
    priority: text('priority'),
    labels: jsonb('labels').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    created: ts('created').notNull(),
    updated: ts('updated').notNull(),
    started: ts('started'),
    resolved: ts('resolved'),
    start: ts('start'),
    due: ts('due'),
    points: doublePrecision('points'),
    estimateHours: doublePrecision('estimate_hours'),
    remainingHours: doublePrecision('remaining_hours'),
    parent: text('parent'),
    links: jsonb('links').$type<ItemLink[]>().notNull().default(sql`'[]'::jsonb`),
    iteration: jsonb('iteration').$type<Iteration | null>(),
    fields: jsonb('fields').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    url: text('url').notNull(),
    revision: text('revision').notNull(),
    /**
     * The tracker's JSON as read (db/storable.ts trackerJsonText). When the item's text could not
     * all be stored as sent, its envelope says which normalized fields were sanitized.
     */
    raw: trackerJson('raw'),
    /** Hash of the normalized content (not `raw`): unchanged items are not rewritten or re-evaluated. */
    contentHash: text('content_hash').notNull(),
    /** Set when the tracker no longer has the item (reconcile) or it was deleted (webhook). */
    deletedAt: ts('deleted_at'),
    firstSyncedAt: ts('first_synced_at').notNull().defaultNow(),
    lastSyncedAt: ts('last_synced_at').notNull().defaultNow(),
  },
  (t) => [
    index('work_items_connection_idx').on(t.connection, t.project),
    index('work_items_parent_idx').on(t.parent),
    index('work_items_kind_idx').on(t.kind),
    // The tree and the filter in a narrow index: the workspace's walks from an item up to its epic
    // (src/dashboard/workspace) read it alone (index-only) instead of the wide rows.
    index('work_items_tree_idx').on(t.ref, t.parent, t.kind, t.connection, t.project),
    // Same-owner work in progress: what a change to an item's owner makes the WIP rule re-check.
    index('work_items_owner_wip_idx')
      .on(sql`(${t.owner}->>'id')`)
      .where(sql`status_category = 'in_progress' and deleted_at is null`),
  ],
);

/** Resolved links as a join table, so dependency queries need not unpack jsonb. */
export const itemLinks = pgTable(
  'item_links',
  {
    source: text('source').notNull(),
    target: text('target').notNull(),
    type: text('type').notNull(),
    relation: text('relation'),
    /**
     * Where each end sits on a roadmap (link_end_container, migration 0021): the end itself if
     * it is an epic or feature, else its parent or grandparent that is one, else the end; null
     * while the end is not a live item. Kept by the store and by refreshItemRollups, which
     * reaches every item whose parent chain moved.
     */
    sourceContainer: text('source_container'),
    targetContainer: text('target_container'),
  },
  (t) => [primaryKey({ columns: [t.source, t.target, t.type] }), index('item_links_target_idx').on(t.target)],
);

/** Incremental-pull cursors, one per connection. */
export const syncCursors = pgTable('sync_cursors', {
  connection: text('connection').primaryKey(),
  cursor: text('cursor').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * How many rules applied to each item at its last evaluation: the compliance denominator.
 * Kept beside work_items rather than in it: a first sync evaluates every item, and rewriting
 * every wide work_items row (and its indexes) to set one number cost more than storing it.
 */
export const itemChecks = pgTable('item_checks', {
  ref: text('ref').primaryKey(),
  ruleChecks: integer('rule_checks').notNull(),
});

/**
 * Items whose stored content has not been evaluated yet: a row is added (or, already there,
 * updated) in the statement that stores the change and removed in the transaction that commits
 * its findings and planned writes, so a crash in between leaves the change queued, never lost.
 * A pass removes only the row versions it found when it began (src/sync/store.ts settleQueued).
 */
export const evalQueue = pgTable('eval_queue', {
  ref: text('ref').primaryKey(),
  queuedAt: ts('queued_at').notNull().defaultNow(),
  /**
   * What the item was linked into before the change, where the change took it out: its previous
   * owner (whose WIP findings count it no more), its previous parent and the targets of links it
   * dropped. The stored row shows only the new side; these name the old one, so the pass that
   * settles the row re-evaluates both (src/findings/load-items.ts loadAffected). Merged when re-queued.
   */
  reachOwners: text('reach_owners').array().notNull().default(sql`'{}'::text[]`),
  reachRefs: text('reach_refs').array().notNull().default(sql`'{}'::text[]`),
});

/** One row per (item, rule): the finding's lifecycle open → resolved | waived, kept for audit. */
export const findings = pgTable(
  'findings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ref: text('ref').notNull(),
    rule: text('rule').notNull(),
    severity: text('severity').notNull(),
    status: text('status').notNull(),
    message: text('message').notNull(),
    firstSeen: ts('first_seen').notNull(),
    lastSeen: ts('last_seen').notNull(),
    resolvedAt: ts('resolved_at'),
    waivedReason: text('waived_reason'),
    waivedUntil: date('waived_until', { mode: 'string' }),
    /** Content hashes at the last evaluation: answers "why was this flagged on date X". */
    ruleHash: text('rule_hash').notNull(),
    itemHash: text('item_hash').notNull(),
  },
  (t) => [
    uniqueIndex('findings_ref_rule_uq').on(t.ref, t.rule),
    index('findings_status_idx').on(t.status, t.rule),
    // The findings explorer's row order (severity first, then rule and ref): its first page of
    // the open findings is read in order and stops, rather than sorting every one.
    index('findings_open_order_idx')
      .on(sql`(case ${t.severity} when 'error' then 0 when 'warning' then 1 else 2 end)`, t.rule, t.ref)
      .where(sql`${t.status} = 'open'`),
  ],
);

/** Every change of a finding's status, with the hashes that caused it. */
export const findingHistory = pgTable(
  'finding_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ref: text('ref').notNull(),
    rule: text('rule').notNull(),
    status: text('status').notNull(),
    at: ts('at').notNull().defaultNow(),
    message: text('message').notNull(),
    ruleHash: text('rule_hash').notNull(),
    itemHash: text('item_hash').notNull(),
  },
  (t) => [index('finding_history_ref_idx').on(t.ref, t.at)],
);

/** Latest rollup per scope: `epic:<ref>`, `project:<connection>:<key>`, `program:<id>`, `portfolio`. */
export const rollups = pgTable('rollups', {
  scope: text('scope').primaryKey(),
  kind: text('kind').notNull(),
  percentComplete: doublePrecision('percent_complete'),
  health: text('health').notNull(),
  healthReason: text('health_reason').notNull(),
  metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull(),
  computedAt: ts('computed_at').notNull().defaultNow(),
});

/** A number of a snapshot's metrics, as the trend sums it; null where the metrics have none. */
const snapshotFigure = (name: string, path: string) =>
  doublePrecision(name).generatedAlwaysAs(sql.raw(`("metrics" #>> '{${path}}')::float8`));

/** One rollup per scope per day, for trends. */
export const rollupSnapshots = pgTable(
  'rollup_snapshots',
  {
    day: date('day', { mode: 'string' }).notNull(),
    scope: text('scope').notNull(),
    percentComplete: doublePrecision('percent_complete'),
    health: text('health').notNull(),
    metrics: jsonb('metrics').$type<Record<string, unknown>>().notNull(),
    // The figures a trend adds up over every epic's day (src/workspace/queries.ts loadTrend),
    // generated from the metrics so no writer can set them apart: summing them reads the index
    // below, not each row's JSON.
    pointsDone: snapshotFigure('points_done', 'points,done'),
    pointsTotal: snapshotFigure('points_total', 'points,total'),
    countsDone: snapshotFigure('counts_done', 'counts,done'),
    countsTotal: snapshotFigure('counts_total', 'counts,total'),
    countsRemoved: snapshotFigure('counts_removed', 'counts,removed'),
  },
  (t) => [
    primaryKey({ columns: [t.day, t.scope] }),
    // A scope's days in order, with every figure the trend sums: an index-only read per epic
    // (or of the whole index for a portfolio) and a scope's history without the other scopes.
    index('rollup_snapshots_scope_idx').on(
      t.scope,
      t.day,
      t.health,
      t.pointsDone,
      t.pointsTotal,
      t.countsDone,
      t.countsTotal,
      t.countsRemoved,
    ),
  ],
);

/**
 * Each live item's own roll-up: the columns the workspace filters on and counts, with what its
 * views would otherwise work out from other rows on every request — its nearest epic (a walk
 * of the parent chain), its open findings by severity, its rule checks and, for a container,
 * its rollup's health and its children's latest due date. Narrow, so a headline over a whole
 * portfolio is one pass over it rather than over every wide work_items row and its findings.
 * Written by src/rollups/ in the transaction that commits the findings it counts, for the items
 * that pass touched (src/rollups/items.ts); deleted items have no row.
 */
export const itemRollups = pgTable(
  'item_rollups',
  {
    ref: text('ref').primaryKey(),
    connection: text('connection').notNull(),
    project: text('project').notNull(),
    tracker: text('tracker').notNull(),
    kind: text('kind').notNull(),
    statusCategory: text('status_category').notNull(),
    due: ts('due'),
    /** The item's team (src/http/scope.ts teamOf) and owner, else assignee (ownerOf). */
    team: text('team'),
    ownerId: text('owner_id'),
    ownerName: text('owner_name'),
    /** The nearest item of kind `epic` at or above it through live parents; itself for an epic. */
    epic: text('epic'),
    /** A container's rollup health (`epic:<ref>`); null for other items and before any rollup. */
    health: text('health'),
    /** A container's latest due date among its live, not removed children; null for other items. */
    childDue: ts('child_due'),
    /** What a burn-up counts of leaf work (src/dashboard/workspace/forecast.ts), and a timeline bar's dates. */
    points: doublePrecision('points'),
    start: ts('start'),
    created: ts('created').notNull(),
    started: ts('started'),
    resolved: ts('resolved'),
    /** Applicable rule checks at the last evaluation (item_checks); null before any. */
    ruleChecks: integer('rule_checks'),
    openError: integer('open_error').notNull().default(0),
    openWarning: integer('open_warning').notNull().default(0),
    openInfo: integer('open_info').notNull().default(0),
    /** Its open findings' rules, each with its severity (`{"rule-id": "error"}`): open_finding_counts' terms. */
    openRules: jsonb('open_rules').notNull().default(sql`'{}'::jsonb`),
  },
  // Few and partial: every index is written for every item a first sync stores. The containers'
  // holds every column their rows are filtered and counted by (index-only reads of the epics).
  (t) => [
    index('item_rollups_container_idx')
      .on(
        t.kind,
        t.connection,
        t.project,
        t.ref,
        t.statusCategory,
        t.health,
        t.due,
        t.tracker,
        t.team,
        t.ownerId,
        t.ownerName,
        t.start,
        t.started,
        t.created,
        t.childDue,
      )
      .where(sql`${t.kind} in ('initiative', 'epic', 'feature')`),
    index('item_rollups_team_idx').on(t.team).where(sql`${t.team} is not null`),
    index('item_rollups_owner_idx').on(t.ownerId, t.ownerName).where(sql`${t.ownerId} is not null`),
  ],
);

/**
 * What the workspace's filters read of an item (src/http/scope.ts): its connection, project and
 * tracker, its team and its owner. Each table kept per combination of them has these columns.
 */
const filterColumns = () => ({
  connection: text('connection').notNull(),
  project: text('project').notNull(),
  tracker: text('tracker').notNull(),
  team: text('team'),
  ownerId: text('owner_id'),
  ownerName: text('owner_name'),
});

/**
 * Open findings of live items counted by rule and severity, per combination of the columns the
 * workspace filter reads (src/http/scope.ts): the explorer's default grouping and the top rules
 * sum a few rows instead of joining every open finding to its item. Kept by refreshItemRollups
 * (src/rollups/items.ts) from item_rollups' open rules, in the same transaction; a row may hold 0
 * until a later refresh removes it.
 */
export const openFindingCounts = pgTable(
  'open_finding_counts',
  {
    ...filterColumns(),
    rule: text('rule').notNull(),
    severity: text('severity').notNull(),
    open: integer('open').notNull(),
  },
  (t) => [
    unique('open_finding_counts_key')
      .on(t.connection, t.project, t.tracker, t.team, t.ownerId, t.ownerName, t.rule, t.severity)
      .nullsNotDistinct(),
  ],
);

/**
 * The epics the trend's groups hold (src/workspace/queries.ts loadTrend): each live, not removed epic with
 * the filter attributes of its item_rollups row when its snapshots were last added to a group.
 * A row that differs from item_rollups is a moved epic: the trend corrects for it from its own
 * snapshots until trend_sync_members() (db/migrations/0020_trend_groups.sql) moves its history.
 */
export const trendMembers = pgTable('trend_members', {
  ref: text('ref').primaryKey(),
  ...filterColumns(),
});

/**
 * Each day's epic snapshots summed per group of trend members with the same filter attributes,
 * kept by triggers on rollup_snapshots (every writer) and by trend_sync_members(): the trend
 * reads groups × days, not epics × days. Sums are numeric so adding and taking away is exact.
 */
export const trendGroupDays = pgTable(
  'trend_group_days',
  {
    day: date('day', { mode: 'string' }).notNull(),
    ...filterColumns(),
    epics: integer('epics').notNull(),
    green: integer('green').notNull(),
    amber: integer('amber').notNull(),
    red: integer('red').notNull(),
    pointsDone: numeric('points_done').notNull(),
    pointsTotal: numeric('points_total').notNull(),
    countsDone: numeric('counts_done').notNull(),
    counted: numeric('counted').notNull(),
  },
  (t) => [
    unique('trend_group_days_key')
      .on(t.day, t.connection, t.project, t.tracker, t.team, t.ownerId, t.ownerName)
      .nullsNotDistinct(),
  ],
);

/**
 * Transactional outbox of tracker writes. Planned in the same transaction as the findings that
 * caused them; claimed by workers with FOR UPDATE SKIP LOCKED and a lease.
 */
export const writeOutbox = pgTable(
  'write_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    ref: text('ref').notNull(),
    /** `comment`, `labels` or `fields`. */
    target: text('target').notNull(),
    payload: jsonb('payload').notNull(),
    desiredHash: text('desired_hash').notNull(),
    /** `pending`, `in_flight`, `done`, `dead`, `superseded`, `planned` (dry-run). */
    status: text('status').notNull().default('pending'),
    /** Lower runs first: webhook-triggered work ahead of backfill. */
    priority: integer('priority').notNull().default(100),
    /** Times a worker claimed it: every send started, including those whose worker died. */
    attempts: integer('attempts').notNull().default(0),
    /**
     * Sends that ended in a recorded error. Retries back off and dead-letter on this count, not on
     * `attempts`: a worker killed mid-send says nothing about the write (attempts − failures is
     * how many leases expired).
     */
    failures: integer('failures').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    leaseUntil: ts('lease_until'),
    leasedBy: text('leased_by'),
    lastError: text('last_error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('write_outbox_claim_idx').on(t.status, t.priority, t.nextAttemptAt),
    index('write_outbox_ref_idx').on(t.ref, t.target),
    // At most one waiting write per item and target: a newer plan replaces the waiting one,
    // so two workers can never hold two versions of the same comment at once.
    uniqueIndex('write_outbox_pending_uq').on(t.ref, t.target).where(sql`status = 'pending'`),
    uniqueIndex('write_outbox_planned_uq').on(t.ref, t.target).where(sql`status = 'planned'`),
  ],
);

/** What pmo-sync last applied per item and target: a write equal to this is never sent. */
export const appliedState = pgTable(
  'applied_state',
  {
    ref: text('ref').notNull(),
    target: text('target').notNull(),
    hash: text('hash').notNull(),
    /** The bot comment's id for `comment`; unused otherwise. */
    externalId: text('external_id'),
    value: jsonb('value'),
    appliedAt: ts('applied_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.ref, t.target] })],
);

/** Webhook deliveries, stored before they are acknowledged. */
export const webhookInbox = pgTable(
  'webhook_inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    connection: text('connection').notNull(),
    tracker: text('tracker').notNull(),
    deliveryId: text('delivery_id').notNull(),
    /**
     * SHA-256 of the verified body: the same signed body under a new delivery id is a replay.
     * Null for rows stored before it was kept.
     */
    bodyHash: text('body_hash'),
    receivedAt: ts('received_at').notNull().defaultNow(),
    event: text('event').notNull(),
    keys: jsonb('keys').$type<string[]>().notNull(),
    occurredAt: ts('occurred_at'),
    echo: boolean('echo').notNull().default(false),
    body: trackerJson('body').notNull(),
    /** `pending`, `processing`, `done`, `dead`. */
    status: text('status').notNull().default('pending'),
    /** Times a processor claimed it, including claims whose processor died. */
    attempts: integer('attempts').notNull().default(0),
    /** Claims that ended in a recorded error: what retries back off and dead-letter on. */
    failures: integer('failures').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    leaseUntil: ts('lease_until'),
    lastError: text('last_error'),
    processedAt: ts('processed_at'),
  },
  (t) => [
    uniqueIndex('webhook_inbox_delivery_uq').on(t.connection, t.deliveryId),
    uniqueIndex('webhook_inbox_body_uq').on(t.connection, t.bodyHash),
    index('webhook_inbox_status_idx').on(t.status, t.nextAttemptAt),
  ],
);

/** Every sync, reconcile and webhook pass, with its counters. */
export const syncRuns = pgTable(
  'sync_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** `sync`, `reconcile`, `webhook`. */
    kind: text('kind').notNull(),
    mode: text('mode').notNull(),
    connection: text('connection'),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
    /** `running`, `ok`, `failed`. */
    status: text('status').notNull().default('running'),
    summary: jsonb('summary').$type<Record<string, unknown>>(),
    error: text('error'),
  },
  (t) => [index('sync_runs_started_idx').on(t.startedAt)],
);

/** REST API tokens; only the SHA-256 of the token is stored. */
export const apiTokens = pgTable('api_tokens', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  name: text('name').notNull(),
  scope: text('scope').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: ts('created_at').notNull().defaultNow(),
  lastUsedAt: ts('last_used_at'),
  revokedAt: ts('revoked_at'),
});

/**
 * Dashboard sign-ins. The cookie holds a random session id; only its SHA-256 is stored, so a
 * copy of this table signs nobody in. A session ends at `expires_at`, on sign-out
 * (`revoked_at`), or when the API token it was opened with is revoked.
 */
export const dashboardSessions = pgTable(
  'dashboard_sessions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionHash: text('session_hash').notNull().unique(),
    tokenId: bigint('token_id', { mode: 'number' }).notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [index('dashboard_sessions_expires_idx').on(t.expiresAt)],
);

/** Every request that changed a tracker: when, which item, what, and how the tracker answered. */
export const writeAudit = pgTable(
  'write_audit',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    connection: text('connection').notNull(),
    ref: text('ref').notNull(),
    target: text('target').notNull(),
    action: text('action').notNull(),
    httpStatus: integer('http_status'),
    outboxId: bigint('outbox_id', { mode: 'number' }),
    detail: jsonb('detail'),
  },
  (t) => [index('write_audit_ref_idx').on(t.ref, t.at)],
);

/** Small key/value state (webhook registrations, generated secrets, mapping drift). */
export const kv = pgTable('kv', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * Items a stage could not handle, one row per item and stage: `store` (the database refused the
 * item even with its text sanitized), `evaluate` (its rules could not be evaluated), `plan` (its
 * writes could not be planned). The others of its batch went on. A `store` row makes the next pass
 * read the item again from its tracker; an item that failed a later stage stays queued for
 * evaluation. A row is removed when its item next gets through that stage.
 */
export const quarantine = pgTable(
  'quarantine',
  {
    ref: text('ref').notNull(),
    connection: text('connection').notNull(),
    /** The tracker's key: what the next pass reads again. */
    key: text('key').notNull(),
    /** `store`, `evaluate` or `plan`. */
    stage: text('stage').notNull(),
    reason: text('reason').notNull(),
    /** Times the item failed this stage in a row. */
    failures: integer('failures').notNull().default(1),
    firstFailedAt: ts('first_failed_at').notNull().defaultNow(),
    lastFailedAt: ts('last_failed_at').notNull().defaultNow(),
  },
  (t) => [
    // By the ref's hash: a ref too long for a btree entry may be exactly why its item is here.
    uniqueIndex('quarantine_item_uq').on(sql`md5(${t.ref})`, t.stage),
    index('quarantine_connection_idx').on(t.connection, t.stage),
  ],
);

/**
 * History per item, compactly: `[minutes since the epoch, category code]` pairs oldest first
 * (`t` todo, `p` in progress, `d` done, `r` removed), repeats of one category collapsed. Read from
 * the trackers (Jira changelog, Azure DevOps revisions) over the configured horizon.
 */
export const itemHistory = pgTable(
  'item_history',
  {
    ref: text('ref').primaryKey(),
    connection: text('connection').notNull(),
    transitions: jsonb('transitions').$type<[number, string][]>().notNull(),
    /**
     * The target date (`YYYY-MM-DD`) and the parent (its key) over time: `[minutes since the
     * epoch, value from then on]` pairs oldest first, repeats collapsed; null when the history
     * read saw none (the current value held throughout).
     */
    dueChanges: jsonb('due_changes').$type<[number, string | null][]>(),
    parentChanges: jsonb('parent_changes').$type<[number, string | null][]>(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('item_history_connection_idx').on(t.connection)],
);

/** Where each connection's history read stopped (a continuation token, or when it last read). */
export const historyCursors = pgTable('history_cursors', {
  connection: text('connection').primaryKey(),
  cursor: text('cursor').notNull(),
  /** The horizon the backfill started from. */
  since: ts('since').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * The issues each Jira board a configured team is grouped by shows (forecast.teams[].match.board):
 * its filter's JQL and the keys it selected when last read.
 */
export const boardIssues = pgTable(
  'board_issues',
  {
    connection: text('connection').notNull(),
    board: integer('board').notNull(),
    jql: text('jql').notNull(),
    keys: jsonb('keys').$type<string[]>().notNull(),
    readAt: ts('read_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connection, t.board] })],
);

/** Flow per team and week (throughput) and cycle time, recomputed with the forecasts. */
export const teamFlow = pgTable('team_flow', {
  team: text('team').primaryKey(),
  /** Oldest week first: `{ week: 'YYYY-MM-DD' (Monday), items, points }`. */
  weeks: jsonb('weeks').$type<{ week: string; items: number; points: number }[]>().notNull(),
  /** Days from start to done of items finished in the window: percentiles and count. */
  cycleTime: jsonb('cycle_time')
    .$type<{ n: number; p50: number | null; p85: number | null; p95: number | null }>()
    .notNull(),
  computedAt: ts('computed_at').notNull().defaultNow(),
});

/**
 * Latest completion forecast per scope (`epic:<ref>` for every open epic and feature,
 * `project:<connection>:<key>`, `program:<id>`). `published*` are what write-back shows: rounded
 * (days, 5% steps) and moved only when the forecast moves past a threshold, so a stable forecast
 * writes nothing.
 */
export const forecasts = pgTable('forecasts', {
  scope: text('scope').primaryKey(),
  kind: text('kind').notNull(),
  status: text('status').notNull(),
  confidence: text('confidence').notNull(),
  unit: text('unit').notNull(),
  remaining: doublePrecision('remaining').notNull(),
  /** `epic`: the epic's own weekly throughput; `team`: its teams', shared by their open work. */
  basis: text('basis').notNull(),
  p50: date('p50', { mode: 'string' }),
  p85: date('p85', { mode: 'string' }),
  p95: date('p95', { mode: 'string' }),
  target: date('target', { mode: 'string' }),
  onTimeProbability: doublePrecision('on_time_probability'),
  weeksOfHistory: integer('weeks_of_history').notNull(),
  reason: text('reason'),
  publishedP85: date('published_p85', { mode: 'string' }),
  publishedOnTime: doublePrecision('published_on_time'),
  /** Hash of what the trials drew from: the same inputs are not simulated again. */
  inputsHash: text('inputs_hash').notNull(),
  computedAt: ts('computed_at').notNull().defaultNow(),
});

/**
 * A program's burn-up as steps in time (src/forecast/burnup.ts): the figures up to `cutoff` as
 * one base, each later change of scope or done work at its instant. Refreshed with the program
 * rollups; `membership` tells a row computed for other projects than the program has now.
 */
export const burnUps = pgTable('burn_ups', {
  /** `program:<id>`, as forecasts and rollups name it. */
  scope: text('scope').primaryKey(),
  membership: text('membership').notNull(),
  /** Milliseconds since the epoch. */
  cutoff: doublePrecision('cutoff').notNull(),
  /** The earliest creation among the leaves, milliseconds since the epoch; null without leaves. */
  first: doublePrecision('first'),
  /** [scope items, done items, scope points, done points] at `cutoff`. */
  base: jsonb('base').$type<[number, number, number, number]>().notNull(),
  /** `[at, …the same four changes]`, ascending by `at`. */
  steps: jsonb('steps').$type<[number, number, number, number, number][]>().notNull(),
  computedAt: ts('computed_at').notNull(),
});

/** A named baseline: each epic's target and scope as they were when it was taken. */
export const baselines = pgTable(
  'baselines',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    name: text('name').notNull(),
    /** The program it covers; null for the whole portfolio. */
    program: text('program'),
    /** The instant the baseline describes (now, or a past date reconstructed from history). */
    asOf: ts('as_of').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('baselines_name_uq').on(t.name)],
);

export const baselineItems = pgTable(
  'baseline_items',
  {
    baselineId: bigint('baseline_id', { mode: 'number' }).notNull(),
    /** The epic (or feature). */
    ref: text('ref').notNull(),
    target: date('target', { mode: 'string' }),
    p85: date('p85', { mode: 'string' }),
    /** Refs of the leaf items in its scope then. */
    scope: jsonb('scope').$type<string[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.baselineId, t.ref] })],
);
