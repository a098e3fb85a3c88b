// A hostile HTTP client on a bare socket: sends a request body of any size, chunked or with any
// Content-Length (true or not), as fast as the server reads it or a few bytes at a time. What the
// server answered and how much the client managed to send come back. It stops sending the moment
// a response arrives, unless told to keep sending (as most clients do) until the server closes.
import { connect } from 'node:net';

export interface RawRequest {
  port: number;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  /** Body bytes to send in all; sent as `chunk` repeated (the last one cut). */
  total: number;
  chunk?: Buffer;
  /** Transfer-Encoding: chunked, no Content-Length. */
  chunked?: boolean;
  /** Content-Length to declare (defaults to `total` unless chunked). */
  declaredLength?: number;
  /** Stop after sending this many body bytes and keep the connection open, silent. */
  stallAfter?: number;
  /** Go on sending after the response came, as clients that read only once they sent all do. */
  keepSending?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes written to the socket before the response came or the connection closed. */
  sent: number;
}

export function rawRequest(r: RawRequest): Promise<RawResponse> {
  const chunk = r.chunk ?? Buffer.alloc(64 * 1024, 'x');
  const head = [
    `${r.method ?? 'POST'} ${r.path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...(r.chunked ? ['Transfer-Encoding: chunked'] : [`Content-Length: ${r.declaredLength ?? r.total}`]),
    ...Object.entries(r.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(r.port, '127.0.0.1');
    let sent = 0;
    let stop = false;
    let received = Buffer.alloc(0);
    let settled = false;
    let sending = true;
    /** Resolves once a whole response is in (and, keeping on sending, the body is out), or rejects on a close without one. */
    const finish = (closed: boolean) => {
      if (settled) return;
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        if (!closed) return;
        settled = true;
        reject(new Error(`connection closed without a response after ${sent} body bytes`));
        return;
      }
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const length = Number(headers['content-length'] ?? Number.NaN);
      const body = received.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
      if (!closed && Number.isFinite(length) && body.length < length) return;
      if (!closed && r.keepSending && sending) return;
      settled = true;
      stop = true;
      socket.destroy();
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: body.toString('utf8'), sent });
    };
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (!r.keepSending) stop = true;
      finish(false);
    });
    socket.on('close', () => {
      stop = true;
      sending = false;
      finish(true);
    });
    // The server closing mid-upload shows up as EPIPE or ECONNRESET: the response, if any, is read.
    socket.on('error', () => {});
    socket.on('connect', async () => {
      socket.write(head);
      const until = Math.min(r.total, r.stallAfter ?? r.total);
      while (!stop && sent < until) {
        const piece = chunk.subarray(0, Math.min(chunk.length, until - sent));
        const framed = r.chunked
          ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
          : piece;
        sent += piece.length;
        if (!socket.write(framed)) {
          await new Promise<void>((ok) => {
            const go = () => {
              socket.off('drain', go);
              socket.off('close', go);
              ok();
            };
            socket.on('drain', go);
            socket.on('close', go);
          });
        }
      }
      if (!stop && r.stallAfter === undefined && r.chunked) socket.write('0\r\n\r\n');
      if (r.stallAfter === undefined) {
        sending = false;
        finish(false);
      }
    });
  });
}
