// Creates a PGlite data directory (initdb) and exits: run by db/client.ts in a child process,
// because the memory initdb touches in the process that runs it is never given back to the
// system, and a server must not carry it for its whole life. Plain JavaScript so that any
// Node can run it without a loader. Usage: node db/pglite-init.mjs <dir> [postgres start options…]
import { PGlite } from '@electric-sql/pglite';

const [dir, ...settings] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: pglite-init.mjs <data directory> [postgres start options…]\n');
  process.exit(2);
}
try {
  // The settings db/client.ts opens the database with (PGLITE_SETTINGS): a default-sized
  // buffer pool is memory this process would touch for nothing.
  const db = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...settings] });
  await db.close();
} catch (err) {
  // One JSON line for db/client.ts to describe: PGlite's file system throws bare `{ errno }`
  // objects (a full disk was "[object Object]"), Node's throws errors with a code and a path.
  const e = err ?? {};
  const report = {
    name: typeof e.name === 'string' ? e.name : undefined,
    message: typeof e.message === 'string' ? e.message : typeof err === 'string' ? err : undefined,
    code: typeof e.code === 'string' ? e.code : undefined,
    errno: typeof e.errno === 'number' ? e.errno : undefined,
  };
  process.stderr.write(`${JSON.stringify(report)}\n`);
  process.exit(1);
}
