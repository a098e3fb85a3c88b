// The `pmo-sync` command line. Each subcommand lives in commands/ and registers itself here.
// Exit codes (DESIGN.md): 0 success, 1 runtime failure, 2 bad usage or bad config. A command
// returns its code (CliContext.action) or throws a typed error carrying one; `main()` returns it
// and only bin/ hands it to the process. Errors are one clear line; the stack only with --verbose.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, PmoSyncError, UsageError } from '../errors.ts';
import { registerBaseline } from './commands/baseline.ts';
import { registerDemo } from './commands/demo.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerForecast } from './commands/forecast.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerReport, registerWrites } from './commands/report.ts';
import { registerRules } from './commands/rules.ts';
import { registerServe } from './commands/serve.ts';
import { registerSync } from './commands/sync.ts';
import { registerToken } from './commands/token.ts';
import { registerWebhooks } from './commands/webhooks.ts';
import {
  type CliContext,
  type CliDeps,
  type CliIo,
  createCliContext,
  type ExitCode,
  type GlobalOptions,
} from './context.ts';
import { errorText } from './error-line.ts';

export const defaultIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  isTTY: process.stdout.isTTY === true,
  terminal: process.stderr.isTTY === true ? process.stderr : undefined,
});

/** The version in package.json: the one npm installed. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('pmo-sync')
    .description('PMO governance and portfolio rollups across Jira and Azure DevOps')
    .version(packageVersion(), '-V, --version', 'print the version')
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
  registerDoctor(program, ctx);
  registerForecast(program, ctx);
  registerBaseline(program, ctx);
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

export async function main(argv: string[], io: CliIo = defaultIo(), deps: CliDeps = {}): Promise<ExitCode> {
  let program: Command | undefined;
  const ctx = createCliContext(io, () => (program?.opts() ?? {}) as GlobalOptions, deps);
  program = buildProgram(ctx);
  const verbose = argv.includes('--verbose');
  let code: ExitCode;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = ctx.exitCode();
  } catch (err) {
    code = reportError(err, ctx, verbose);
  }
  // A cleanup that failed (a database that would not close) is a failure of the command too.
  const closed = await ctx.close();
  return code === 0 && !closed ? 1 : code;
}

function reportError(err: unknown, ctx: CliContext, verbose: boolean): ExitCode {
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
  // A config error lists each problem on a line of its own; any other error is one line.
  ctx.stderr(`pmo-sync: ${errorText(err, { verbose, secrets, oneLine: !(err instanceof ConfigError) })}\n`);
  if (err instanceof PmoSyncError) return err.exitCode === 2 ? 2 : 1;
  return 1;
}
