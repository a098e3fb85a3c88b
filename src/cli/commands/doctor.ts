// `pmo-sync doctor`: checks a configuration against the trackers and the database and prints a
// checklist, one line per check, with the fix for each failure. Exit 0 when nothing failed
// (warnings and skipped checks do not fail it), 1 otherwise, 2 for bad usage or a bad config.
// Read-only: it migrates nothing and writes nothing to a tracker, so it is safe against
// production before the first sync.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { sql } from 'drizzle-orm';
import { checkAdo } from '../../../connectors/azure-devops/doctor.ts';
import type { CheckStatus, DoctorCheck } from '../../../connectors/doctor.ts';
import { checkJira } from '../../../connectors/jira/doctor.ts';
import { DEFAULT_DB_PATH, MIGRATIONS_FOLDER, openDatabase, redactUrl } from '../../../db/client.ts';
import { DatabaseInUseError } from '../../../db/pglite-lock.ts';
import { queryRows } from '../../../db/query.ts';
import type { Config, Connection } from '../../config/schema.ts';
import { scrub } from '../../log.ts';
import { selectConnections } from '../connections.ts';
import { type CliContext, Exit } from '../context.ts';
import { errorText } from '../error-line.ts';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check the configuration against the trackers and the database: a checklist with a fix per failure')
    .option('--connection <id...>', 'only these connections (the database is always checked)')
    .option('--json', 'one JSON object on stdout: { ok, checks: [{ scope, check, status, detail, fix }] }')
    .action(
      ctx.action(async (opts: { connection?: string[]; json?: boolean }) => {
        const { config, secrets } = ctx.requireConfig();
        const selected = selectConnections(config, opts.connection);
        const checks: DoctorCheck[] = [];
        for (const conn of selected) checks.push(...(await checkConnection(ctx, config, conn)));
        checks.push(...(await checkDatabase(config, ctx.io.cwd)));
        // Details quote what trackers said; a tracker may echo a credential back.
        const clean = checks.map((c) => ({
          ...c,
          detail: scrub(c.detail, secrets),
          ...(c.fix ? { fix: scrub(c.fix, secrets) } : {}),
        }));
        const failed = clean.filter((c) => c.status === 'fail').length;
        if (opts.json) ctx.io.stdout(`${JSON.stringify({ ok: failed === 0, checks: clean }, null, 2)}\n`);
        else {
          const width = Math.max(...clean.map((c) => c.scope.length));
          for (const c of clean) {
            const fix = c.fix && c.status !== 'ok' ? ` — fix: ${c.fix}` : '';
            ctx.io.stdout(`${MARK[c.status]}  ${c.scope.padEnd(width)}  ${c.check}: ${c.detail}${fix}\n`);
          }
          const warned = clean.filter((c) => c.status === 'warn').length;
          ctx.io.stdout(
            failed === 0
              ? `all ${clean.length} checks passed${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}\n`
              : `${failed} of ${clean.length} checks failed\n`,
          );
        }
        return failed > 0 ? Exit.failed : Exit.ok;
      }),
    );
}

async function checkConnection(ctx: CliContext, config: Config, conn: Connection): Promise<DoctorCheck[]> {
  const publicUrl = config.server.publicUrl;
  try {
    return conn.kind === 'jira'
      ? await checkJira({ config: conn, publicUrl })
      : await checkAdo({ config: conn, publicUrl });
  } catch (err) {
    // A check that broke is a failed check, reported like the others; the rest still run.
    const text = errorText(err, { verbose: ctx.globals().verbose === true, secrets: [], oneLine: true });
    return [{ scope: conn.id, check: 'doctor', status: 'fail', detail: `the checks stopped: ${text}` }];
  }
}

/** Reachable, and every migration this version ships applied (doctor applies none itself). */
async function checkDatabase(config: Config, cwd: string): Promise<DoctorCheck[]> {
  const url = config.database.url?.trim();
  const scope = 'database';
  const target = url || DEFAULT_DB_PATH;
  const isPostgres = /^postgres(ql)?:\/\//i.test(target);
  if (/^memory:\/\//i.test(target))
    return [{ scope, check: 'reachable', status: 'ok', detail: 'in memory: created empty at each start' }];
  const where = isPostgres ? redactUrl(target) : resolve(cwd, target.replace(/^file:\/\//i, ''));
  if (!isPostgres && !existsSync(join(where, 'PG_VERSION')))
    return [
      {
        scope,
        check: 'reachable',
        status: 'fail',
        detail: `no database at ${where} yet`,
        fix: 'run pmo-sync migrate (serve and sync also create it), or set database.url',
      },
    ];
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(url, { cwd, maxConnections: 1 });
  } catch (err) {
    // A running `serve` holds an embedded database: that is the database working, not failing.
    if (err instanceof DatabaseInUseError)
      return [
        {
          scope,
          check: 'reachable',
          status: 'warn',
          detail: `${where} is in use by pmo-sync process ${err.holderPid}; embedded PGlite serves one process at a time, so migrations were not checked`,
          fix: 'run doctor while that process is stopped, or move to Postgres (database.url), which any number of processes share',
        },
      ];
    return [
      {
        scope,
        check: 'reachable',
        status: 'fail',
        detail: errorText(err, { verbose: false, secrets: [], oneLine: true }),
        fix: 'check database.url, and that the database server is up',
      },
    ];
  }
  try {
    await queryRows(database.db, sql`select 1 as one`);
    const out: DoctorCheck[] = [
      { scope, check: 'reachable', status: 'ok', detail: `${database.driver} at ${database.location}` },
    ];
    const shipped = journal();
    let applied: number | null = null;
    try {
      const rows = await queryRows<{ last: string | number | null }>(
        database.db,
        sql`select max(created_at) as last from drizzle.__drizzle_migrations`,
      );
      applied = rows[0]?.last === null || rows[0]?.last === undefined ? 0 : Number(rows[0].last);
    } catch {
      applied = 0; // no migrations table: nothing applied yet
    }
    const pending = shipped.filter((m) => m.when > (applied ?? 0)).map((m) => m.tag);
    out.push(
      pending.length === 0
        ? { scope, check: 'migrated', status: 'ok', detail: `all ${shipped.length} migrations applied` }
        : {
            scope,
            check: 'migrated',
            status: 'fail',
            detail: `${pending.length} migration(s) not applied: ${pending.join(', ')}`,
            fix: 'run pmo-sync migrate (serve and sync also do)',
          },
    );
    return out;
  } catch (err) {
    return [
      {
        scope,
        check: 'reachable',
        status: 'fail',
        detail: errorText(err, { verbose: false, secrets: [], oneLine: true }),
        fix: "check database.url and the account's rights on that database",
      },
    ];
  } finally {
    await database.close();
  }
}

/** The migrations this version ships (drizzle-kit's journal): each one's tag and timestamp. */
function journal(): { tag: string; when: number }[] {
  const text = readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8');
  return (JSON.parse(text) as { entries: { tag: string; when: number }[] }).entries;
}
