// Typed errors that carry what went wrong and where. The CLI maps `exitCode`, the HTTP layer
// maps `status`; nothing in the codebase throws strings or swallows failures into empty results.

export class PmoSyncError extends Error {
  /** Process exit code when this error ends a CLI command (DESIGN.md: 1 runtime, 2 usage/config). */
  readonly exitCode: number = 1;
  /** HTTP status when this error ends a request. */
  readonly status: number = 500;
}

export class ConfigError extends PmoSyncError {
  override readonly exitCode = 2;
  override readonly status = 500;
  readonly problems: { path: string; message: string }[];
  constructor(problems: { path: string; message: string }[], file?: string) {
    super(problems.map((p) => `${file ? `${file}: ` : ''}${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
  get path(): string {
    return this.problems[0]?.path ?? '';
  }
}

export class UsageError extends PmoSyncError {
  override readonly exitCode = 2;
  override readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class NotAvailableError extends PmoSyncError {
  constructor(feature: string) {
    super(`${feature} is not yet available in this version of pmo-sync`);
    this.name = 'NotAvailableError';
  }
}

export interface ConnectorErrorOptions {
  tracker: string;
  connection?: string;
  cause?: unknown;
  /** HTTP status the tracker answered, when there was one. */
  httpStatus?: number;
}

export class ConnectorError extends PmoSyncError {
  readonly tracker: string;
  readonly connection: string | undefined;
  readonly httpStatus: number | undefined;
  override readonly status: number = 502;
  constructor(message: string, opts: ConnectorErrorOptions) {
    super(message, { cause: opts.cause });
    this.name = 'ConnectorError';
    this.tracker = opts.tracker;
    this.connection = opts.connection;
    this.httpStatus = opts.httpStatus;
  }
}

export class AuthError extends ConnectorError {
  constructor(message: string, opts: ConnectorErrorOptions) {
    super(message, opts);
    this.name = 'AuthError';
  }
}

export class NotFoundError extends ConnectorError {
  override readonly status = 404;
  constructor(message: string, opts: ConnectorErrorOptions) {
    super(message, opts);
    this.name = 'NotFoundError';
  }
}

export class RateLimitError extends ConnectorError {
  readonly retryAfterMs: number;
  override readonly status = 503;
  constructor(message: string, opts: ConnectorErrorOptions & { retryAfterMs: number }) {
    super(message, opts);
    this.name = 'RateLimitError';
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A revision check failed: somebody else changed the item between our read and our write. */
export class ConflictError extends ConnectorError {
  override readonly status = 409;
  constructor(message: string, opts: ConnectorErrorOptions) {
    super(message, opts);
    this.name = 'ConflictError';
  }
}

/** A tracker answered with a body that breaks its documented schema. `issues` name the fields. */
export class SchemaError extends ConnectorError {
  readonly issues: { path: string; message: string }[];
  constructor(what: string, issues: { path: string; message: string }[], opts: ConnectorErrorOptions) {
    super(
      `${what}: response does not match the expected schema: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
      opts,
    );
    this.name = 'SchemaError';
    this.issues = issues;
  }
}

export class WebhookVerificationError extends PmoSyncError {
  override readonly status = 401;
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** A webhook body that is not what the tracker sends (bad JSON, missing fields). */
export class WebhookPayloadError extends PmoSyncError {
  override readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = 'WebhookPayloadError';
  }
}
