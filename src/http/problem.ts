// RFC 9457 problem details: the one error body every HTTP failure renders. Errors carry their
// own HTTP status (PmoSyncError.status); `onError` turns any of them into this body, so route
// code throws and never builds error responses by hand.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { PmoSyncError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { classifyDbError, DB_RETRY_AFTER_SECONDS } from './db-errors.ts';

export const PROBLEM_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** Validation failures, one per bad parameter. */
  errors?: { path: string; message: string }[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** An error that ends a request with a given status and a detail safe to show the caller. */
export class HttpProblem extends PmoSyncError {
  override readonly status: number;
  readonly errors: { path: string; message: string }[] | undefined;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    detail: string,
    opts: { errors?: { path: string; message: string }[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.errors = opts.errors;
    this.headers = opts.headers ?? {};
  }
}

export const badRequest = (detail: string, errors?: { path: string; message: string }[]) =>
  new HttpProblem(400, detail, { errors });
export const notFound = (detail: string) => new HttpProblem(404, detail);

export function problemBody(status: number, detail?: string, errors?: Problem['errors']): Problem {
  const body: Problem = { type: 'about:blank', title: TITLES[status] ?? 'Error', status };
  if (detail) body.detail = detail;
  if (errors && errors.length > 0) body.errors = errors;
  return body;
}

export function problemResponse(
  status: number,
  detail?: string,
  opts: { errors?: Problem['errors']; headers?: Record<string, string> } = {},
): Response {
  return new Response(JSON.stringify(problemBody(status, detail, opts.errors)), {
    status,
    headers: { 'content-type': PROBLEM_TYPE, ...opts.headers },
  });
}

export function zodProblems(error: ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/**
 * The app's single error renderer. Known errors below 500 show their message; a database that
 * cannot be reached (or cannot write) is a 503 with Retry-After, since the request will work
 * again; anything else is logged and answered with a bare 500, because an unexpected message may
 * hold internals. The log line names the method and route, never the query string, and the
 * logger's error serializer drops query values (src/core/safe-error.ts).
 */
export function renderError(err: Error, c: Context, log: Logger): Response {
  if (err instanceof HttpProblem) return problemResponse(err.status, err.message, err);
  if (err instanceof HTTPException) {
    // Hono's own failures (malformed JSON body and the like) are the caller's mistake.
    return problemResponse(err.status, err.message || undefined);
  }
  if (err instanceof PmoSyncError && err.status < 500) return problemResponse(err.status, err.message);
  if (classifyDbError(err) === 'unavailable') {
    log.warn({ err, method: c.req.method, path: c.req.path }, 'request failed: the database is unavailable');
    return problemResponse(503, 'The database is unavailable; try again shortly.', {
      headers: { 'retry-after': String(DB_RETRY_AFTER_SECONDS) },
    });
  }
  log.error({ err, method: c.req.method, path: c.req.path }, 'request failed');
  return problemResponse(500, 'The server could not complete the request; the error is in its log.');
}
