// Creates a PGlite data directory (initdb) and exits: run by db/client.ts in a child process,
// because the memory initdb touches in the process that runs it is never given back to the
// system (about 170 MiB of RSS, a third of a server's budget). Plain JavaScript so that any
// Node can run it without a loader. Usage: node db/pglite-init.mjs <dir>
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: pglite-init.mjs <data directory>\n');
  process.exit(2);
}
try {
  // The buffer pool db/client.ts opens the database with (PGLITE_SETTINGS): Postgres's default
  // of 128 MB is memory this process would touch for nothing.
  const db = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] });
  await db.close();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
