import type { Command } from 'commander';
import { demoBanner, startDemo } from '../../demo/run.ts';
import { UsageError } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import { untilSignal } from '../../server/start.ts';
import type { CliContext } from '../context.ts';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run both tracker simulators with a sample portfolio, sync, write back and serve the dashboard')
    .option('--port <port>', 'dashboard port (default 8787, or $PORT)')
    .action(async (opts: { port?: string }) => {
      const raw = opts.port ?? ctx.io.env.PORT;
      const port = raw === undefined ? 8787 : Number(raw);
      if (!(Number.isInteger(port) && port >= 0 && port < 65536))
        throw new UsageError(`--port must be a port number, not "${raw}"`);
      // The banner says what matters; routine logs would bury it (--verbose brings them back).
      const g = ctx.globals();
      const log = g.verbose || g.logLevel || ctx.io.env.LOG_LEVEL ? ctx.log() : createLogger({ level: 'warn' });
      ctx.io.stderr('pmo-sync demo: starting the Jira and Azure DevOps simulators, seeding a sample portfolio…\n');
      const demo = await startDemo({ cwd: ctx.io.cwd, log, port });
      ctx.io.stdout(demoBanner(demo));
      await untilSignal();
      ctx.io.stderr('pmo-sync demo: stopping…\n');
      await demo.stop();
    });
}
