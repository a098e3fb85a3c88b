import { dirname } from 'node:path';
import type { Command } from 'commander';
import { createConnectors } from '../../../connectors/index.ts';
import { UsageError } from '../../errors.ts';
import { runSync } from '../../sync/run.ts';
import { buildSyncStages } from '../../sync/stages.ts';
import { formatSummary } from '../../sync/summary.ts';
import type { CliContext } from '../context.ts';
import { createProgress } from '../progress.ts';

interface SyncFlags {
  connection?: string[];
  full?: boolean;
  dryRun?: boolean;
  json?: boolean;
  reconcile?: boolean;
}

export function registerSync(program: Command, ctx: CliContext): void {
  program
    .command('sync')
    .description('one pass: pull, evaluate, roll up, write back; prints a summary')
    .option('--connection <id...>', 'only these connections (repeatable)')
    .option('--full', 're-read everything, ignoring cursors, and sweep for deleted items')
    .option('--reconcile', 'sweep for deleted and missed items after the pull')
    .option('--dry-run', 'plan writes, send none')
    .option('--json', 'print one JSON object on stdout (logs go to stderr)')
    .action(async (flags: SyncFlags) => {
      const { config, file } = ctx.requireConfig();
      const known = config.connections.map((c) => c.id);
      for (const id of flags.connection ?? []) {
        if (!known.includes(id))
          throw new UsageError(`--connection ${id}: no such connection (configured: ${known.join(', ')})`);
      }
      const log = ctx.log();
      const database = await ctx.database();
      const selected = config.connections.filter((c) => !flags.connection || flags.connection.includes(c.id));
      const connectors = createConnectors(selected, { log });
      ctx.onClose(async () => {
        for (const c of connectors.values()) await c.close();
      });
      const progress = !flags.json && ctx.io.isTTY ? createProgress(selected.map((c) => c.id)) : null;
      const summary = await runSync(
        {
          database,
          config,
          connectors,
          log,
          stages: await buildSyncStages({ config, cwd: dirname(file), log, database, connectors }),
        },
        {
          full: flags.full,
          reconcile: flags.reconcile,
          dryRun: flags.dryRun,
          onProgress: progress ? (e) => progress.update(e.connection, e.pulled) : undefined,
        },
      );
      progress?.stop();
      ctx.io.stdout(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      if (summary.connections.some((c) => c.status === 'failed')) process.exitCode = 1;
    });
}
