import type { Command } from 'commander';
import { type CliContext, Exit } from '../context.ts';

export function registerMigrate(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply database migrations (serve and sync also do)')
    .action(
      ctx.action(async () => {
        const database = await ctx.database();
        ctx.io.stdout(`migrations applied (${database.driver}: ${database.location})\n`);
        return Exit.ok;
      }),
    );
}
