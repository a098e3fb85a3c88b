// Logging with pino: JSON lines when stderr is not a terminal, readable lines when it is.
// Logs go to stderr so that stdout stays clean for `--json` output. Secrets are removed twice:
// by key (authorization headers, tokens, passwords) and by value (every secret the config
// interpolated), the second catching a secret that slipped into a message or an error text.
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { redactQueryParamsInJson, serializeError } from './util/safe-error.ts';
import { replaceForms, secretForms } from './util/secret-forms.ts';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Secret values to scrub from every line, whatever key or message they appear in. */
  secrets?: readonly string[];
  /** Where lines go; defaults to stderr. */
  destination?: DestinationStream;
  /** Force pretty (true) or JSON (false) output; defaults to pretty on a TTY. */
  pretty?: boolean;
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
  'secret',
  '*.secret',
  'config.connections[*].auth',
];

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = [...new Set(opts.secrets ?? [])].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  const usePretty = opts.pretty ?? (opts.destination === undefined && process.stderr.isTTY === true);
  const base: DestinationStream =
    opts.destination ??
    (usePretty
      ? pretty({ destination: 2, colorize: true, sync: true, ignore: 'pid,hostname' })
      : pino.destination({ dest: 2, sync: true }));
  // Query values also leave every line: a database error's message may carry them, whatever
  // field or message it was copied into (src/util/safe-error.ts).
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
      serializers: { err: serializeError },
    },
    destination,
  );
}

/**
 * Replaces each secret value with the redaction mark, in every form it may take: as written,
 * URL-encoded, JSON-escaped, and inside base64 (Basic credentials; src/util/secret-forms.ts).
 */
export function scrub(text: string, secrets: readonly string[]): string {
  return replaceForms(text, secretForms(secrets.filter((s) => s.length >= 4)), REDACTED);
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
