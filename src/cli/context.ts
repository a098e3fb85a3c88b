// What every CLI command needs, created on demand and closed once at the end: the config, a
// logger that knows the config's secrets, a migrated database, and the command's exit code.
import { type Database, openDatabase } from '../../db/client.ts';
import { type LoadedConfig, loadConfig } from '../config/load.ts';
import { UsageError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/log.ts';

/** DESIGN.md: 0 success, 1 something failed at run time, 2 bad usage or bad configuration. */
export const Exit = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** A terminal a progress display can draw on (cursor movement, line clearing). */
export interface TerminalStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout is a terminal. */
  isTTY: boolean;
  /** stderr, when it is a terminal: progress bars draw there and logs are made readable. */
  terminal?: TerminalStream;
}

/** What tests inject below the CLI (the real CLI uses the defaults). */
export interface CliDeps {
  /** The connectors' sleep between retries: tests answer at once instead of waiting out a backoff. */
  sleep?: (ms: number) => Promise<void>;
  /** The agent Microsoft Entra ID requests use: tests trust the simulator's authority with it. */
  entraAgent?: import('node:http').Agent;
  /** Opens the database the config names: tests start in-memory ones from a migrated copy. */
  openDatabase?: typeof openDatabase;
}

export interface GlobalOptions {
  config?: string;
  verbose?: boolean;
  logLevel?: string;
}

export interface CliContext {
  io: CliIo;
  deps: CliDeps;
  globals(): GlobalOptions;
  /** The config file, or null when there is none (commands that can run without one). */
  config(): LoadedConfig | null;
  /** The config file; a usage error when there is none. */
  requireConfig(): LoadedConfig;
  log(): Logger;
  /** Writes to stderr, or above a progress display while one is drawn. Logs go the same way. */
  stderr(text: string): void;
  /** Sends stderr (this context's writes and its logger's) to `to` until the returned function is called. */
  divertStderr(to: (text: string) => void): () => void;
  /** The database named by the config (embedded PGlite by default), migrated. */
  database(): Promise<Database>;
  /**
   * Wraps a command's action: the code it returns is the command's exit code (0 when it returns
   * nothing). Commands never set process.exitCode: `main()` returns this, and only bin/ exits.
   */
  action<A extends unknown[]>(
    fn: (...args: A) => Promise<ExitCode | undefined> | ExitCode | undefined,
  ): (...args: A) => Promise<void>;
  /** The exit code the command's action returned. */
  exitCode(): ExitCode;
  /** Registers cleanup run when the command ends, last registered first. */
  onClose(fn: () => Promise<void> | void): void;
  /** Runs every cleanup; false when one failed (it is logged, and the command then exits 1). */
  close(): Promise<boolean>;
}

export function createCliContext(io: CliIo, globals: () => GlobalOptions, deps: CliDeps = {}): CliContext {
  let loaded: LoadedConfig | null | undefined;
  let logger: Logger | undefined;
  let db: Promise<Database> | undefined;
  let diverted: ((text: string) => void) | null = null;
  let code: ExitCode = 0;
  const closers: (() => Promise<void> | void)[] = [];

  const ctx: CliContext = {
    io,
    deps,
    globals,
    config() {
      if (loaded === undefined) loaded = loadConfig({ path: globals().config, env: io.env, cwd: io.cwd });
      return loaded;
    },
    requireConfig() {
      const c = ctx.config();
      if (!c) {
        throw new UsageError(
          'no configuration found: create pmo-sync.yaml in this folder, set PMO_SYNC_CONFIG, or pass --config FILE (see docs/configuration.md)',
        );
      }
      return c;
    },
    log() {
      if (!logger) {
        const c = ctx.config();
        const g = globals();
        logger = createLogger({
          level: g.logLevel ?? (g.verbose ? 'debug' : (io.env.LOG_LEVEL ?? c?.config.log.level ?? 'info')),
          secrets: c?.secrets ?? [],
          // Through the context, so that a progress display can keep log lines off its bars.
          destination: { write: (line: string) => ctx.stderr(line) },
          pretty: io.terminal !== undefined,
          stacks: g.verbose === true,
        });
      }
      return logger;
    },
    stderr(text) {
      (diverted ?? io.stderr)(text);
    },
    divertStderr(to) {
      const before = diverted;
      diverted = to;
      return () => {
        diverted = before;
      };
    },
    database() {
      db ??= (async () => {
        const c = ctx.config();
        const database = await (deps.openDatabase ?? openDatabase)(c?.config.database.url, { cwd: io.cwd });
        closers.push(() => database.close());
        await database.migrate();
        ctx.log().debug({ driver: database.driver, location: database.location }, 'database ready');
        return database;
      })();
      return db;
    },
    action(fn) {
      return async (...args) => {
        code = (await fn(...args)) ?? 0;
      };
    },
    exitCode() {
      return code;
    },
    onClose(fn) {
      closers.push(fn);
    },
    async close() {
      let ok = true;
      while (closers.length > 0) {
        const fn = closers.pop()!;
        try {
          await fn();
        } catch (err) {
          ok = false;
          try {
            ctx.log().error({ err }, 'cleanup failed');
          } catch {
            // No logger without a readable config: say it plainly.
            ctx.stderr(`pmo-sync: cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`);
          }
        }
      }
      return ok;
    },
  };
  return ctx;
}
