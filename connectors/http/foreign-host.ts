// For tests: a second local listener standing in for a host the credential must never reach. It
// records every request it receives (method, path, whether it carried an Authorization header,
// the body) and answers 200 with an empty JSON list, so a client that did follow would carry on.
// Not imported by production code.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForeignRequest {
  method: string;
  path: string;
  authorization: boolean;
  body: string;
}

export interface ForeignHost {
  /** `http://127.0.0.1:<port>` */
  url: string;
  host: string;
  received(): ForeignRequest[];
  close(): Promise<void>;
}

export async function startForeignHost(): Promise<ForeignHost> {
  const received: ForeignRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        authorization: req.headers.authorization !== undefined,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"count":0,"value":[]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${host}`,
    host,
    received: () => received.map((r) => ({ ...r })),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
