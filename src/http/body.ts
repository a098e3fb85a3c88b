// Request bodies read under limits, for the routes anyone can reach (webhooks, sign-in). The
// declared Content-Length is checked first; then every chunk is counted in bytes as it arrives,
// so a chunked body without a length, or one that lies about it, is cut at the limit too; and
// the answer (413) goes out before the body is buffered and before any database work. One budget
// caps the bytes all requests hold at once, so many concurrent bodies under the per-request limit
// still cannot add up. Nothing here knows Node: it reads the web-standard Request body.
//
// hono/body-limit was not enough: it trusts Content-Length without counting, keeps no shared
// budget, and has no deadline for a slow body.
import type { MiddlewareHandler } from 'hono';
import { HttpProblem, PROBLEM_TYPE, problemBody } from './problem.ts';

export interface BodyLimit {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** The whole body must arrive within this. */
  timeoutMs: number;
}

/** Bytes of request bodies held at once, across all requests of one app. */
export interface BodyBudget {
  /** Takes `bytes` from the budget; false (and nothing taken) when that would exceed it. */
  take(bytes: number): boolean;
  give(bytes: number): void;
  readonly held: number;
  readonly limit: number;
}

export function createBodyBudget(limit: number): BodyBudget {
  let held = 0;
  return {
    take(bytes) {
      if (held + bytes > limit) return false;
      held += bytes;
      return true;
    },
    give(bytes) {
      held = Math.max(0, held - bytes);
    },
    get held() {
      return held;
    },
    limit,
  };
}

/**
 * A body refused (413, 408, or 503 when the budget is spent). Refusing stops reading: the rest
 * of the body is never read, let alone buffered, and the connection is closed after the answer.
 * See refusalResponse for how the client still gets to read that answer.
 */
export class BodyRefused extends HttpProblem {}

export const bodyTooLarge = (maxBytes: number) =>
  new BodyRefused(413, `The request body is larger than ${maxBytes} bytes.`);

const bodyTooSlow = (timeoutMs: number) =>
  new BodyRefused(408, `The request body did not arrive within ${Math.round(timeoutMs / 1000)} s.`);

const serverBusy = () =>
  new BodyRefused(503, 'The server holds as many request bodies as it may; try again shortly.', {
    headers: { 'retry-after': '1' },
  });

/** How long a refused connection stays open, unread, so its client can read the answer. */
export const REFUSAL_LINGER_MS = 1000;

/**
 * The answer to a refused body. Closing a socket that still holds unread bytes resets it, and a
 * client that sends its whole body before it reads (most do) then sees the reset instead of the
 * answer; draining the rest instead (what the Node adapter does by default) means reading, at
 * up to 64 MiB per connection, the very bytes refused. So the answer goes out whole (its length
 * declared), the socket is left unread for a moment — the client's sending stalls on TCP flow
 * control, nothing is read — and then closed. Over a real socket only: `app.request()` and the
 * Workers runtime have none, and answer at once.
 */
export function refusalResponse(c: { env: unknown }, err: HttpProblem): Response {
  const body = new TextEncoder().encode(JSON.stringify(problemBody(err.status, err.message)));
  const headers = {
    'content-type': PROBLEM_TYPE,
    'content-length': String(body.byteLength),
    connection: 'close',
    ...err.headers,
  };
  const env = c.env as { incoming?: unknown } | undefined;
  if (!env?.incoming) return new Response(body, { status: err.status, headers });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(body);
      timer = setTimeout(() => controller.close(), REFUSAL_LINGER_MS);
    },
    // The client read the answer and hung up first.
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(stream, { status: err.status, headers });
}

/**
 * Reads a request body of at most `limit.maxBytes` bytes within `limit.timeoutMs`, taking what it
 * holds from `budget`. The caller gives back `held` bytes to the budget once it is done with the
 * body (the bytes stay in memory until then).
 */
export async function readLimitedBody(
  req: Request,
  limit: BodyLimit,
  budget?: BodyBudget,
): Promise<{ bytes: Uint8Array<ArrayBuffer>; held: number }> {
  const declared = req.headers.get('content-length');
  let expected: number | null = null;
  if (declared !== null && !req.headers.has('transfer-encoding')) {
    if (!/^\s*\d+\s*$/.test(declared)) throw new BodyRefused(400, 'Content-Length is not a number.');
    expected = Number(declared);
    if (expected > limit.maxBytes) throw bodyTooLarge(limit.maxBytes);
  }
  if (!req.body) return { bytes: new Uint8Array(0), held: 0 };
  // A declared length is reserved at once (the sender says it is coming); otherwise each chunk
  // is reserved as it arrives.
  let held = 0;
  const holdUpTo = (bytes: number) => {
    if (!budget || bytes <= held) return;
    if (!budget.take(bytes - held)) throw serverBusy();
    held = bytes;
  };
  const reader = req.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(bodyTooSlow(limit.timeoutMs)), limit.timeoutMs);
  });
  deadline.catch(() => {});
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    if (expected !== null) holdUpTo(expected);
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      size += value.byteLength;
      if (size > limit.maxBytes) throw bodyTooLarge(limit.maxBytes);
      holdUpTo(size);
      chunks.push(value);
    }
  } catch (err) {
    budget?.give(held);
    // Stop reading: the refusal goes out now, and the rest is never read.
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  // Request bodies never sit on shared memory.
  if (chunks.length === 1) return { bytes: chunks[0] as Uint8Array<ArrayBuffer>, held };
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { bytes, held };
}

/**
 * Middleware that reads the body under `limit(c)` before the handler runs and puts it on
 * `c.var.body`; the budget is the app's (`c.var.bodyBudget`), else `fallbackBudget`. The bytes
 * count against the budget until the handler has answered.
 */
export function limitBody(
  limit: (c: Parameters<MiddlewareHandler>[0]) => BodyLimit,
  fallbackBudget?: BodyBudget,
): MiddlewareHandler {
  return async (c, next) => {
    const budget = c.var.bodyBudget ?? fallbackBudget;
    const { bytes, held } = await readLimitedBody(c.req.raw, limit(c), budget);
    c.set('body', bytes);
    try {
      await next();
    } finally {
      budget?.give(held);
    }
  };
}
