// Logging with pino: JSON lines when stderr is not a terminal, readable lines when it is.
// Logs go to stderr so that stdout stays clean for `--json` output. Secrets are removed twice:
// by key (authorization headers, tokens, passwords) and by value (every secret the config
// interpolated), the second catching a secret that slipped into a message or an error text.
// A logged error is one line (its message and its causes'); its stack only when asked for
// (the CLI's --verbose), so a failure reads as one line in a terminal and in a log collector.
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty, { prettyFactory } from 'pino-pretty';
import { redactQueryParams, redactQueryParamsInJson, serializeError } from './safe-error.ts';
import { replaceForms, secretForms } from './secret-forms.ts';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Secret values to scrub from every line, whatever key or message they appear in. */
  secrets?: readonly string[];
  /** Where lines go; defaults to stderr. */
  destination?: DestinationStream;
  /** Force pretty (true) or JSON (false) output; defaults to pretty on a TTY (JSON into a `destination`). */
  pretty?: boolean;
  /** Keep the stack of a logged error (default true); without it an error is its type and message. */
  stacks?: boolean;
}

export const REDACTED = '[redacted]';

const REDACT_PATHS = [
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'apiToken',
  '*.apiToken',
  'bearerToken',
  '*.bearerToken',
  'pat',
  '*.pat',
  'password',
  '*.password',
  'token',
  '*.token',
  'webhookSecret',
  '*.webhookSecret',
  'clientSecret',
  '*.clientSecret',
  'refreshToken',
  '*.refreshToken',
  'secret',
  '*.secret',
  'config.connections[*].auth',
];

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = [...new Set(opts.secrets ?? [])].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const usePretty = opts.pretty ?? (opts.destination === undefined && process.stderr.isTTY === true);
  const stacks = opts.stacks ?? true;
  // Without stacks, a pretty line stays one line: pino-pretty would spread the error object over several.
  const prettyOptions = {
    colorize: true,
    ignore: 'pid,hostname',
    singleLine: !stacks,
    ...(stacks ? {} : { errorLikeObjectKeys: [] }),
  };
  const base: DestinationStream = opts.destination
    ? usePretty
      ? prettyInto(opts.destination, prettyFactory(prettyOptions))
      : opts.destination
    : usePretty
      ? pretty({ ...prettyOptions, destination: 2, sync: true })
      : pino.destination({ dest: 2, sync: true });
  // Secrets, in every form, and query values leave every line: a database error's message may
  // carry them, whatever field or message it was copied into (src/core/safe-error.ts).
  const forms = secretForms(secrets);
  const destination: DestinationStream = {
    write(line: string) {
      base.write(redactQueryParamsInJson(replaceForms(line, forms, REDACTED)));
    },
  };
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      base: undefined,
      serializers: { err: stacks ? serializeError : errWithoutStack },
    },
    destination,
  );
}

function prettyInto(destination: DestinationStream, format: (line: string) => string): DestinationStream {
  return {
    write(line: string) {
      destination.write(format(line));
    },
  };
}

/**
 * An error as one line's worth: its type and own fields without query values, its message
 * followed by its causes' messages (as pino writes them), and no stack or cause objects.
 */
function errWithoutStack(err: Error): unknown {
  const { cause: _cause, ...out } = dropStacks(serializeError(err), 0) as Record<string, unknown>;
  const { message } = pino.stdSerializers.err(err) as { message: string };
  return { ...out, message: redactQueryParams(message) };
}

function dropStacks(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (Array.isArray(value)) return value.map((v) => dropStacks(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== 'stack') out[k] = dropStacks(v, depth + 1);
  return out;
}

/**
 * Replaces each secret value with the redaction mark, in every form it may take: as written,
 * URL-encoded, JSON-escaped, and inside base64 (Basic credentials; src/core/secret-forms.ts).
 */
export function scrub(text: string, secrets: readonly string[]): string {
  return replaceForms(text, secretForms(secrets.filter((s) => s.length >= 4)), REDACTED);
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
