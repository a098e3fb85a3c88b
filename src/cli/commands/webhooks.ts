import type { Command } from 'commander';
import { createConnectors } from '../../../connectors/index.ts';
import { UsageError } from '../../errors.ts';
import { ensureWebhookSecret } from '../../webhooks/secrets.ts';
import type { CliContext } from '../context.ts';

export function registerWebhooks(program: Command, ctx: CliContext): void {
  const webhooks = program.command('webhooks').description('tracker webhook registrations');
  webhooks
    .command('install')
    .description('register Jira webhooks and Azure DevOps service hooks pointing at server.publicUrl (idempotent)')
    .option('--connection <id...>', 'only these connections')
    .option('--json', 'JSON output')
    .action(async (opts: { connection?: string[]; json?: boolean }) => {
      const { config } = ctx.requireConfig();
      const publicUrl = config.server.publicUrl;
      if (!publicUrl)
        throw new UsageError('set server.publicUrl (the URL the trackers can reach) before installing webhooks');
      const { db } = await ctx.database();
      const selected = config.connections.filter((c) => !opts.connection || opts.connection.includes(c.id));
      const log = ctx.log();
      const rows: { connection: string; id: string; action: string; url: string; events: string[] }[] = [];
      for (const conn of selected) {
        let secret: string | undefined;
        if (conn.kind === 'jira') {
          const s = await ensureWebhookSecret(db, conn);
          secret = s.secret;
          conn.webhookSecret = s.secret;
          if (s.generated)
            ctx.io.stderr(`${conn.id}: generated a webhook secret and stored it in the database for verification\n`);
        }
        const connector = createConnectors([conn], { log }).get(conn.id)!;
        ctx.onClose(() => connector.close());
        if (!connector.installWebhooks) throw new UsageError(`${conn.id}: this tracker has no webhook installation`);
        const url = `${publicUrl.replace(/\/$/, '')}/webhooks/${conn.kind}/${conn.id}`;
        for (const r of await connector.installWebhooks({ url, secret })) rows.push({ connection: conn.id, ...r });
      }
      if (opts.json) ctx.io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
      else
        for (const r of rows) ctx.io.stdout(`${r.connection}\t${r.action}\t${r.id}\t${r.events.join(',')}\t${r.url}\n`);
    });
}
