// Issue links in the simulator: both sides of a link as Jira shows them in `issuelinks`, added
// while seeding (silently) or by a person (history, `updated` bump and webhooks on both issues).
import { LINK_TYPES, PEOPLE } from './catalog.ts';
import type { ChangeOptions, JiraSimStore, SimIssue } from './store.ts';

function brief(i: SimIssue, site: string) {
  const f = i.fields;
  return {
    id: i.id,
    key: i.key,
    self: `${site}/rest/api/3/issue/${i.id}`,
    fields: { summary: f.summary, status: f.status, priority: f.priority, issuetype: f.issuetype },
  };
}

/** The `issuelinks` entries for "source <type.outward> destination" on each side. */
export function linkEntries(id: number, type: string, source: SimIssue, destination: SimIssue, site: string) {
  const t = LINK_TYPES[type];
  if (!t) throw new Error(`unknown link type ${type}`);
  const linkType = {
    id: t.id,
    name: type,
    inward: t.inward,
    outward: t.outward,
    self: `${site}/rest/api/3/issueLinkType/${t.id}`,
  };
  const self = `${site}/rest/api/3/issueLink/${id}`;
  return {
    onSource: { id: String(id), self, type: linkType, outwardIssue: brief(destination, site) },
    onDestination: { id: String(id), self, type: linkType, inwardIssue: brief(source, site) },
  };
}

/** A person links two issues: "source <type> destination" (e.g. PAY-3 blocks PAY-7). */
export function linkIssues(
  store: JiraSimStore,
  site: string,
  id: number,
  source: string,
  destination: string,
  type = 'Blocks',
  change: ChangeOptions = {},
): number {
  const s = store.liveIssue(source);
  const d = store.liveIssue(destination);
  if (!s || !d) throw new Error(`no issue ${s ? destination : source}`);
  const { onSource, onDestination } = linkEntries(id, type, s, d, site);
  store.updateIssue(s.key, { issuelinks: [...((s.fields.issuelinks as unknown[]) ?? []), onSource] }, change);
  store.updateIssue(d.key, { issuelinks: [...((d.fields.issuelinks as unknown[]) ?? []), onDestination] }, change);
  store.announce({
    kind: 'link',
    event: 'issuelink_created',
    link: { id, sourceIssueId: Number(s.id), destinationIssueId: Number(d.id), type },
    issue: store.getIssue(s.key)!,
    actor: change.actor ?? PEOPLE[0]!,
  });
  return id;
}
