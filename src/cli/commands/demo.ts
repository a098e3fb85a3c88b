import type { Command } from 'commander';
import { NotAvailableError } from '../../errors.ts';
import type { CliContext } from '../context.ts';

export function registerDemo(program: Command, _ctx: CliContext): void {
  program
    .command('demo')
    .description('run both tracker simulators with a sample portfolio, sync, write back and serve the dashboard')
    .action(() => {
      throw new NotAvailableError('The demo (pmo-sync demo)');
    });
}
