// `pmo-sync webhooks install`: registers each connection's webhooks (idempotent). A connection
// whose registration fails is one line on stderr and the exit code 1; the others still go on.

import type { Command } from 'commander';
import { createConnectors } from '../../../connectors/index.ts';
import type { WebhookRegistration } from '../../../connectors/types.ts';
import { createKvTokenStore } from '../../auth/jira-tokens.ts';
import { UsageError } from '../../core/errors.ts';
import { ensureWebhookSecret } from '../../webhooks/secrets.ts';
import { connectionFailure, selectConnections } from '../connections.ts';
import { type CliContext, Exit } from '../context.ts';

export function registerWebhooks(program: Command, ctx: CliContext): void {
  const webhooks = program.command('webhooks').description('tracker webhook registrations');
  webhooks
    .command('install')
    .description('register Jira webhooks and Azure DevOps service hooks pointing at server.publicUrl (idempotent)')
    .option('--connection <id...>', 'only these connections')
    .option('--json', 'JSON output')
    .action(
      ctx.action(async (opts: { connection?: string[]; json?: boolean }) => {
        const { config } = ctx.requireConfig();
        const publicUrl = config.server.publicUrl;
        if (!publicUrl)
          throw new UsageError('set server.publicUrl (the URL the trackers can reach) before installing webhooks');
        const selected = selectConnections(config, opts.connection);
        const { db } = await ctx.database();
        const log = ctx.log();
        const rows: ({ connection: string } & WebhookRegistration)[] = [];
        let failed = 0;
        for (const conn of selected) {
          try {
            let secret: string | undefined;
            if (conn.kind === 'jira') {
              const s = await ensureWebhookSecret(db, conn);
              secret = s.secret;
              conn.webhookSecret = s.secret;
              if (s.generated)
                ctx.stderr(`${conn.id}: generated a webhook secret and stored it in the database for verification\n`);
            }
            const connector = createConnectors([conn], {
              log,
              sleep: ctx.deps.sleep,
              tokenStore: createKvTokenStore(db),
            }).get(conn.id)!;
            ctx.onClose(() => connector.close());
            if (!connector.installWebhooks)
              throw new UsageError(`${conn.id}: this tracker has no webhook installation`);
            const url = `${publicUrl.replace(/\/$/, '')}/webhooks/${conn.kind}/${conn.id}`;
            for (const r of await connector.installWebhooks({ url, secret })) rows.push({ connection: conn.id, ...r });
          } catch (err) {
            if (err instanceof UsageError) throw err;
            failed += 1;
            ctx.stderr(connectionFailure(ctx, 'webhooks not installed', conn.id, err));
          }
        }
        if (opts.json) ctx.io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        else
          for (const r of rows)
            ctx.io.stdout(`${r.connection}\t${r.action}\t${r.id}\t${r.events.join(',')}\t${r.url}\n`);
        return failed > 0 ? Exit.failed : Exit.ok;
      }),
    );
}
