import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { formatCsv, formatJson, formatTable, toCsv } from '../../report/format.ts';
import { loadReport } from '../../report/load.ts';
import { count } from '../../util/plural.ts';
import { listWrites, retryDeadWrites } from '../../writeback/admin.ts';
import { type CliContext, Exit } from '../context.ts';
import { renderSlip } from './baseline.ts';

const FORMATS = ['table', 'json', 'csv'] as const;

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('findings and rollups from the database')
    .option('--format <format>', 'table | json | csv', 'table')
    .option('--program <id>', 'only this program')
    .option('--writes', 'the write outbox instead: waiting, in flight, dry-run planned and dead-lettered writes')
    .option('--baseline <name>', 'slip and scope change since this baseline instead (pmo-sync baseline list)')
    .action(
      ctx.action(async (opts: { format: string; program?: string; writes?: boolean; baseline?: string }) => {
        if (!FORMATS.includes(opts.format as (typeof FORMATS)[number])) {
          throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
        }
        // The report is of the database a configuration names: without one there is nothing to
        // report on, and an empty default database would read as "all is well".
        const { config } = ctx.requireConfig();
        const { db } = await ctx.database();
        if (opts.baseline) {
          ctx.io.stdout(await renderSlip(db, opts.baseline, opts.format));
          return Exit.ok;
        }
        if (opts.writes) {
          const rows = await listWrites(db);
          if (opts.format === 'json') ctx.io.stdout(`${JSON.stringify({ writes: rows }, null, 2)}\n`);
          else if (opts.format === 'csv') {
            ctx.io.stdout(
              toCsv(
                ['id', 'connection', 'ref', 'target', 'status', 'attempts', 'failures', 'lastError', 'nextAttemptAt'],
                rows.map((r) => [
                  r.id,
                  r.connection,
                  r.ref,
                  r.target,
                  r.status,
                  r.attempts,
                  r.failures,
                  r.lastError,
                  r.nextAttemptAt,
                ]),
              ),
            );
          } else {
            ctx.io.stdout(rows.length === 0 ? 'no writes waiting or failed\n' : '');
            for (const r of rows) {
              ctx.io.stdout(
                `${String(r.id).padStart(6)}  ${r.status.padEnd(9)} ${r.ref.padEnd(24)} ${r.target.padEnd(8)} attempts ${r.attempts} failed ${r.failures}${r.lastError ? `  ${r.lastError}` : ''}\n`,
              );
            }
          }
          return Exit.ok;
        }
        const report = await loadReport(db, { config, program: opts.program });
        const render = opts.format === 'json' ? formatJson : opts.format === 'csv' ? formatCsv : formatTable;
        ctx.io.stdout(render(report));
        return Exit.ok;
      }),
    );
}

export function registerWrites(program: Command, ctx: CliContext): void {
  const writes = program.command('writes').description('the write outbox: retry dead-lettered writes');
  writes
    .command('retry')
    .description('put dead-lettered writes back in the queue (all, or --id)')
    .option('--id <id...>', 'only these outbox ids')
    .action(
      ctx.action(async (opts: { id?: string[] }) => {
        const ids = opts.id?.map((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--id must be a positive integer, not "${v}"`);
          return n;
        });
        ctx.requireConfig();
        const { db } = await ctx.database();
        const r = await retryDeadWrites(db, ids);
        ctx.io.stdout(
          `${count(r.retried, 'write')} queued again${r.superseded ? `, ${r.superseded} superseded by newer plans` : ''}\n`,
        );
        return Exit.ok;
      }),
    );
}
