import type { Command } from 'commander';
import { createToken, listTokens, revokeToken } from '../../auth/tokens.ts';
import { UsageError } from '../../core/errors.ts';
import { type CliContext, Exit } from '../context.ts';

export function registerToken(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('API tokens for the REST API and dashboard');
  token
    .command('create')
    .description('create a token (printed once, stored hashed)')
    .requiredOption('--scope <scope>', 'read | admin')
    .option('--name <name>', 'a name to recognise it by')
    .action(
      ctx.action(async (opts: { scope: string; name?: string }) => {
        const { db } = await ctx.database();
        const { id, token: value } = await createToken(db, opts);
        ctx.io.stdout(`${value}\n`);
        ctx.stderr(`token ${id} (${opts.scope}) created; it is shown only this once.\n`);
        return Exit.ok;
      }),
    );
  token
    .command('list')
    .description('list tokens (never their values)')
    .option('--json', 'JSON output')
    .action(
      ctx.action(async (opts: { json?: boolean }) => {
        const { db } = await ctx.database();
        const rows = await listTokens(db);
        if (opts.json) {
          ctx.io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
          return Exit.ok;
        }
        for (const r of rows) {
          ctx.io.stdout(`${r.id}\t${r.scope}\t${r.name}\t${r.revokedAt ? `revoked ${r.revokedAt}` : 'active'}\n`);
        }
        return Exit.ok;
      }),
    );
  token
    .command('revoke')
    .description('revoke a token by id')
    .argument('<id>', 'token id from `token list`')
    .action(
      ctx.action(async (id: string) => {
        const n = Number(id);
        if (!Number.isInteger(n) || n <= 0) throw new UsageError(`token id must be a positive integer, not "${id}"`);
        const { db } = await ctx.database();
        if (!(await revokeToken(db, n)))
          throw new UsageError(`no active token with id ${n} (pmo-sync token list shows them)`);
        ctx.io.stdout(`token ${n} revoked\n`);
        return Exit.ok;
      }),
    );
}
