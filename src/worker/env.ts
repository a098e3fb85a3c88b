// The Worker's bindings and the few Workers runtime types it uses, declared here rather than
// through @cloudflare/workers-types: those replace the DOM/Node globals the rest of the code
// base type-checks against, and we touch only five shapes.

/** What a queue message asks the consumer to do. The inbox and outbox rows are the truth; a
 * message is only a wake-up, so a lost or doubled one costs a little latency, never a write. */
export type WorkerMessage =
  | { type: 'webhook'; connection: string }
  | { type: 'writes'; connections: string[] }
  | { type: 'sync'; full?: boolean; reconcile?: boolean };

export interface Queue<T> {
  send(body: T, opts?: { delaySeconds?: number; contentType?: 'json' | 'text' | 'bytes' | 'v8' }): Promise<void>;
}

export interface QueueMessage<T> {
  readonly id: string;
  readonly body: T;
  readonly attempts: number;
  ack(): void;
  retry(opts?: { delaySeconds?: number }): void;
}

export interface MessageBatch<T> {
  readonly queue: string;
  readonly messages: readonly QueueMessage<T>[];
  ackAll(): void;
  retryAll(opts?: { delaySeconds?: number }): void;
}

export interface ScheduledController {
  readonly cron: string;
  readonly scheduledTime: number;
  noRetry(): void;
}

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  /** Service-binding props (unused here; Hono's type asks for it). */
  props: unknown;
}

export interface Hyperdrive {
  readonly connectionString: string;
}

export interface Env {
  /** Postgres through Hyperdrive (`[[hyperdrive]]`); locally its localConnectionString. */
  HYPERDRIVE: Hyperdrive;
  /** Producer side of the `pmo-sync-events` queue; this Worker is also its consumer. */
  EVENTS: Queue<WorkerMessage>;
  /** pmo-sync.yaml as text (a var, or a secret when it holds secrets inline). `${VAR}` reads other vars and secrets. */
  PMO_SYNC_CONFIG_YAML: string;
  /** The organisation's own rules (a YAML list), standing in for `rules.files`, which have no disk to live on. */
  PMO_SYNC_RULES_YAML?: string;
  /** Lease of claimed work and of the scheduled-job lock, in ms. */
  PMO_SYNC_LEASE_MS?: string;
  LOG_LEVEL?: string;
  /** Secrets (`wrangler secret put JIRA_API_TOKEN`) and vars, read by `${VAR}` in the config. */
  [name: string]: unknown;
}
