// Status histories from Azure DevOps: the reporting work item revisions API
// (`GET {project}/_apis/wit/reporting/workitemrevisions`), which streams every revision of a
// project past a watermark, oldest first, in batches. The first read starts at the horizon
// (`startDateTime`); the continuation token it ends with is the cursor, so each later read
// brings only the revisions made since. Only the fields a status history needs are asked for.

import type { HistoryOptions, ItemHistory } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { AdoClient } from './client.ts';
import type { AdoConnection } from './config.ts';
import { LOCATIONS } from './locations.ts';
import { statusCategoryOf } from './map.ts';
import { AdoReportingRevisions } from './schema-history.ts';
import type { StateCategoryCache } from './states.ts';

/** Revisions per batch asked for: the most the service returns in one. */
export const REVISIONS_PAGE = 1000;
const FIELDS = ['System.Id', 'System.WorkItemType', 'System.TeamProject', 'System.State', 'System.ChangedDate'];

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
            fields: FIELDS.join(','),
            $maxPageSize: REVISIONS_PAGE,
            // The service takes one or the other: a watermark, or where the first read starts.
            ...(token ? { continuationToken: token } : { startDateTime: opts.since }),
          },
          what: `read work item revisions${project ? ` of ${project}` : ''}`,
        });
        const batch = validateReply(AdoReportingRevisions, reply.body, 'reporting work item revisions', client.source);
        const byItem = new Map<string, ItemHistory>();
        for (const rev of batch.values) {
          const f = rev.fields;
          const state = f['System.State'];
          const type = f['System.WorkItemType'];
          const at = f['System.ChangedDate'];
          if (typeof state !== 'string' || typeof type !== 'string' || typeof at !== 'string') continue;
          const owner = typeof f['System.TeamProject'] === 'string' ? f['System.TeamProject'] : project;
          const to = statusCategoryOf((await states.get(owner, type)).get(state));
          if (!to) continue;
          const key = String(rev.id);
          const h = byItem.get(key) ?? { key, mode: 'append' as const, transitions: [] };
          h.transitions.push({ at: new Date(at).toISOString(), to });
          byItem.set(key, h);
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
