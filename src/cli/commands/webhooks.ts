import type { Command } from 'commander';
import { NotAvailableError } from '../../errors.ts';
import type { CliContext } from '../context.ts';

export function registerWebhooks(program: Command, _ctx: CliContext): void {
  const webhooks = program.command('webhooks').description('tracker webhook registrations');
  webhooks
    .command('install')
    .description('register Jira webhooks and Azure DevOps service hooks pointing at server.publicUrl')
    .action(() => {
      throw new NotAvailableError('Webhook installation (pmo-sync webhooks install)');
    });
}
