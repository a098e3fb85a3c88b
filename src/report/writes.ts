// What a PMO reviews before switching a dry run to enforce: every waiting or planned write with
// the comment text, labels and field values it would send, and what each changes since the state
// pmo-sync last applied to that item (applied_state). `report --writes` and the admin API read it.
import { and, asc, inArray, or, sql } from 'drizzle-orm';
import type { CommentDoc, CommentText } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import { appliedState, writeOutbox } from '../../db/schema.ts';
import { compareNatural } from '../workspace/metrics.ts';
import type { OutboxRow } from '../writeback/admin.ts';
import type { OutboxPayload } from '../writeback/plan.ts';

export const REVIEW_STATUSES = ['planned', 'pending', 'in_flight', 'dead'] as const;

export interface FieldChange {
  field: string;
  before: string | number | null;
  after: string | number | null;
}

export interface WriteReview
  extends Pick<OutboxRow, 'id' | 'connection' | 'ref' | 'target' | 'status' | 'attempts' | 'failures' | 'lastError'> {
  /** For a comment: `ensure` (create or update) or `delete`. */
  action: 'ensure' | 'delete' | 'set';
  /** The comment as text, exactly the blocks the tracker will render; null for other targets. */
  commentText: string | null;
  labels: { add: string[]; remove: string[] } | null;
  fields: Record<string, string | number | null> | null;
  /** Since the last applied state: `new` (never applied), `changed`, or `unchanged`. */
  change: 'new' | 'changed' | 'unchanged';
  /** The comment as last applied, when it was. */
  previousCommentText: string | null;
  /** Lines of the comment removed (-) and added (+) since the last applied one. */
  commentDiff: string[];
  /** Fields whose value differs from the last applied one. */
  fieldChanges: FieldChange[];
  /** Labels added or removed by this write that the last applied write did not add or remove. */
  labelChanges: { add: string[]; remove: string[] } | null;
}

const inline = (parts: CommentText[]) =>
  parts.map((p) => (p.href && p.href !== p.text ? `${p.text} <${p.href}>` : p.text)).join('');

/** A comment doc as plain text: headings and paragraphs one line each, bullets as "- ". */
export function commentText(doc: CommentDoc): string {
  const lines: string[] = [];
  for (const b of doc.blocks) {
    if (b.type === 'heading') lines.push(b.text);
    else if (b.type === 'paragraph') lines.push(inline(b.content));
    else for (const item of b.items) lines.push(`- ${inline(item)}`);
  }
  return lines.join('\n');
}

/** Lines only in `before` (prefixed "- ") and only in `after` ("+ "), in order. */
export function lineDiff(before: string | null, after: string | null): string[] {
  const a = before === null ? [] : before.split('\n');
  const b = after === null ? [] : after.split('\n');
  const inA = new Set(a);
  const inB = new Set(b);
  return [...a.filter((l) => !inB.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !inA.has(l)).map((l) => `+ ${l}`)];
}

export interface ReviewOptions {
  statuses?: readonly string[];
  /** Only these items (a report's filter); all when undefined. */
  refs?: ReadonlySet<string>;
  limit?: number;
}

export async function reviewWrites(db: Db, opts: ReviewOptions = {}): Promise<WriteReview[]> {
  const rows = await db
    .select()
    .from(writeOutbox)
    .where(inArray(writeOutbox.status, [...(opts.statuses ?? REVIEW_STATUSES)]))
    .orderBy(asc(writeOutbox.id));
  const wanted = rows.filter((r) => !opts.refs || opts.refs.has(r.ref)).slice(0, opts.limit ?? 5000);
  const applied = new Map<string, { hash: string; value: unknown }>();
  // Applied states of these writes, read in chunks by (ref, target) pairs.
  for (let i = 0; i < wanted.length; i += 1000) {
    const chunk = wanted.slice(i, i + 1000);
    const found = await db
      .select({
        ref: appliedState.ref,
        target: appliedState.target,
        hash: appliedState.hash,
        value: appliedState.value,
      })
      .from(appliedState)
      .where(
        or(...chunk.map((r) => and(sql`${appliedState.ref} = ${r.ref}`, sql`${appliedState.target} = ${r.target}`))),
      );
    for (const f of found) applied.set(`${f.ref}\u0000${f.target}`, { hash: f.hash, value: f.value });
  }
  return wanted
    .map((r) => review(r, applied.get(`${r.ref}\u0000${r.target}`)))
    .sort((a, b) => compareNatural(a.ref, b.ref) || a.target.localeCompare(b.target));
}

function review(
  r: typeof writeOutbox.$inferSelect,
  applied: { hash: string; value: unknown } | undefined,
): WriteReview {
  const payload = (r.payload ?? {}) as OutboxPayload;
  const before = (applied?.value ?? null) as OutboxPayload | null;
  const after =
    r.target === 'comment' && payload.comment?.action === 'ensure' ? commentText(payload.comment.doc) : null;
  const previous =
    before?.comment && before.comment.action === 'ensure' && before.comment.doc
      ? commentText(before.comment.doc)
      : null;
  const fields = r.target === 'fields' ? (payload.fields ?? {}) : null;
  const fieldChanges = fields
    ? Object.entries(fields)
        .map(([field, value]) => ({ field, before: before?.fields?.[field] ?? null, after: value }))
        .filter((c) => !applied || c.before !== c.after)
    : [];
  const labels = r.target === 'labels' ? (payload.labels ?? { add: [], remove: [] }) : null;
  const labelChanges = labels
    ? {
        add: labels.add.filter((l) => !before?.labels?.add.includes(l)),
        remove: labels.remove.filter((l) => !before?.labels?.remove.includes(l)),
      }
    : null;
  return {
    id: r.id,
    connection: r.connection,
    ref: r.ref,
    target: r.target,
    status: r.status,
    attempts: r.attempts,
    failures: r.failures,
    lastError: r.lastError,
    action: r.target === 'comment' ? (payload.comment?.action ?? 'ensure') : 'set',
    commentText: after,
    labels,
    fields,
    change: !applied ? 'new' : applied.hash === r.desiredHash ? 'unchanged' : 'changed',
    previousCommentText: previous,
    commentDiff: r.target === 'comment' ? lineDiff(previous, after) : [],
    fieldChanges,
    labelChanges,
  };
}
