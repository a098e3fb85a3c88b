// A cap on the HTTP server's open connections. Node's own cap (net.Server#maxConnections)
// refuses every new connection once it is reached, so clients that trickle their headers or
// bodies could hold all of them and shut out /healthz and every real caller until the timeouts
// end them. Here a new connection at the cap drops the oldest connection that is not being
// answered (still sending its headers or body, or idle between keep-alive requests) instead;
// only when every connection is being answered is the new one refused.
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../core/log.ts';

export interface ConnectionGuard {
  /** Connections open now. */
  open(): number;
  /** Most connections open at once so far. */
  peak(): number;
  /** Connections dropped or refused because of the cap so far. */
  dropped(): number;
}

/** At most one warning a minute: under a flood the count matters, not a line per connection. */
const WARN_EVERY_MS = 60_000;

export function guardConnections(
  server: Server,
  opts: { max: number; log: Logger; now?: () => number },
): ConnectionGuard {
  const now = opts.now ?? Date.now;
  // Insertion order is age: the first evictable entry is the oldest.
  const open = new Map<Socket, { request: IncomingMessage | null; answering: boolean }>();
  let peak = 0;
  let dropped = 0;
  let droppedSinceWarning = 0;
  let warnedAt = Number.NEGATIVE_INFINITY;

  const evictable = (c: { request: IncomingMessage | null; answering: boolean }) =>
    c.request === null ? !c.answering : !c.request.complete;

  function count(): void {
    dropped++;
    droppedSinceWarning++;
    const t = now();
    if (t - warnedAt >= WARN_EVERY_MS) {
      opts.log.warn(
        { dropped: droppedSinceWarning, maxConnections: opts.max },
        'connection cap reached: dropped the oldest connections not being answered (server.maxConnections)',
      );
      warnedAt = t;
      droppedSinceWarning = 0;
    }
  }

  server.on('connection', (socket: Socket) => {
    if (open.size >= opts.max) {
      let victim: Socket | null = null;
      for (const [s, c] of open) {
        if (evictable(c)) {
          victim = s;
          break;
        }
      }
      count();
      if (!victim) {
        socket.destroy();
        return;
      }
      open.delete(victim);
      victim.destroy();
    }
    open.set(socket, { request: null, answering: false });
    peak = Math.max(peak, open.size);
    socket.once('close', () => open.delete(socket));
  });

  server.on('request', (req: IncomingMessage, res) => {
    const c = open.get(req.socket);
    if (!c) return;
    c.request = req;
    c.answering = true;
    res.once('close', () => {
      // Between keep-alive requests the connection waits, and may be dropped again.
      if (open.get(req.socket) === c) {
        c.request = null;
        c.answering = false;
      }
    });
  });

  return {
    open: () => open.size,
    peak: () => peak,
    dropped: () => dropped,
  };
}
