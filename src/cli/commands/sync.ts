// `pmo-sync sync`: one pass over the configured connections. The summary goes to stdout (JSON
// with --json); each connection that failed is one line on stderr, printed when it fails; the
// exit code is 0 only when every connection of the pass was synced (DESIGN.md, honest outcomes).

import { dirname } from 'node:path';
import type { Command } from 'commander';
import { createConnectors } from '../../../connectors/index.ts';
import { createKvTokenStore } from '../../auth/jira-tokens.ts';
import { buildSyncPipeline } from '../../sync/pipeline.ts';
import { runSync } from '../../sync/run.ts';
import { formatSummary, type SyncSummary } from '../../sync/summary.ts';
import { connectionFailure, selectConnections } from '../connections.ts';
import { type CliContext, Exit } from '../context.ts';
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
    .addHelpText(
      'after',
      '\nExit codes: 0 every connection was synced; 1 a connection failed, or was not synced because\n' +
        'another sync of it was running (one line each on stderr); 2 bad usage or configuration.\n',
    )
    .action(
      ctx.action(async (flags: SyncFlags) => {
        const { config, file } = ctx.requireConfig();
        const selected = selectConnections(config, flags.connection);
        const log = ctx.log();
        const database = await ctx.database();
        const connectors = createConnectors(selected, {
          log,
          sleep: ctx.deps.sleep,
          tokenStore: createKvTokenStore(database.db),
        });
        ctx.onClose(async () => {
          for (const c of connectors.values()) await c.close();
        });
        const pipeline = await buildSyncPipeline({ config, cwd: dirname(file), log, database, connectors });
        const terminal = flags.json ? undefined : ctx.io.terminal;
        const progress = terminal ? createProgress({ stream: terminal, connections: selected.map((c) => c.id) }) : null;
        const undivert = progress ? ctx.divertStderr((t) => progress.log(t)) : () => {};
        let summary: SyncSummary;
        try {
          summary = await runSync(
            { database, config, connectors, log, pipeline },
            {
              full: flags.full,
              reconcile: flags.reconcile,
              dryRun: flags.dryRun,
              onProgress: progress ? (e) => progress.update(e) : undefined,
              onConnectionError: (id, err) => ctx.stderr(connectionFailure(ctx, 'sync failed', id, err)),
            },
          );
        } finally {
          progress?.stop();
          undivert();
        }
        ctx.io.stdout(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
        // A connection another sync holds was not synced by this one: a cron job must hear of it.
        for (const c of summary.connections.filter((x) => x.status === 'skipped')) {
          ctx.stderr(
            `pmo-sync: connection ${c.id}: not synced: another sync of it is running (pmo-sync serve's schedule or another sync command); this pass left it as it was, the next one will sync it\n`,
          );
        }
        return summary.connections.every((c) => c.status === 'ok') ? Exit.ok : Exit.failed;
      }),
    );
}
