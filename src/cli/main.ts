// The `pmo-sync` command line. Each subcommand lives in commands/ and registers itself here.
// Exit codes (DESIGN.md): 0 success, 1 runtime failure, 2 bad usage or bad config. Errors are
// one clear line; the stack only with --verbose.
import { Command, CommanderError } from 'commander';
import { PmoSyncError, UsageError } from '../errors.ts';
import { scrub } from '../log.ts';
import { registerDemo } from './commands/demo.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerReport, registerWrites } from './commands/report.ts';
import { registerRules } from './commands/rules.ts';
import { registerServe } from './commands/serve.ts';
import { registerSync } from './commands/sync.ts';
import { registerToken } from './commands/token.ts';
import { registerWebhooks } from './commands/webhooks.ts';
import { type CliContext, type CliIo, createCliContext, type GlobalOptions } from './context.ts';

export const defaultIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  isTTY: process.stdout.isTTY === true,
});

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('pmo-sync')
    .description('PMO governance and portfolio rollups across Jira and Azure DevOps')
    .option('-c, --config <file>', 'config file (default: ./pmo-sync.yaml or $PMO_SYNC_CONFIG)')
    .option('--verbose', 'debug logging and stack traces on errors')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) })
    .exitOverride();
  registerServe(program, ctx);
  registerSync(program, ctx);
  registerReport(program, ctx);
  registerWrites(program, ctx);
  registerRules(program, ctx);
  registerWebhooks(program, ctx);
  registerToken(program, ctx);
  registerMigrate(program, ctx);
  registerDemo(program, ctx);
  // `pmo-sync` alone: serve with a config, the demo without one.
  program.allowExcessArguments().action(async (_opts: unknown, cmd: Command) => {
    if (cmd.args.length > 0)
      throw new UsageError(`unknown command "${cmd.args[0]}" (run pmo-sync --help for the list)`);
    const sub = ctx.config() ? 'serve' : 'demo';
    await program.parseAsync([sub], { from: 'user' });
  });
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) });
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) });
    }
  }
  return program;
}

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let program: Command | undefined;
  const ctx = createCliContext(io, () => (program?.opts() ?? {}) as GlobalOptions);
  program = buildProgram(ctx);
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(err, ctx, verbose);
  } finally {
    await ctx.close();
  }
}

function reportError(err: unknown, ctx: CliContext, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // Help and version end through here too, with exit code 0.
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return 0;
    return 2;
  }
  let secrets: readonly string[] = [];
  try {
    secrets = ctx.config()?.secrets ?? [];
  } catch {
    // The config itself is what failed; it has no secrets to hide yet.
  }
  const message = err instanceof Error ? err.message : String(err);
  const text = verbose && err instanceof Error && err.stack ? `${err.stack}${causeChain(err)}` : message;
  ctx.io.stderr(`pmo-sync: ${scrub(text, secrets)}\n`);
  if (err instanceof PmoSyncError) return err.exitCode;
  return 1;
}

function causeChain(err: Error): string {
  let out = '';
  let cause = err.cause;
  while (cause instanceof Error) {
    out += `\ncaused by: ${cause.stack ?? cause.message}`;
    cause = cause.cause;
  }
  return out;
}
