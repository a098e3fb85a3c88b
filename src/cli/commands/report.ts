import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { formatCsv, formatJson, formatTable } from '../../report/format.ts';
import { loadReport } from '../../report/load.ts';
import type { CliContext } from '../context.ts';

const FORMATS = ['table', 'json', 'csv'] as const;

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('findings and rollups from the database')
    .option('--format <format>', 'table | json | csv', 'table')
    .option('--program <id>', 'only this program')
    .action(async (opts: { format: string; program?: string }) => {
      if (!FORMATS.includes(opts.format as (typeof FORMATS)[number])) {
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
      }
      const { db } = await ctx.database();
      const report = await loadReport(db, { config: ctx.config()?.config ?? null, program: opts.program });
      const render = opts.format === 'json' ? formatJson : opts.format === 'csv' ? formatCsv : formatTable;
      ctx.io.stdout(render(report));
    });
}
