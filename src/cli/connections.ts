// The connections a command works on (`--connection ID…`, default all) and how the CLI says
// one of them failed: one line naming it, the error's own words, nothing twice.
import type { Config, Connection } from '../config/schema.ts';
import { UsageError } from '../core/errors.ts';
import type { CliContext } from './context.ts';
import { errorText } from './error-line.ts';

export function selectConnections(config: Config, ids: readonly string[] | undefined): Connection[] {
  const known = config.connections.map((c) => c.id);
  for (const id of ids ?? []) {
    if (!known.includes(id))
      throw new UsageError(`--connection ${id}: no such connection (configured: ${known.join(', ')})`);
  }
  return config.connections.filter((c) => !ids || ids.includes(c.id));
}

/** `pmo-sync: connection jira-main failed: <the error>`, the stack after it with --verbose. */
export function connectionFailure(ctx: CliContext, what: string, connection: string, err: unknown): string {
  const text = errorText(err, {
    verbose: ctx.globals().verbose === true,
    secrets: ctx.config()?.secrets ?? [],
    oneLine: true,
  });
  return `pmo-sync: connection ${connection}: ${what}: ${text}\n`;
}
