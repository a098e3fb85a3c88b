// The first-sync guard CI runs (issue 27): the zero-latency first sync at a reduced size, on
// PGlite and (when reachable) Postgres, each in a fresh process, checked against the figures
// in bench/guard.json. It fails when peak RSS grows, or CPU time per item grows, beyond the
// margins stated there. CPU time of the pipeline's process, not wall time: the CI machine is
// shared, and wall time there says more about the neighbours than about the code.
// `npm run bench:guard -- --update` records the current figures as the new baseline.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { postgresReachable } from './lib/db.ts';
import { runZeroLatencyScenario } from './scenarios/zero.ts';

export interface GuardFigures {
  peakRssMiB: number;
  cpuMsPerThousandItems: number;
  itemsPerSec: number;
}

export interface Margins {
  peakRss: number;
  cpuPerItem: number;
}

/** What regressed beyond the margins (empty when nothing did), and the limits it was held to. */
export function judge(base: GuardFigures, now: GuardFigures, margins: Margins) {
  const rssLimit = Math.round(base.peakRssMiB * (1 + margins.peakRss));
  const cpuLimit = Math.round(base.cpuMsPerThousandItems * (1 + margins.cpuPerItem));
  const over: string[] = [];
  if (now.peakRssMiB > rssLimit) over.push(`peak RSS ${now.peakRssMiB} MiB > ${rssLimit} MiB`);
  if (now.cpuMsPerThousandItems > cpuLimit)
    over.push(`CPU ${now.cpuMsPerThousandItems} ms > ${cpuLimit} ms per 1,000 items`);
  return { over, rssLimit, cpuLimit };
}

interface GuardFile {
  size: { jiraItems: number; adoItems: number };
  /** Growth allowed over the baseline before the guard fails, as a fraction (0.25 = 25%). */
  margins: Margins;
  baseline: Partial<Record<'pglite' | 'postgres', GuardFigures & { commit: string | null }>>;
}

const FILE = fileURLToPath(new URL('./guard.json', import.meta.url));

function commit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const update = process.argv.includes('--update');
  const guard = JSON.parse(readFileSync(FILE, 'utf8')) as GuardFile;
  const kinds: ('pglite' | 'postgres')[] = ['pglite'];
  if (await postgresReachable()) kinds.push('postgres');
  let failed = 0;
  for (const db of kinds) {
    const f = await runZeroLatencyScenario({ db, ...guard.size });
    const items = f.jiraItems + f.adoItems;
    const now: GuardFigures = {
      peakRssMiB: Math.round(f.peakRssMiB),
      cpuMsPerThousandItems: Math.round((f.pipelineCpuMs / items) * 1000),
      itemsPerSec: Math.round(f.itemsPerSec),
    };
    const base = guard.baseline[db];
    const line = `bench guard ${db}: ${items} items, peak RSS ${now.peakRssMiB} MiB, CPU ${now.cpuMsPerThousandItems} ms per 1,000 items, ${now.itemsPerSec} items/s`;
    if (update || !base) {
      guard.baseline[db] = { ...now, commit: commit() };
      process.stdout.write(`${line} (recorded as the baseline)\n`);
      continue;
    }
    const { over, rssLimit, cpuLimit } = judge(base, now, guard.margins);
    if (over.length > 0) failed++;
    process.stdout.write(
      over.length > 0
        ? `${line}: REGRESSED (${over.join('; ')}; baseline from ${base.commit ?? 'an earlier commit'} in bench/guard.json)\n`
        : `${line}: within the margins (limits ${rssLimit} MiB, ${cpuLimit} ms)\n`,
    );
  }
  if (update) writeFileSync(FILE, `${JSON.stringify(guard, null, 2)}\n`);
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench guard: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
