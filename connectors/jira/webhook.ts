// Jira admin webhooks: verify `X-Hub-Signature: sha256=<hex>` (HMAC-SHA256 of the raw body) and
// turn a verified delivery into a TrackerEvent. Framework-free: callers hand in Headers and the
// body exactly as received.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/core/errors.ts';
import { parseJson } from '../../src/core/json.ts';
import type { Person } from '../../src/core/work-item.ts';
import type { TrackerEvent, WebhookEventKind, WebhookRequest } from '../types.ts';
import { isoInstant } from './map.ts';
import { JiraWebhookBody } from './schema.ts';

export const SIGNATURE_HEADER = 'x-hub-signature';
export const DELIVERY_HEADER = 'x-atlassian-webhook-identifier';

export function signBody(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // timingSafeEqual needs equal lengths; the header format is checked first, so lengths only
  // differ for a malformed header, which says nothing about the secret.
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

/**
 * Throws unless the signature matches one of the secrets (the current one, or the previous one
 * during a rotation). The message never says which part failed beyond what the sender can see.
 */
export function verifyJiraSignature(req: WebhookRequest, secrets: readonly (string | undefined)[]): void {
  const usable = secrets.filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (usable.length === 0) throw new WebhookVerificationError('no webhook secret is configured for this connection');
  const header = req.headers.get(SIGNATURE_HEADER);
  if (!header) throw new WebhookVerificationError('missing X-Hub-Signature header');
  if (!/^sha256=[0-9a-f]{64}$/i.test(header.trim()))
    throw new WebhookVerificationError('malformed X-Hub-Signature header');
  const given = header.trim().toLowerCase();
  let ok = false;
  // Check every secret, not the first match, so timing does not tell which secret was used.
  for (const secret of usable) ok = safeEqual(signBody(secret, req.rawBody), given) || ok;
  if (!ok) throw new WebhookVerificationError('X-Hub-Signature does not match the body');
}

const KIND_BY_EVENT: Record<string, WebhookEventKind> = {
  'jira:issue_created': 'created',
  'jira:issue_updated': 'updated',
  'jira:issue_deleted': 'deleted',
  comment_created: 'commented',
  comment_updated: 'commented',
  comment_deleted: 'commented',
  issuelink_created: 'linked',
  issuelink_deleted: 'linked',
};

function occurredAt(ts: number | string | undefined): string | null {
  if (typeof ts === 'number') return new Date(ts).toISOString();
  if (typeof ts === 'string') {
    // Jira Server sends `2018-12-18 11:57:24,746` (no zone): not an instant we can trust.
    const d = new Date(ts);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }
  return null;
}

export function parseJiraWebhook(req: WebhookRequest, selfAccountId: string | null): TrackerEvent {
  let json: unknown;
  try {
    json = parseJson(req.rawBody);
  } catch {
    throw new WebhookPayloadError('webhook body is not JSON');
  }
  const parsed = JiraWebhookBody.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new WebhookPayloadError(`webhook body is not a Jira event: ${where}`);
  }
  const body = parsed.data;
  const kind = KIND_BY_EVENT[body.webhookEvent] ?? 'other';
  const keys: string[] = [];
  if (body.issue) keys.push(body.issue.key);
  else if (body.worklog) keys.push(body.worklog.issueId);
  if (body.issueLink) keys.push(String(body.issueLink.sourceIssueId), String(body.issueLink.destinationIssueId));
  if (kind !== 'other' && kind !== 'linked' && keys.length === 0) {
    throw new WebhookPayloadError(`${body.webhookEvent} event without an issue`);
  }
  const who = body.user ?? body.comment?.updateAuthor ?? body.comment?.author;
  const actor: Person | null = who ? { id: who.accountId, name: who.displayName ?? who.accountId } : null;
  const updated = body.issue?.fields?.updated;
  return {
    // Jira sends one identifier per delivery and repeats it on retries; a body hash stands in
    // when a proxy dropped the header, so replays of the same bytes still dedupe.
    deliveryId: req.headers.get(DELIVERY_HEADER) ?? `sha256:${createHash('sha256').update(req.rawBody).digest('hex')}`,
    kind,
    keys,
    occurredAt: occurredAt(body.timestamp),
    revision: updated ? isoInstant(updated) : null,
    actor,
    echo: actor !== null && selfAccountId !== null && actor.id === selfAccountId,
    changedFields: (body.changelog?.items ?? []).map((i) => i.fieldId ?? i.field),
  };
}
