// Service hook receiver: verifies the basic-auth credentials configured on the subscription and
// turns a `workitem.*` delivery into a TrackerEvent. Framework-free: it takes Headers and the raw body.
import { createHash, timingSafeEqual } from 'node:crypto';
import { WebhookPayloadError, WebhookVerificationError } from '../../src/core/errors.ts';
import { parseJson } from '../../src/core/json.ts';
import type { Person } from '../../src/core/work-item.ts';
import type { TrackerEvent, WebhookEventKind, WebhookRequest } from '../types.ts';
import type { AdoConnection } from './config.ts';
import { formatRevision, parseIdentity } from './map.ts';
import { type AdoIdentity, AdoServiceHookEvent } from './schema.ts';

const KINDS: Readonly<Record<string, WebhookEventKind>> = {
  'workitem.created': 'created',
  'workitem.updated': 'updated',
  'workitem.deleted': 'deleted',
  'workitem.restored': 'restored',
  'workitem.commented': 'commented',
};

/** Hashing both sides first gives equal-length buffers, so timingSafeEqual never leaks the length. */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function verifyServiceHook(auth: AdoConnection['webhookAuth'], req: WebhookRequest): void {
  if (!auth) throw new WebhookVerificationError('no webhookAuth is configured for this connection');
  const header = req.headers.get('authorization') ?? '';
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) throw new WebhookVerificationError('missing basic credentials');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  const user = i < 0 ? decoded : decoded.slice(0, i);
  const pass = i < 0 ? '' : decoded.slice(i + 1);
  // Both compares always run, so a right user name and a wrong one take the same time.
  const okUser = sameSecret(user, auth.username);
  const okPass = sameSecret(pass, auth.password);
  if (!(okUser && okPass)) throw new WebhookVerificationError('invalid credentials');
}

function newValue(v: unknown): unknown {
  return v && typeof v === 'object' && 'newValue' in v ? (v as { newValue: unknown }).newValue : v;
}

function asIdentity(v: unknown): Person | null {
  return typeof v === 'string' || (v && typeof v === 'object') ? parseIdentity(v as AdoIdentity) : null;
}

function isoOrNull(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) || v.startsWith('0001-') ? null : new Date(t).toISOString();
}

/**
 * `selfIds` are the lower-cased ids, unique name and display name pmo-sync writes as (from whoami);
 * changes it made are echoes. Several forms, since older payloads carry "Name <unique>" or bare names.
 */
export function parseServiceHook(req: WebhookRequest, selfIds: ReadonlySet<string>): TrackerEvent {
  let json: unknown;
  try {
    json = parseJson(req.rawBody.replace(/^\uFEFF/, ''));
  } catch {
    throw new WebhookPayloadError('service hook body is not JSON');
  }
  const parsed = AdoServiceHookEvent.safeParse(json);
  if (!parsed.success) {
    throw new WebhookPayloadError(
      `not an Azure DevOps service hook event: ${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`,
    );
  }
  const ev = parsed.data;
  const r = ev.resource;
  const kind = KINDS[ev.eventType] ?? 'other';
  // workitem.updated carries an update resource (its `id` is the update number): the item is
  // `workItemId`, or `revision.id` in payloads that leave workItemId at 0.
  const itemId = kind === 'updated' ? r.workItemId || r.revision?.id : r.id;
  const fields = r.fields ?? {};
  const current = kind === 'updated' ? { ...(r.revision?.fields ?? {}) } : fields;
  const rev = kind === 'updated' ? (r.revision?.rev ?? r.rev) : r.rev;
  const actor =
    asIdentity(r.revisedBy ?? null) ??
    asIdentity(newValue(fields['System.ChangedBy'])) ??
    asIdentity(current['System.ChangedBy']);
  const occurredAt =
    isoOrNull(newValue(fields['System.ChangedDate'])) ??
    isoOrNull(current['System.ChangedDate']) ??
    isoOrNull(ev.createdDate);
  const echo = actor !== null && (selfIds.has(actor.id.toLowerCase()) || selfIds.has(actor.name.toLowerCase()));
  return {
    // notificationId counts per subscription, so the subscription id makes it unique per connection.
    deliveryId: ev.subscriptionId ? `${ev.subscriptionId}:${ev.notificationId}` : String(ev.notificationId),
    kind,
    keys: itemId ? [String(itemId)] : [],
    occurredAt,
    revision: rev === undefined ? null : formatRevision(rev),
    actor,
    echo,
    changedFields: kind === 'updated' ? Object.keys(fields) : [],
  };
}
