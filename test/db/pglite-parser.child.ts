// Child of pglite-parser.test.ts: opens a new PGlite directory, migrates, asks for a
// memory-reducing collection (as a large sync does) and parses a few hundred statements, under
// `--trace-wasm-compilation-times`. Prints one JSON line with its peak RSS.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../db/client.ts';
import { releaseFreedMemory } from '../../src/util/memory.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmo-parser-'));
try {
  const db = await openDatabase(join(dir, 'db'));
  await db.migrate();
  releaseFreedMemory();
  for (let i = 0; i < 400; i++)
    await db.db.execute(
      sql.raw(`select ${i} as n, 'x' || ${i} as s where exists (select 1 from pg_class where relname = 'work_items')`),
    );
  await db.close();
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  process.stdout.write(`${JSON.stringify({ peakRssMiB: Math.round(hwm / 1024) })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
