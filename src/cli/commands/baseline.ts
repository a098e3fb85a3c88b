// `pmo-sync baseline create|list|slip`: capture each epic's target, forecast and scope under a
// name (now, or as of a past date from history), and read slip and scope change against it.
import type { Command } from 'commander';
import type { Db } from '../../../db/client.ts';
import { UsageError } from '../../errors.ts';
import { createBaseline, listBaselines, slipAgainst } from '../../forecast/baselines.ts';
import { toCsv } from '../../report/format.ts';
import { type CliContext, Exit } from '../context.ts';

const signed = (n: number | null) => (n === null ? '-' : n > 0 ? `+${n}d` : `${n}d`);

export function registerBaseline(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('baseline')
    .description('baselines: targets, forecasts and scope to measure slip against');
  cmd
    .command('create')
    .description("capture every open epic's target, P85 forecast and scope under a name")
    .argument('<name>', 'the baseline name, unique')
    .option('--program <id>', 'only this program')
    .option('--as-of <date>', 'as of a past date, reconstructed from history (YYYY-MM-DD)')
    .action(
      ctx.action(async (name: string, opts: { program?: string; asOf?: string }) => {
        const { config } = ctx.requireConfig();
        let asOf: Date | undefined;
        if (opts.asOf) {
          const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(opts.asOf) ? `${opts.asOf}T00:00:00Z` : opts.asOf);
          if (Number.isNaN(ms)) throw new UsageError(`--as-of must be a date like 2026-09-01, not "${opts.asOf}"`);
          asOf = new Date(ms);
        }
        const { db } = await ctx.database();
        const b = await createBaseline(db, {
          name,
          program: opts.program,
          asOf,
          now: new Date(),
          programs: config.portfolio.programs,
          settings: config.forecast,
        });
        ctx.io.stdout(`baseline "${b.name}" (${b.id}) captured ${b.epics} epics as of ${b.asOf.slice(0, 10)}\n`);
        return Exit.ok;
      }),
    );
  cmd
    .command('list')
    .description('the baselines taken')
    .action(
      ctx.action(async () => {
        ctx.requireConfig();
        const { db } = await ctx.database();
        for (const b of await listBaselines(db))
          ctx.io.stdout(`${b.id}\t${b.name}\t${b.program ?? 'portfolio'}\t${b.asOf.slice(0, 10)}\n`);
        return Exit.ok;
      }),
    );
  cmd
    .command('slip')
    .description('target and forecast slip, and scope change, since a baseline')
    .argument('<name>', 'the baseline name')
    .option('--json', 'JSON output')
    .action(
      ctx.action(async (name: string, opts: { json?: boolean }) => {
        ctx.requireConfig();
        const { db } = await ctx.database();
        ctx.io.stdout(await renderSlip(db, name, opts.json ? 'json' : 'table'));
        return Exit.ok;
      }),
    );
}

/** Slip since a baseline as `report --baseline` and `baseline slip` print it: table, json or csv. */
export async function renderSlip(db: Db, name: string, format: string): Promise<string> {
  const r = await slipAgainst(db, name);
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  if (format === 'csv')
    return toCsv(
      [
        'ref',
        'baselineTarget',
        'target',
        'targetSlipDays',
        'baselineP85',
        'p85',
        'forecastSlipDays',
        'added',
        'removed',
        'closed',
      ],
      r.rows.map((s) => [
        s.ref,
        s.baselineTarget,
        s.target,
        s.targetSlipDays,
        s.baselineP85,
        s.p85,
        s.forecastSlipDays,
        s.added.length,
        s.removed.length,
        s.closed,
      ]),
    );
  const lines = [`slip since baseline "${r.baseline.name}" (${r.baseline.asOf.slice(0, 10)})`];
  for (const s of r.rows)
    lines.push(
      `${s.ref.padEnd(28)} target ${s.baselineTarget ?? '-'} → ${s.target ?? '-'} (${signed(s.targetSlipDays)})  P85 ${s.baselineP85 ?? '-'} → ${s.p85 ?? '-'} (${signed(s.forecastSlipDays)})  scope +${s.added.length} −${s.removed.length}${s.closed ? '  closed' : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
