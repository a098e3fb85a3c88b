import type { Command } from 'commander';
import { NotAvailableError } from '../../errors.ts';
import type { CliContext } from '../context.ts';

export function registerRules(program: Command, _ctx: CliContext): void {
  const rules = program.command('rules').description('governance rules: list, lint, test, preview');
  for (const [name, desc] of [
    ['list', 'list active rules with severity and source'],
    ['lint', 'check rule files'],
    ['test', 'run the test cases declared beside rules'],
  ] as const) {
    rules
      .command(name)
      .description(desc)
      .action(() => {
        throw new NotAvailableError(`pmo-sync rules ${name}`);
      });
  }
}
