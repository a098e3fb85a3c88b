// Reads pmo-sync.yaml: YAML → ${VAR} interpolation → zod validation. Every problem is reported
// with its key path and line, all at once, so a user fixes a file in one go.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { Config } from './schema.ts';
import { closestKey, keysAt } from './suggest.ts';

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read. */
  file: string;
  /** Values that must never reach logs, errors or API output. */
  secrets: string[];
}

export interface LoadOptions {
  /** Explicit path (CLI `--config`); otherwise PMO_SYNC_CONFIG, then ./pmo-sync.yaml. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

// Keys whose values are credentials wherever they stand: `apiToken`, `webhookSecret`, `pat`, …
const SECRET_KEY = /token|secret|passw(or)?d|passphrase|api_?key|credential|(^|[a-z])pat$/i;

/**
 * Whether a config path holds a credential: anything under `auth`, a key named like a token,
 * secret, password or PAT, `webhookAuth.password`, and `database.url` (it may carry a
 * password). Values there are never printed, whatever went wrong with them.
 */
export function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path.includes('auth') || isDatabaseUrl(path) || path.some((p) => typeof p === 'string' && SECRET_KEY.test(p));
}

function isDatabaseUrl(path: readonly PropertyKey[]): boolean {
  return path.length === 2 && path[0] === 'database' && path[1] === 'url';
}
const PLACEHOLDER = '__PMO_SYNC_VAR_';
const PLACEHOLDER_RE = /__PMO_SYNC_VAR_(\d+)__/g;
const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Finds the config file to read; `null` when there is none (the CLI then runs the demo). */
export function findConfigFile(opts: LoadOptions = {}): string | null {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const named = opts.path ?? env.PMO_SYNC_CONFIG;
  if (named) {
    const file = resolve(cwd, named);
    if (!existsSync(file)) {
      throw new ConfigError([
        {
          path: '',
          message: `config file ${file} does not exist (named by ${opts.path ? '--config' : 'PMO_SYNC_CONFIG'})`,
        },
      ]);
    }
    return file;
  }
  const file = resolve(cwd, 'pmo-sync.yaml');
  return existsSync(file) ? file : null;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig | null {
  const file = findConfigFile(opts);
  if (!file) return null;
  return { ...parseConfig(readFileSync(file, 'utf8'), { env: opts.env ?? process.env, fileName: file }), file };
}

/** Parses config text; throws ConfigError listing every problem. */
export function parseConfig(
  text: string,
  opts: { env?: NodeJS.ProcessEnv; fileName?: string } = {},
): { config: Config; secrets: string[] } {
  const env = opts.env ?? process.env;
  // `${VAR}` may stand inside YAML flow mappings (`{ apiToken: ${TOKEN} }`), where braces are
  // syntax. Swap each for a plain placeholder before parsing, and back after.
  const vars: string[] = [];
  const masked = text.replace(VAR, (m) => `${PLACEHOLDER}${vars.push(m) - 1}__`);
  const lines = new LineCounter();
  const doc = parseDocument(masked, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: '',
        message: `YAML syntax error at ${at(e.pos[0])}: ${e.message.split('\n')[0]}`,
      })),
      opts.fileName,
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const problems: { path: string; message: string }[] = [];
  const secrets: string[] = [];

  const interpolate = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') {
      const unmasked = value.replace(PLACEHOLDER_RE, (_m, i: string) => vars[Number(i)] ?? '');
      const out = unmasked.replace(VAR, (_m, name: string, fallback: string | undefined) => {
        const v = env[name];
        if (v === undefined || v === '') {
          if (fallback !== undefined) return fallback;
          problems.push({
            path: formatPath(path) + lineOf(doc, path, at),
            message: `environment variable ${name} is not set (export ${name}=… or put it in the service's environment)`,
          });
          return '';
        }
        return v;
      });
      if (isDatabaseUrl(path)) {
        // The URL itself is worth seeing in logs; its password, raw and decoded, is not.
        const password = urlPassword(out);
        if (password) secrets.push(password, decodeOrSelf(password));
      } else if (out.length > 0 && isSecretPath(path)) secrets.push(out);
      // Interpolated values stay text: a quoted "${TOKEN}" of digits is the token, not a number.
      // Settings that are numbers or booleans read their text form in the schema (schema.ts).
      return out;
    }
    if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i]));
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k])]));
    }
    return value;
  };
  const interpolated = interpolate(raw, []);
  if (problems.length > 0) throw new ConfigError(problems, opts.fileName);

  const parsed = Config.safeParse(interpolated);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.flatMap(
        (issue) => unknownKeys(issue, interpolated, doc, at) ?? describeIssue(issue, interpolated, doc, at),
      ),
      opts.fileName,
    );
  }
  return { config: withForecastThreshold(parsed.data), secrets: [...new Set(secrets)] };
}

/**
 * Health's forecast-on-time threshold follows the rule of that name unless set on its own, so
 * an epic is amber for its forecast exactly when the rule's finding says it is unlikely.
 */
function withForecastThreshold(config: Config): Config {
  const health = config.portfolio.health;
  const raw = config.rules.overrides['forecast-on-time']?.params?.threshold;
  // An interpolated `${VAR}` stays text (see interpolate above): read its number.
  const threshold = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (health.forecastOnTime !== undefined || typeof threshold !== 'number' || !Number.isFinite(threshold))
    return config;
  return { ...config, portfolio: { ...config.portfolio, health: { ...health, forecastOnTime: threshold } } };
}

/** The password of a URL with credentials (`postgres://user:pw@host/db`), as written. */
function urlPassword(text: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:([^/@\s]+)@/i.exec(text);
  return m?.[1];
}

function decodeOrSelf(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(top level)';
}

function lineOf(doc: Document, path: (string | number)[], at: (o: number) => string): string {
  // Point at the key when the path ends in a mapping key (that is where the eye goes), else
  // at the deepest node that exists.
  let node: unknown = doc.contents;
  let range: [number, number, number] | undefined = (node as { range?: [number, number, number] } | null)?.range;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      if (!pair) break;
      range = (pair.key as { range?: [number, number, number] } | null)?.range ?? range;
      node = pair.value;
    } else if (isSeq(node)) {
      const next = node.get(key as number, true) as { range?: [number, number, number] } | undefined;
      if (next === undefined) break;
      range = next.range ?? range;
      node = next;
    } else break;
  }
  return range ? ` (${at(range[0])})` : '';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeFound(v: unknown, secret = false): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  // A credential's value is never shown, only what kind of value stands there.
  if (secret) return `${typeof v === 'string' ? 'text' : `a ${typeof v}`} (value hidden: it is a secret)`;
  // Credentials written into a URL (`https://user:pw@host`) are not shown either.
  const s = JSON.stringify(typeof v === 'string' ? v.replace(/\/\/[^/@\s]*@/g, '//…@') : v);
  return `${typeof v} ${s.length > 40 ? `${s.slice(0, 37)}…` : s}`;
}

/**
 * One problem per unknown key, each at its own line and naming the valid key it most likely
 * meant. Also for a mapping that fits none of a union's forms because of a key none of them
 * has (`auth: { email, apiTokn }`). `null` when the issue is not about unknown keys.
 */
function unknownKeys(
  issue: z.core.$ZodIssue,
  root: unknown,
  doc: Document,
  at: (o: number) => string,
): { path: string; message: string }[] | null {
  const path = issue.path as (string | number)[];
  const valid = keysAt(Config, path, root);
  let keys: string[];
  if (issue.code === 'unrecognized_keys') keys = issue.keys;
  else if (issue.code === 'invalid_union' && !('note' in issue && issue.note === 'No matching discriminator')) {
    const found = valueAt(root, path);
    if (found === null || typeof found !== 'object' || Array.isArray(found) || valid.length === 0) return null;
    keys = Object.keys(found).filter((k) => !valid.includes(k));
    if (keys.length === 0) return null;
  } else return null;
  return keys.map((key) => {
    const where = [...path, key];
    const meant = closestKey(key, valid);
    return {
      path: formatPath(where) + lineOf(doc, where, at),
      message: meant
        ? `unknown key "${key}": did you mean \`${meant}\`? (docs/configuration.md lists every key)`
        : `unknown key "${key}": remove it or fix its spelling (docs/configuration.md lists every key)`,
    };
  });
}

function describeIssue(
  issue: z.core.$ZodIssue,
  root: unknown,
  doc: Document,
  at: (o: number) => string,
): { path: string; message: string } {
  const path = issue.path as (string | number)[];
  const found = valueAt(root, path);
  const secret = isSecretPath(path);
  const where = formatPath(path) + lineOf(doc, path, at);
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return {
      path: where,
      message: `expected one of the connection kinds "jira", "azure-devops", found ${describeFound(found, secret)}`,
    };
  }
  if (issue.code === 'invalid_union' || issue.code === 'invalid_type') {
    const names: Record<string, string> = {
      array: 'a list',
      object: 'a mapping',
      string: 'text',
      number: 'a number',
      boolean: 'true or false',
    };
    const expected =
      issue.code === 'invalid_type' ? (names[issue.expected] ?? issue.expected) : 'one of the documented forms';
    const msg = issue.message && !issue.message.startsWith('Invalid input') ? issue.message : `expected ${expected}`;
    return { path: where, message: `${msg}, found ${describeFound(found, secret)}` };
  }
  if (issue.code === 'invalid_value') {
    return {
      path: where,
      message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${describeFound(found, secret)}`,
    };
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const sign = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
    const bound = `${sign} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)}`;
    const what =
      issue.origin === 'array'
        ? `a list with ${bound} entries`
        : issue.origin === 'string'
          ? `text of length ${bound}`
          : `a number ${bound}`;
    return { path: where, message: `expected ${what}, found ${describeFound(found, secret)}` };
  }
  if (issue.code === 'custom') return { path: where, message: issue.message };
  const msg = issue.message.startsWith('Invalid') ? issue.message : `expected ${issue.message}`;
  return { path: where, message: `${msg}, found ${describeFound(found, secret)}` };
}
