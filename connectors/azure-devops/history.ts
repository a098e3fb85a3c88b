// Histories from Azure DevOps: the reporting work item revisions API
// (`GET {project}/_apis/wit/reporting/workitemrevisions`), which streams every revision of a
// project past a watermark, oldest first, in batches. The first read starts at the horizon
// (`startDateTime`); the continuation token it ends with is the cursor, so each later read
// brings only the revisions made since. Only the fields a history needs are asked for: the state
// with its StateChangeDate, the target date and the parent. A revision carries each field's value
// then (a field it leaves out was empty), so the same batches give all three.
//
// Every edit makes a revision (pmo-sync's own write-back included), and a stream past the horizon
// starts at whatever revision came first, so a revision's state is not a transition at that
// revision: it is the state entered at its StateChangeDate, which the service sets on creation and
// on every state change. Dated so, revisions that leave the state alone repeat a transition already
// known and collapse into it.

import type { FieldValue, HistoryOptions, ItemHistory } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { AdoClient } from './client.ts';
import type { AdoConnection } from './config.ts';
import { LOCATIONS } from './locations.ts';
import { DUE_FIELDS, statusCategoryOf } from './map.ts';
import { AdoReportingRevisions } from './schema-history.ts';
import type { StateCategoryCache } from './states.ts';

/** Revisions per batch asked for: the most the service returns in one. */
export const REVISIONS_PAGE = 1000;
const FIELDS = [
  'System.Id',
  'System.WorkItemType',
  'System.TeamProject',
  'System.State',
  'System.ChangedDate',
  'System.Parent',
  'Microsoft.VSTS.Common.StateChangeDate',
];

/** A revision's date field as a day (`YYYY-MM-DD`), as the forecasts compare target dates. */
function dayOf(v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().slice(0, 10);
}

function parentOf(v: unknown): string | null {
  return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^\d+$/.test(v))
    ? String(v)
    : null;
}

/**
 * When the revision's state was entered: its StateChangeDate, unless that is missing (a type
 * without the field) or later than the revision itself; then the revision's own date.
 */
function enteredAt(stateChange: unknown, changed: string): string {
  if (typeof stateChange !== 'string') return changed;
  const ms = Date.parse(stateChange);
  return Number.isNaN(ms) || ms > Date.parse(changed) ? changed : new Date(ms).toISOString();
}

interface Cursor {
  v: 1;
  /** Continuation token per project ('' for an organization-wide stream). */
  tokens: Record<string, string>;
}

function decodeCursor(c: string | null): Cursor | null {
  if (!c) return null;
  try {
    const p = JSON.parse(c) as Partial<Cursor>;
    if (p.v === 1 && p.tokens && typeof p.tokens === 'object') return p as Cursor;
  } catch {
    /* an unreadable cursor backfills again from the horizon, which is always safe */
  }
  return null;
}

export function createAdoHistory(deps: { client: AdoClient; config: AdoConnection; states: StateCategoryCache }) {
  const { client, config, states } = deps;
  const projects =
    'projects' in config.scope ? config.scope.projects : config.scope.project ? [config.scope.project] : [''];
  // The target date as the mapper reads it: the configured field, else the first standard one set.
  const dueFields = config.fields.due ? [config.fields.due] : [...DUE_FIELDS];
  const fields = [...new Set([...FIELDS, ...dueFields])];

  async function history(opts: HistoryOptions): Promise<{ cursor: string }> {
    const prior = decodeCursor(opts.cursor);
    const tokens: Record<string, string> = {};
    for (const project of projects) {
      let token: string | undefined = prior?.tokens[project];
      const l = LOCATIONS.reportingRevisions;
      for (;;) {
        opts.signal?.throwIfAborted();
        const reply = await client.call({
          method: 'GET',
          area: l.area,
          locationId: l.id,
          apiVersion: l.apiVersion,
          routeValues: project ? { project } : {},
          query: {
            fields: fields.join(','),
            $maxPageSize: REVISIONS_PAGE,
            // The service takes one or the other: a watermark, or where the first read starts.
            ...(token ? { continuationToken: token } : { startDateTime: opts.since }),
          },
          what: `read work item revisions${project ? ` of ${project}` : ''}`,
        });
        const batch = validateReply(AdoReportingRevisions, reply.body, 'reporting work item revisions', client.source);
        const byItem = new Map<string, ItemHistory & { due: FieldValue[]; parent: FieldValue[] }>();
        for (const rev of batch.values) {
          const f = rev.fields;
          const changed = f['System.ChangedDate'];
          if (typeof changed !== 'string' || Number.isNaN(Date.parse(changed))) continue;
          const at = new Date(changed).toISOString();
          const key = String(rev.id);
          const h = byItem.get(key) ?? { key, mode: 'append' as const, transitions: [], due: [], parent: [] };
          byItem.set(key, h);
          h.due.push({ at, value: dayOf(dueFields.map((n) => f[n]).find((v) => v !== undefined && v !== null)) });
          h.parent.push({ at, value: parentOf(f['System.Parent']) });
          const state = f['System.State'];
          const type = f['System.WorkItemType'];
          if (typeof state !== 'string' || typeof type !== 'string') continue;
          const owner = typeof f['System.TeamProject'] === 'string' ? f['System.TeamProject'] : project;
          const to = statusCategoryOf((await states.get(owner, type)).get(state));
          if (to) h.transitions.push({ at: enteredAt(f['Microsoft.VSTS.Common.StateChangeDate'], at), to });
        }
        if (byItem.size > 0) await opts.onHistories([...byItem.values()]);
        token = batch.continuationToken ?? token;
        if (batch.isLastBatch || !batch.continuationToken) break;
      }
      if (token) tokens[project] = token;
    }
    return { cursor: JSON.stringify({ v: 1, tokens } satisfies Cursor) };
  }

  return { history };
}
