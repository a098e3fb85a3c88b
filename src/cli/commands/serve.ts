import { dirname } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { bindHttp } from '../../server/listen.ts';
import { createShutdown } from '../../server/shutdown.ts';
import { httpLimits, startServer } from '../../server/start.ts';
import { applyStoredSecrets } from '../../webhooks/secrets.ts';
import type { CliContext } from '../context.ts';

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('serve the HTTP API, dashboard, webhooks, scheduler and write-back worker')
    .option('--port <port>', 'HTTP port (default: server.port, 8787)')
    .option('--no-schedule', 'do not run the cron schedule (webhooks and writes still run)')
    .action(async (opts: { port?: string; schedule: boolean }) => {
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
        throw new UsageError(`--port must be a port number, not "${opts.port}"`);
      }
      const { config, file } = ctx.requireConfig();
      const log = ctx.log();
      // Closers run last-registered first: the signal listeners go last, after the database.
      const shutdown = createShutdown({ say: (line) => ctx.io.stderr(`${line}\n`) });
      ctx.onClose(() => shutdown.dispose());
      // The port first: when it is taken, nothing else (database, trackers, loops) has started.
      const http = await bindHttp({
        port: port ?? config.server.port,
        host: config.server.host,
        limits: httpLimits(config.server),
        log,
      });
      ctx.onClose(() => http.close());
      const database = await ctx.database();
      if (shutdown.signal.aborted) return;
      await applyStoredSecrets(database.db, config);
      // PMO_SYNC_LEASE_MS tunes how fast a dead replica's claimed work is taken over.
      const leaseMs = ctx.io.env.PMO_SYNC_LEASE_MS ? Number(ctx.io.env.PMO_SYNC_LEASE_MS) : undefined;
      const server = await startServer({
        config,
        database,
        log,
        cwd: dirname(file),
        http,
        schedule: opts.schedule,
        leaseMs,
      });
      let stopped: Promise<void> | undefined;
      const stop = () => {
        stopped ??= server.stop();
        return stopped;
      };
      ctx.onClose(stop);
      ctx.io.stderr(`pmo-sync serving on ${server.url} (dashboard /, API /api/v1, docs /docs); Ctrl-C stops\n`);
      const sig = await shutdown.requested;
      log.info({ signal: sig }, 'stopping');
      await stop();
    });
}
