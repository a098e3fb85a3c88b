// `GET {project}/_apis/wit/reporting/workitemrevisions`: the revision stream, oldest first, past a
// watermark. The store keeps each item's current fields and its edits since creation, so an
// item's revisions are derived from them, consistently with what every other route shows: created
// in the type's first state, moved to an in-progress state at Microsoft.VSTS.Common.ActivatedDate,
// to the state it was seeded with at ClosedDate (or at its StateChangeDate when its dates do not
// reach that state); then a revision at each edit, a state change made through the API or as a
// person included. Every revision shows each field as it was then, and the StateChangeDate of the
// state it shows.
import { apiError, type SimRequest, type SimResponse } from './protocol.ts';
import { type SimStore, type SimWorkItem, STATE_CHANGE_DATE } from './store.ts';

/** The most revisions one batch returns; a larger $maxPageSize is lowered to it. */
export const REVISIONS_PAGE_MAX = 1000;

const TRANSITION_DATES = [
  'Microsoft.VSTS.Common.ActivatedDate',
  'Microsoft.VSTS.Common.ResolvedDate',
  'Microsoft.VSTS.Common.ClosedDate',
];

interface Rev {
  id: number;
  rev: number;
  at: number;
  fields: Record<string, unknown>;
}

function revisionsOf(store: SimStore, it: SimWorkItem): Rev[] {
  const f = it.fields;
  const project = String(f['System.TeamProject']);
  const type = String(f['System.WorkItemType']);
  const states = store.statesOf(project, type);
  const stateEdits = it.edits.filter((e) => e.field === 'System.State');
  // The state it was created or seeded with: before its first logged state change, if any.
  const seeded = stateEdits.length > 0 ? String(stateEdits[0]!.from) : String(f['System.State']);
  const category = states.find((s) => s.name === seeded)?.category;
  const steps: { at: number; state: string }[] = [
    { at: Date.parse(String(f['System.CreatedDate'])), state: states[0]!.name },
  ];
  const activated = f['Microsoft.VSTS.Common.ActivatedDate'];
  if (typeof activated === 'string' && category !== 'Proposed') {
    const active = category === 'InProgress' ? seeded : states.find((s) => s.category === 'InProgress')?.name;
    if (active) steps.push({ at: Date.parse(activated), state: active });
  }
  const closed = f['Microsoft.VSTS.Common.ClosedDate'];
  if (typeof closed === 'string' && (category === 'Completed' || category === 'Resolved'))
    steps.push({ at: Date.parse(closed), state: seeded });
  // Seeded in a state its dates do not reach: it entered it when its StateChangeDate says.
  if (steps.at(-1)!.state !== seeded) {
    const entered = stateEdits.length > 0 ? undefined : f[STATE_CHANGE_DATE];
    steps.push({ at: Date.parse(String(entered ?? f['System.CreatedDate'])), state: seeded });
  }
  for (const e of stateEdits) steps.push({ at: e.at, state: String(e.to) });
  steps.sort((a, b) => a.at - b.at);
  const stateAt = (at: number) => steps.findLast((s) => s.at <= at) ?? steps[0]!;
  const times = [...new Set([...steps.map((s) => s.at), ...it.edits.map((e) => e.at)])].sort((a, b) => a - b);
  return times.map((at, i) => {
    const fields: Record<string, unknown> = { ...f };
    // Each edited field as it was at `at`: the last edit's new value by then, else the first's old one.
    for (const e of [...it.edits].reverse()) if (e.at > at) fields[e.field] = e.from;
    for (const [k, v] of Object.entries(fields)) if (v === undefined || v === null) delete fields[k];
    // Dates the service sets on a transition are not there before it.
    for (const k of TRANSITION_DATES) if (typeof fields[k] === 'string' && Date.parse(fields[k]) > at) delete fields[k];
    const state = stateAt(at);
    return {
      id: it.id,
      rev: i + 1,
      at,
      fields: {
        ...fields,
        'System.Id': it.id,
        'System.Rev': i + 1,
        'System.WorkItemType': type,
        'System.TeamProject': project,
        'System.State': state.state,
        [STATE_CHANGE_DATE]: new Date(state.at).toISOString(),
        'System.ChangedDate': new Date(at).toISOString(),
      },
    };
  });
}

const encode = (r: Rev) => Buffer.from(`${r.at}.${r.id}.${r.rev}`).toString('base64url');
function decode(token: string): [number, number, number] | null {
  const parts = Buffer.from(token, 'base64url').toString('utf8').split('.').map(Number);
  return parts.length === 3 && parts.every(Number.isFinite) ? (parts as [number, number, number]) : null;
}
const after = (r: Rev, w: [number, number, number]) =>
  r.at !== w[0] ? r.at > w[0] : r.id !== w[1] ? r.id > w[1] : r.rev > w[2];

export function reportingRevisions(
  store: SimStore,
  orgUrl: string,
  project: string | undefined,
  req: SimRequest,
): SimResponse {
  const token = req.query.get('continuationToken');
  const start = req.query.get('startDateTime');
  if (token && start)
    return apiError(400, "The parameters 'continuationToken' and 'startDateTime' cannot be used together.");
  const watermark = token ? decode(token) : null;
  if (token && !watermark) return apiError(400, 'The continuation token is not valid.');
  const startMs = start ? Date.parse(start) : Number.NEGATIVE_INFINITY;
  if (Number.isNaN(startMs)) return apiError(400, `startDateTime is not a date: ${start}`);
  const size = Math.min(REVISIONS_PAGE_MAX, Math.max(1, Number(req.query.get('$maxPageSize') ?? 200) || 200));
  const wanted = req.query.get('fields')?.split(',');
  const proj = project?.toLowerCase();
  const all: Rev[] = [];
  for (const it of store.items.values()) {
    if (it.deleted) continue;
    if (proj && String(it.fields['System.TeamProject']).toLowerCase() !== proj) continue;
    for (const r of revisionsOf(store, it)) if (r.at >= startMs && (!watermark || after(r, watermark))) all.push(r);
  }
  all.sort((a, b) => a.at - b.at || a.id - b.id || a.rev - b.rev);
  const page = all.slice(0, size);
  const last = page.at(-1);
  // At the end of the stream the token stays where it was: the next read waits past it.
  const next = last ? encode(last) : (token ?? Buffer.from(`${Date.now()}.0.0`).toString('base64url'));
  const base = `${orgUrl}${project ? `/${encodeURIComponent(project)}` : ''}/_apis/wit/reporting/workItemRevisions`;
  return {
    status: 200,
    body: {
      values: page.map((r) => ({
        id: r.id,
        rev: r.rev,
        fields: wanted
          ? Object.fromEntries(wanted.filter((k) => k in r.fields).map((k) => [k, r.fields[k]]))
          : r.fields,
      })),
      nextLink: `${base}?continuationToken=${next}&api-version=7.1-preview.2`,
      continuationToken: next,
      isLastBatch: all.length <= size,
    },
  };
}
