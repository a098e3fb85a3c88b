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
import { createKvTokenStore } from '../../auth/jira-tokens.ts';
import type { Config, Connection } from '../../config/schema.ts';
import { scrub } from '../../core/log.ts';
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
        // Opened once, before the trackers: OAuth connections keep their rotated refresh token in it.
        const db = await openForDoctor(config, ctx.io.cwd);
        try {
          for (const conn of selected) checks.push(...(await checkConnection(ctx, config, conn, db)));
          checks.push(...(await checkDatabase(db)));
        } finally {
          if ('database' in db) await db.database.close();
        }
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

async function checkConnection(
  ctx: CliContext,
  config: Config,
  conn: Connection,
  db: OpenedDb,
): Promise<DoctorCheck[]> {
  const publicUrl = config.server.publicUrl;
  try {
    if (conn.kind === 'azure-devops')
      return await checkAdo({ config: conn, publicUrl, entraAgent: ctx.deps.entraAgent });
    // An OAuth refresh rotates the refresh token: doctor spends one only where it can keep the
    // new one, in the kv table the connector keeps it in (a memory database forgets it at exit).
    const store =
      'database' in db && !db.memory
        ? { tokenStore: createKvTokenStore(db.database.db) }
        : { noTokenStore: 'database' in db ? 'the database is in memory and forgets the new one at exit' : db.why };
    return await checkJira({ config: conn, publicUrl, ...store });
  } catch (err) {
    // A check that broke is a failed check, reported like the others; the rest still run.
    const text = errorText(err, { verbose: ctx.globals().verbose === true, secrets: [], oneLine: true });
    return [{ scope: conn.id, check: 'doctor', status: 'fail', detail: `the checks stopped: ${text}` }];
  }
}

/** The database doctor reads, or the line saying why it could not be opened. */
type OpenedDb =
  | { database: Awaited<ReturnType<typeof openDatabase>>; memory: boolean; where: string }
  | { checks: DoctorCheck[]; why: string };

/** Opens the database without migrating it (doctor applies no migration itself). */
async function openForDoctor(config: Config, cwd: string): Promise<OpenedDb> {
  const url = config.database.url?.trim();
  const scope = 'database';
  const target = url || DEFAULT_DB_PATH;
  const isPostgres = /^postgres(ql)?:\/\//i.test(target);
  const memory = /^memory:\/\//i.test(target);
  const where = isPostgres ? redactUrl(target) : memory ? target : resolve(cwd, target.replace(/^file:\/\//i, ''));
  if (!isPostgres && !memory && !existsSync(join(where, 'PG_VERSION')))
    return {
      why: 'there is no database yet to keep the new one',
      checks: [
        {
          scope,
          check: 'reachable',
          status: 'fail',
          detail: `no database at ${where} yet`,
          fix: 'run pmo-sync migrate (serve and sync also create it), or set database.url',
        },
      ],
    };
  try {
    return { database: await openDatabase(url, { cwd, maxConnections: 1 }), memory, where };
  } catch (err) {
    // A running `serve` holds an embedded database: that is the database working, not failing.
    if (err instanceof DatabaseInUseError)
      return {
        why: `the database is in use by pmo-sync process ${err.holderPid}, which keeps its own`,
        checks: [
          {
            scope,
            check: 'reachable',
            status: 'warn',
            detail: `${where} is in use by pmo-sync process ${err.holderPid}; embedded PGlite serves one process at a time, so migrations were not checked`,
            fix: 'run doctor while that process is stopped, or move to Postgres (database.url), which any number of processes share',
          },
        ],
      };
    return {
      why: 'the database cannot be opened to keep the new one',
      checks: [
        {
          scope,
          check: 'reachable',
          status: 'fail',
          detail: errorText(err, { verbose: false, secrets: [], oneLine: true }),
          fix: 'check database.url, and that the database server is up',
        },
      ],
    };
  }
}

/** Reachable, and every migration this version ships applied (doctor applies none itself). */
async function checkDatabase(db: OpenedDb): Promise<DoctorCheck[]> {
  const scope = 'database';
  if ('checks' in db) return db.checks;
  const { database } = db;
  if (db.memory) return [{ scope, check: 'reachable', status: 'ok', detail: 'in memory: created empty at each start' }];
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
  }
}

/** The migrations this version ships (drizzle-kit's journal): each one's tag and timestamp. */
function journal(): { tag: string; when: number }[] {
  const text = readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8');
  return (JSON.parse(text) as { entries: { tag: string; when: number }[] }).entries;
}
