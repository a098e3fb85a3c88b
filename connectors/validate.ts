// How both connectors check what a tracker answered: a zod schema of the parts they read (loose
// objects: the trackers add fields all the time, and an unknown key is not an error), and on a
// mismatch a SchemaError that names the connection, the call and the failing paths, never the
// values (a tracker's answer may carry personal data).
import type { z } from 'zod';
import { SchemaError } from '../src/core/errors.ts';

/** Which connection answered: the error's tracker and connection, and its message's prefix. */
export interface ReplySource {
  tracker: 'jira' | 'azure-devops';
  connection: string;
}

const TRACKER_NAMES: Record<ReplySource['tracker'], string> = { jira: 'Jira', 'azure-devops': 'Azure DevOps' };

/** Paths named in a message: a broken page of 100 items would otherwise name 100 of them. */
const NAMED_ISSUES = 5;

/**
 * The parsed reply, or the SchemaError saying why it is not what the connector reads. `at` is
 * where `body` sits in the whole answer when one part of it is checked alone (an item of a page:
 * `['issues', 3]`), so the paths are named as in the answer.
 */
export function checkReply<S extends z.ZodType>(
  schema: S,
  body: unknown,
  what: string,
  from: ReplySource,
  at: readonly (string | number)[] = [],
): { ok: true; data: z.infer<S> } | { ok: false; error: SchemaError } {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, data: r.data };
  const issues = r.error.issues
    .slice(0, NAMED_ISSUES)
    .map((i) => ({ path: [...at, ...i.path].map(String).join('.'), message: i.message }));
  return {
    ok: false,
    error: new SchemaError(`${TRACKER_NAMES[from.tracker]} (${from.connection}): ${what}`, issues, {
      tracker: from.tracker,
      connection: from.connection,
    }),
  };
}

/** The parsed reply; throws the SchemaError of checkReply. */
export function validateReply<S extends z.ZodType>(
  schema: S,
  body: unknown,
  what: string,
  from: ReplySource,
): z.infer<S> {
  const r = checkReply(schema, body, what, from);
  if (!r.ok) throw r.error;
  return r.data;
}
