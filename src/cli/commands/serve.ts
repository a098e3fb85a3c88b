import type { Command } from 'commander';
import { NotAvailableError } from '../../errors.ts';
import type { CliContext } from '../context.ts';

export function registerServe(program: Command, _ctx: CliContext): void {
  program
    .command('serve')
    .description('serve the HTTP API, dashboard, webhooks, scheduler and write-back worker')
    .action(() => {
      throw new NotAvailableError('The server (pmo-sync serve)');
    });
}
