// How the CLI prints an error: its message, scrubbed of every configured secret, on one line
// unless the message is a list on purpose; with --verbose, its stack and its causes' stacks.
import { scrub } from '../core/log.ts';

export interface ErrorTextOptions {
  verbose: boolean;
  secrets: readonly string[];
  /** Join a message's lines into one (a tracker's answer may span lines). */
  oneLine?: boolean;
}

export function errorText(err: unknown, opts: ErrorTextOptions): string {
  const message = err instanceof Error ? err.message : String(err);
  const head = opts.oneLine ? message.replace(/\s*[\r\n]+\s*/g, ' ').trim() : message;
  const text = opts.verbose && err instanceof Error && err.stack ? `${head}\n${stackOf(err)}${causeChain(err)}` : head;
  return scrub(text, opts.secrets);
}

/** The stack's frames: its first line repeats the message, which is already printed. */
function stackOf(err: Error): string {
  const stack = err.stack ?? '';
  const frames = stack.indexOf('\n    at ');
  return frames >= 0 ? stack.slice(frames + 1) : stack;
}

function causeChain(err: Error): string {
  let out = '';
  let cause = err.cause;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    out += `\ncaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return out;
}
