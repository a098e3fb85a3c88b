// What every CLI command needs, created on demand and closed once at the end: the config, a
// logger that knows the config's secrets, and a migrated database.
import { type Database, openDatabase } from '../../db/client.ts';
import { type LoadedConfig, loadConfig } from '../config/load.ts';
import { UsageError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  isTTY: boolean;
}

export interface GlobalOptions {
  config?: string;
  verbose?: boolean;
  logLevel?: string;
}

export interface CliContext {
  io: CliIo;
  globals(): GlobalOptions;
  /** The config file, or null when there is none (commands that can run without one). */
  config(): LoadedConfig | null;
  /** The config file; a usage error when there is none. */
  requireConfig(): LoadedConfig;
  log(): Logger;
  /** The database named by the config (embedded PGlite by default), migrated. */
  database(): Promise<Database>;
  /** Registers cleanup run when the command ends, last registered first. */
  onClose(fn: () => Promise<void> | void): void;
  close(): Promise<void>;
}

export function createCliContext(io: CliIo, globals: () => GlobalOptions): CliContext {
  let loaded: LoadedConfig | null | undefined;
  let logger: Logger | undefined;
  let db: Promise<Database> | undefined;
  const closers: (() => Promise<void> | void)[] = [];

  const ctx: CliContext = {
    io,
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
        });
      }
      return logger;
    },
    database() {
      db ??= (async () => {
        const c = ctx.config();
        const database = await openDatabase(c?.config.database.url, { cwd: io.cwd });
        closers.push(() => database.close());
        await database.migrate();
        ctx.log().debug({ driver: database.driver, location: database.location }, 'database ready');
        return database;
      })();
      return db;
    },
    onClose(fn) {
      closers.push(fn);
    },
    async close() {
      while (closers.length > 0) {
        const fn = closers.pop()!;
        try {
          await fn();
        } catch (err) {
          ctx.log().warn({ err }, 'cleanup failed');
        }
      }
    },
  };
  return ctx;
}
