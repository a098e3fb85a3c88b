// `pmo-sync forecast show|backtest`: the stored forecasts, and calibration measured by forecasting
// from the history known at a past date and comparing with what happened since.
import type { Command } from 'commander';
import { planFlowPortfolio } from '../../../connectors/flow-portfolio.ts';
import { forecasts } from '../../../db/schema.ts';
import { UsageError } from '../../core/errors.ts';
import { type BacktestResult, backtest, flowItemsOf } from '../../forecast/backtest.ts';
import { loadFlowItems } from '../../forecast/compute.ts';
import { type CliContext, Exit } from '../context.ts';

function parseDate(v: string, flag: string): Date {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} must be a date like 2026-09-01, not "${v}"`);
  return new Date(ms);
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${Math.round(x * 1000) / 10}%`);

export function renderBacktest(r: BacktestResult): string {
  return [
    `backtest as of ${r.asOf.slice(0, 10)}, compared with ${r.now.slice(0, 10)}`,
    `  epics forecast: ${r.forecast} (finished since: ${r.finished}; without a dated forecast: ${r.lowConfidence})`,
    `  finished by P50: ${pct(r.p50.share)} of ${r.p50.evaluable}   (calibrated: ~50%)`,
    `  finished by P85: ${pct(r.p85.share)} of ${r.p85.evaluable}   (calibrated: ~85%)`,
    `  finished by P95: ${pct(r.p95.share)} of ${r.p95.evaluable}   (calibrated: ~95%)`,
    `  mean absolute error of P50: ${r.maeDays === null ? 'n/a' : `${r.maeDays} days`}`,
    '',
  ].join('\n');
}

export function registerForecast(program: Command, ctx: CliContext): void {
  const cmd = program.command('forecast').description('completion forecasts: the stored ones, and their calibration');
  cmd
    .command('show')
    .description('the stored forecast of every open epic, feature, project and program')
    .option('--json', 'JSON output')
    .action(
      ctx.action(async (opts: { json?: boolean }) => {
        ctx.requireConfig();
        const { db } = await ctx.database();
        const rows = await db.select().from(forecasts).orderBy(forecasts.scope);
        if (opts.json) ctx.io.stdout(`${JSON.stringify({ forecasts: rows }, null, 2)}\n`);
        else {
          if (rows.length === 0) ctx.io.stdout('no forecasts yet: run pmo-sync sync\n');
          for (const f of rows)
            ctx.io.stdout(
              `${f.scope.padEnd(36)} ${f.status.padEnd(10)} ${f.confidence.padEnd(6)} P50 ${f.p50 ?? '-'}  P85 ${f.p85 ?? '-'}  P95 ${f.p95 ?? '-'}  target ${f.target ?? '-'}  on time ${f.onTimeProbability === null ? '-' : pct(f.onTimeProbability)}${f.reason ? `  (${f.reason})` : ''}\n`,
            );
        }
        return Exit.ok;
      }),
    );
  cmd
    .command('backtest')
    .description('forecast from the history known at --as-of and compare with what happened since')
    .requiredOption('--as-of <date>', 'the past date to forecast from (YYYY-MM-DD)')
    .option('--generated', "on the simulators' generated flow portfolio instead of the database")
    .option('--json', 'JSON output')
    .action(
      ctx.action(async (opts: { asOf: string; generated?: boolean; json?: boolean }) => {
        const asOf = parseDate(opts.asOf, '--as-of');
        const now = new Date();
        if (asOf.getTime() >= now.getTime()) throw new UsageError('--as-of must be in the past');
        let result: BacktestResult;
        if (opts.generated) {
          // The portfolio the issue's figures are quoted on (BENCHMARKS.md): 12 teams, 24 epics each.
          const plan = planFlowPortfolio({ teams: 12, epicsPerTeam: 24, weeksBack: 40, now: now.getTime(), seed: 26 });
          result = backtest(flowItemsOf(plan), { asOf, now, settings: { trials: 10_000, windowWeeks: 26 } });
        } else {
          const { config } = ctx.requireConfig();
          const { db } = await ctx.database();
          result = backtest(await loadFlowItems(db, { teams: config.forecast.teams, asOf: true }), {
            asOf,
            now,
            programs: config.portfolio.programs,
            settings: config.forecast,
          });
        }
        ctx.io.stdout(opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderBacktest(result));
        return Exit.ok;
      }),
    );
}
