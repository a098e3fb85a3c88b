import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { type Demo, demoBanner, startDemo } from '../../demo/run.ts';
import { createShutdown } from '../../server/shutdown.ts';
import type { CliContext } from '../context.ts';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run both tracker simulators with a sample portfolio, sync, write back and serve the dashboard')
    .option('--port <port>', 'dashboard port (default 8787, or $PORT; a free one when it is taken)')
    .action(async (opts: { port?: string }) => {
      const raw = opts.port ?? ctx.io.env.PORT;
      const port = raw === undefined ? 8787 : Number(raw);
      if (!(Number.isInteger(port) && port >= 0 && port < 65536))
        throw new UsageError(`--port must be a port number, not "${raw}"`);
      // The banner says what matters; routine logs would bury it (--verbose brings them back).
      const g = ctx.globals();
      const log = g.verbose || g.logLevel || ctx.io.env.LOG_LEVEL ? ctx.log() : createLogger({ level: 'warn' });
      const say = (line: string) => ctx.io.stderr(`${line}\n`);
      const shutdown = createShutdown({ say });
      ctx.onClose(() => shutdown.dispose());
      say('pmo-sync demo: starting the Jira and Azure DevOps simulators, seeding a sample portfolio…');
      let demo: Demo;
      try {
        demo = await startDemo({ cwd: ctx.io.cwd, log, port, signal: shutdown.signal, say });
      } catch (err) {
        // Stopped while starting: whatever started is stopped again, and that is a clean end.
        if (shutdown.signal.aborted) return;
        throw err;
      }
      let stopped: Promise<void> | undefined;
      const stop = () => {
        stopped ??= demo.stop();
        return stopped;
      };
      ctx.onClose(stop);
      ctx.io.stdout(demoBanner(demo));
      await shutdown.requested;
      say('pmo-sync demo: stopping…');
      await stop();
      say(`pmo-sync demo: stopped; removed ${demo.runDir}`);
    });
}
