import type { Command } from 'commander';
import { UsageError } from '../../errors.ts';
import { CSV_WHAT, type CsvWhat, formatCsv, formatJson, formatTable, toCsv } from '../../report/format.ts';
import { loadReport } from '../../report/load.ts';
import { reviewWrites, type WriteReview } from '../../report/writes.ts';
import { count } from '../../util/plural.ts';
import { FILTER_KEYS, parseFilter } from '../../workspace/filters.ts';
import { retryDeadWrites } from '../../writeback/admin.ts';
import { type CliContext, Exit } from '../context.ts';
import { renderSlip } from './baseline.ts';

const FORMATS = ['table', 'json', 'csv'] as const;

interface ReportOpts {
  format: string;
  what?: string;
  program?: string;
  tracker?: string;
  project?: string;
  team?: string;
  owner?: string;
  writes?: boolean;
  baseline?: string;
}

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('findings and rollups from the database: the same epics and figures as the dashboard')
    .option('--format <format>', 'table | json | csv', 'table')
    .option('--what <rows>', `csv rows: ${CSV_WHAT.join(' | ')}`, 'items')
    .option('--program <id>', 'only this program')
    .option('--tracker <tracker>', 'only this tracker: jira | azure-devops')
    .option('--project <connection:project>', 'only this project, e.g. jira-main:PAY')
    .option('--team <team>', 'only this team or area path (and the paths under it)')
    .option('--owner <person>', 'only items this person owns (or is assigned): id or display name')
    .option('--baseline <name>', 'slip and scope change since this baseline instead (pmo-sync baseline list)')
    .option(
      '--writes',
      'the write outbox instead: each planned or waiting write with its comment text, labels, field values and what it changes',
    )
    .action(
      ctx.action(async (opts: ReportOpts) => {
        if (!FORMATS.includes(opts.format as (typeof FORMATS)[number])) {
          throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
        }
        const what = (opts.what ?? 'items') as CsvWhat;
        if (!CSV_WHAT.includes(what)) {
          throw new UsageError(`--what must be one of ${CSV_WHAT.join(', ')}, not "${opts.what}"`);
        }
        const { filter, problems } = parseFilter(
          Object.fromEntries(FILTER_KEYS.map((k) => [k, opts[k]])) as Record<string, string | undefined>,
        );
        if (problems.length > 0) throw new UsageError(`--${problems[0]}`);
        // The report is of the database a configuration names: without one there is nothing to
        // report on, and an empty default database would read as "all is well".
        const { config } = ctx.requireConfig();
        const { db } = await ctx.database();
        if (opts.baseline) {
          ctx.io.stdout(await renderSlip(db, opts.baseline, opts.format));
          return Exit.ok;
        }
        if (opts.writes) {
          const filtered = Object.keys(filter).length > 0;
          const refs = filtered
            ? new Set((await loadReport(db, { config, filter })).items.map((i) => i.ref))
            : undefined;
          const rows = await reviewWrites(db, { refs });
          if (opts.format === 'json') ctx.io.stdout(`${JSON.stringify({ writes: rows }, null, 2)}\n`);
          else if (opts.format === 'csv') ctx.io.stdout(writesCsv(rows));
          else ctx.io.stdout(writesTable(rows));
          return Exit.ok;
        }
        const report = await loadReport(db, { config, filter });
        const out =
          opts.format === 'json'
            ? formatJson(report)
            : opts.format === 'csv'
              ? formatCsv(report, what)
              : formatTable(report);
        ctx.io.stdout(out);
        return Exit.ok;
      }),
    );
}

function writesCsv(rows: WriteReview[]): string {
  return toCsv(
    [
      'id',
      'connection',
      'ref',
      'target',
      'status',
      'change',
      'action',
      'commentText',
      'commentDiff',
      'labelsAdd',
      'labelsRemove',
      'fields',
      'fieldChanges',
      'attempts',
      'failures',
      'lastError',
    ],
    rows.map((r) => [
      r.id,
      r.connection,
      r.ref,
      r.target,
      r.status,
      r.change,
      r.action,
      r.commentText ?? '',
      r.commentDiff.join('\n'),
      r.labels?.add.join(' ') ?? '',
      r.labels?.remove.join(' ') ?? '',
      r.fields ? JSON.stringify(r.fields) : '',
      r.fieldChanges.map((c) => `${c.field}: ${c.before ?? '—'} → ${c.after ?? '—'}`).join('; '),
      r.attempts,
      r.failures,
      r.lastError ?? '',
    ]),
  );
}

function writesTable(rows: WriteReview[]): string {
  if (rows.length === 0) return 'no writes planned, waiting or failed\n';
  const out: string[] = [];
  const byStatus = new Map<string, number>();
  for (const r of rows) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  out.push(
    `${count(rows.length, 'write')}: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')} (planned = a dry run's; an enforce run sends exactly these)`,
  );
  for (const r of rows) {
    out.push(
      '',
      `#${r.id}  ${r.status}  ${r.ref}  ${r.target}  ${r.change === 'new' ? 'new: never applied' : r.change === 'changed' ? 'changes the applied state' : 'same as applied'}${r.failures ? `  failed ${r.failures}×: ${r.lastError ?? ''}` : ''}`,
    );
    if (r.target === 'comment') {
      if (r.action === 'delete') out.push('  delete the bot comment');
      else if (r.change === 'changed') for (const l of r.commentDiff) out.push(`  ${l}`);
      else for (const l of (r.commentText ?? '').split('\n')) out.push(`  | ${l}`);
    }
    if (r.labels) {
      const l = r.labels;
      out.push(`  labels: ${[...l.add.map((x) => `+${x}`), ...l.remove.map((x) => `-${x}`)].join(' ') || 'none'}`);
    }
    if (r.fields) {
      for (const [field, value] of Object.entries(r.fields)) {
        const c = r.fieldChanges.find((x) => x.field === field);
        out.push(
          `  ${field} = ${value ?? '(cleared)'}${c && r.change !== 'new' ? `  (was ${c.before ?? '(unset)'})` : ''}`,
        );
      }
    }
  }
  return `${out.join('\n')}\n`;
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
