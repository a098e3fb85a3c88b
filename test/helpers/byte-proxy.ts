// A proxy in front of a tracker simulator that answers with bytes no simulator writes: it swaps a
// marker in every response body for bytes that are not UTF-8, and sends each body one byte per
// chunk, so a client that decodes chunks on their own splits every multi-byte character. The
// simulator's own address in a body (Azure DevOps location discovery) is rewritten to the
// proxy's, so every request of the client comes back through it.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const MARKER = '@@NOT-UTF-8@@';
/** A lead byte without its continuation, a byte UTF-8 never uses, a truncated three-byte sequence. */
export const INVALID_UTF8 = Buffer.from([0xc3, 0x28, 0xff, 0xe2, 0x82]);

export interface ByteProxy {
  /** The target's URL with the proxy's origin (the path, an Azure DevOps organization, kept). */
  url: string;
  close(): Promise<void>;
}

export async function startByteProxy(target: string): Promise<ByteProxy> {
  const upstream = new URL(target);
  let self = '';
  const server: Server = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const headers = { ...req.headers, host: upstream.host, 'accept-encoding': 'identity' };
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () => {
            const text = Buffer.concat(chunks).toString('latin1').replaceAll(upstream.origin, self);
            const bytes = Buffer.from(text, 'latin1');
            const parts: Buffer[] = [];
            let from = 0;
            const marker = Buffer.from(MARKER);
            for (let at = bytes.indexOf(marker); at >= 0; at = bytes.indexOf(marker, from)) {
              parts.push(bytes.subarray(from, at), INVALID_UTF8);
              from = at + marker.length;
            }
            parts.push(bytes.subarray(from));
            const reply = Buffer.concat(parts);
            const { 'content-length': _length, 'transfer-encoding': _encoding, ...rest } = up.headers;
            res.writeHead(up.statusCode ?? 502, rest);
            for (let i = 0; i < reply.length; i++) res.write(reply.subarray(i, i + 1));
            res.end();
          });
        },
      );
      out.on('error', (e) => res.destroy(e));
      out.end(Buffer.concat(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${self}${upstream.pathname.replace(/\/$/, '')}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
