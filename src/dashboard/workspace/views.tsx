/** @jsxRuntime automatic @jsxImportSource hono/jsx */
// The drill-down views: program → epic → item → finding. Each headline figure is counted from
// the rows under it (see load.ts), and each row links one level down.

import { renderComment } from '../../../connectors/azure-devops/comment.ts';
import { adfToText, renderAdf } from '../../../connectors/jira/comment.ts';
import type { CommentDoc } from '../../../connectors/types.ts';
import { Layout } from '../page.tsx';
import { filterQuery, type WorkspaceFilter } from './filter.ts';
import type { BurnUp } from './forecast.ts';
import { BurnUpCard } from './forecast-views.tsx';
import type { DependencyRow, EpicView, FindingView, ItemView, ProgramView, RuleText } from './load.ts';
import {
  Crumbs,
  day,
  Empty,
  epicHref,
  FilterForm,
  type FilterOptions,
  findingHref,
  HealthBadge,
  HealthStat,
  itemHref,
  ownerName,
  pct,
  programHref,
  Stat,
  safeHref,
  Tracker,
} from './parts.tsx';

function Dependencies(props: {
  rows: DependencyRow[];
  filter: WorkspaceFilter;
  /** The program view pages its rows: where this page sits, and the link to the next. */
  page?: ProgramView['dependencyPage'];
  pageHref?: (after: string | null) => string;
}) {
  const f = props.filter;
  const p = props.page;
  return (
    <section class="card">
      <h2>Dependencies in and out</h2>
      <div class="scroll">
        <table data-testid="dependencies">
          <thead>
            <tr>
              <th>Direction</th>
              <th>From</th>
              <th>Link</th>
              <th>To</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.length === 0 ? <Empty cols={4} text="No dependencies." /> : null}
            {props.rows.map((d) => (
              <tr data-direction={d.direction}>
                <td>
                  {d.direction === 'in' ? 'into this view' : d.direction === 'out' ? 'out of this view' : 'within'}
                  {d.crossTracker ? <div class="small cross">across trackers</div> : null}
                </td>
                <td>
                  <a href={itemHref(d.source, f)}>{d.sourceTitle}</a>
                  <div class="muted small">
                    {d.source} <Tracker tracker={d.sourceTracker} />
                  </div>
                </td>
                <td>{d.relation ? `${d.type} (${d.relation})` : d.type}</td>
                <td>
                  {d.targetTitle === null ? (
                    <span>{d.target} (not synced)</span>
                  ) : (
                    <a href={itemHref(d.target, f)}>{d.targetTitle}</a>
                  )}
                  <div class="muted small">
                    {d.target} <Tracker tracker={d.targetTracker} />
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {p && props.pageHref ? (
        <p class="small" data-testid="dependency-page">
          Dependencies <span data-testid="dependency-first">{p.first}</span>–
          <span data-testid="dependency-last">{p.last}</span> of <span data-testid="dependency-total">{p.total}</span>
          {p.first > 1 ? (
            <>
              {' '}
              · <a href={props.pageHref(null)}>First page</a>
            </>
          ) : null}
          {p.next ? (
            <>
              {' '}
              ·{' '}
              <a rel="next" data-testid="dependency-next" href={props.pageHref(p.next)}>
                Next {p.size}
              </a>
            </>
          ) : null}
        </p>
      ) : null}
    </section>
  );
}

/** A query string with the page cursor added. */
const withAfter = (query: string, after: string) => `${query}${query ? '&' : '?'}after=${encodeURIComponent(after)}`;

export function ProgramPage(props: {
  view: ProgramView;
  filter: WorkspaceFilter;
  options: FilterOptions;
  burnUp?: BurnUp | null;
}) {
  const { view: v, filter: f } = props;
  const id = v.program.id;
  return (
    <Layout title={`${v.program.name} · pmo-sync`} signedIn>
      <Crumbs trail={[{ label: 'Portfolio', href: `/${filterQuery(f)}` }, { label: v.program.name }]} />
      <section class="card">
        <h2>
          {v.program.name} <HealthBadge health={v.rollup?.health} />
        </h2>
        <p data-testid="program-reason">{v.rollup?.healthReason ?? 'No rollup yet.'}</p>
        <p class="small">
          <a href={`/timeline${filterQuery({ ...f, program: id })}`}>Timeline</a> ·{' '}
          <a href={`/programs/${encodeURIComponent(id)}/dependencies${filterQuery({ ...f, program: undefined })}`}>
            Dependency map
          </a>{' '}
          · <a href={`/findings${filterQuery({ ...f, program: id })}`}>Findings</a>
        </p>
      </section>
      <FilterForm
        action={`/programs/${encodeURIComponent(id)}`}
        filter={f}
        options={props.options}
        hide={['program']}
      />
      <section class="headline" aria-label="Headline">
        <HealthStat counts={v.headline.health} total={v.headline.epics} label="Epics by health" />
        <Stat id="h-findings" label="Open findings under these epics" value={v.headline.openFindings} />
        <Stat id="h-deps-in" label="Dependencies in" value={v.headline.dependenciesIn} />
        <Stat id="h-deps-out" label="Dependencies out" value={v.headline.dependenciesOut} />
      </section>
      {props.burnUp ? <BurnUpCard b={props.burnUp} title="Burn-up and forecast of the program" /> : null}
      <section class="card">
        <h2>Epics across both trackers</h2>
        <div class="scroll">
          <table data-testid="epics">
            <thead>
              <tr>
                <th>Health</th>
                <th>Epic and why</th>
                <th class="hide-sm">Owner</th>
                <th class="n">Target</th>
                <th class="n hide-sm">Complete</th>
                <th class="n">Findings</th>
              </tr>
            </thead>
            <tbody>
              {v.epics.length === 0 ? <Empty cols={6} text="No epics in this view." /> : null}
              {v.epics.map((e) => (
                <tr data-testid="epic-row" data-ref={e.ref} data-health={e.health} data-findings={e.openFindings}>
                  <td>
                    <HealthBadge health={e.health} />
                  </td>
                  <td>
                    <a href={epicHref(e.ref, f)}>{e.title}</a>
                    <div class="muted small">
                      {e.ref} · <Tracker tracker={e.tracker} /> · {e.status}
                    </div>
                    {e.healthReason ? <div class="small reason">{e.healthReason}</div> : null}
                  </td>
                  <td class="hide-sm">{ownerName(e.owner)}</td>
                  <td class="n">{day(e.due)}</td>
                  <td class="n hide-sm">{pct(e.percentComplete)}</td>
                  <td class="n">{e.openFindings}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="small" data-testid="epic-page">
          {/* The headline counts every epic of the filter; a page shows up to 100 of them. */}
          Epics <span data-testid="page-first">{v.page.first}</span>–<span data-testid="page-last">{v.page.last}</span>{' '}
          of <span data-testid="page-total">{v.page.total}</span>
          {v.page.first > 1 ? (
            <>
              {' '}
              ·{' '}
              <a href={`/programs/${encodeURIComponent(id)}${filterQuery({ ...f, program: undefined })}`}>First page</a>
            </>
          ) : null}
          {v.page.next ? (
            <>
              {' '}
              ·{' '}
              <a
                rel="next"
                data-testid="page-next"
                href={`/programs/${encodeURIComponent(id)}${withAfter(filterQuery({ ...f, program: undefined }), v.page.next)}`}
              >
                Next {v.page.size}
              </a>
            </>
          ) : null}
        </p>
      </section>
      <Dependencies
        rows={v.dependencies}
        filter={f}
        page={v.dependencyPage}
        pageHref={(next) => {
          const q = filterQuery({ ...f, program: undefined });
          const base = `/programs/${encodeURIComponent(id)}`;
          return next === null
            ? `${base}${q}`
            : `${base}${q}${q ? '&' : '?'}dependenciesAfter=${encodeURIComponent(next)}`;
        }}
      />
    </Layout>
  );
}

export function EpicPage(props: {
  view: EpicView;
  filter: WorkspaceFilter;
  programs: { id: string; name: string }[];
  rules: Map<string, RuleText>;
  burnUp?: BurnUp | null;
}) {
  const { view: v, filter: f } = props;
  const e = v.epic;
  const program = f.program ? props.programs.find((p) => p.id === f.program) : undefined;
  const tracker = safeHref(e.url);
  return (
    <Layout title={`${e.title} · pmo-sync`} signedIn>
      <Crumbs
        trail={[
          { label: 'Portfolio', href: `/${filterQuery(f)}` },
          ...(program ? [{ label: program.name, href: programHref(program.id, f) }] : []),
          { label: e.title },
        ]}
      />
      <section class="card">
        <h2>
          {e.title} <HealthBadge health={e.health} />
        </h2>
        <p class="muted small">
          {e.ref} · <Tracker tracker={e.tracker} /> · {e.kind} · {e.status} · owner {ownerName(e.owner)}
          {tracker ? (
            <>
              {' '}
              ·{' '}
              <a href={tracker} rel="noopener noreferrer">
                open in {e.tracker === 'jira' ? 'Jira' : 'Azure DevOps'}
              </a>
            </>
          ) : null}
        </p>
        <p class="reason" data-testid="epic-reason">
          {e.healthReason ?? 'No rollup yet.'}
        </p>
        {v.epicFindings.length > 0 ? (
          <ul class="findings">
            {v.epicFindings.map((r) => (
              <li data-testid="epic-finding">
                <span class={`sev ${r.severity}`}>{r.severity}</span> {props.rules.get(r.id)?.title ?? r.id}
              </li>
            ))}
          </ul>
        ) : null}
        <dl class="facts">
          <dt>Target date (the epic's own)</dt>
          <dd data-testid="epic-target">{day(e.due)}</dd>
          <dt>Planned finish (latest child due)</dt>
          <dd data-testid="epic-planned">{day(v.plannedFinish)}</dd>
          <dt>Complete</dt>
          <dd>{pct(e.percentComplete)}</dd>
        </dl>
      </section>
      <section class="headline" aria-label="Headline">
        <Stat id="h-children" label="Items under this epic" value={v.headline.children}>
          <p class="small">
            <span data-testid="h-done">{v.headline.done}</span> done
          </p>
        </Stat>
        <Stat id="h-points" label="Points" value={v.headline.points}>
          <p class="small">
            <span data-testid="h-points-done">{v.headline.pointsDone}</span> done
          </p>
        </Stat>
        <Stat
          id="h-findings"
          label="Open findings"
          value={v.headline.openFindings}
          tone={v.headline.openFindings ? 'bad' : ''}
        />
      </section>
      {props.burnUp ? <BurnUpCard b={props.burnUp} title="Burn-up and forecast" /> : null}
      <section class="card">
        <h2>Children</h2>
        <div class="scroll">
          <table data-testid="children">
            <thead>
              <tr>
                <th>Item</th>
                <th>Status</th>
                <th class="hide-sm">Owner</th>
                <th class="n">Points</th>
                <th>Findings</th>
              </tr>
            </thead>
            <tbody>
              {v.children.length === 0 ? <Empty cols={5} text="Nothing under this epic." /> : null}
              {v.children.map((c) => (
                <tr
                  data-testid="child-row"
                  data-ref={c.ref}
                  data-status={c.statusCategory}
                  data-points={c.points ?? 0}
                  data-findings={c.openFindings}
                  class={`depth-${Math.min(c.depth, 4)}`}
                >
                  <td>
                    <a href={itemHref(c.ref, f)}>{c.title}</a>
                    <div class="muted small">
                      {c.ref} · {c.kind}
                    </div>
                  </td>
                  <td>{c.status}</td>
                  <td class="hide-sm">{ownerName(c.owner)}</td>
                  <td class="n">{c.points ?? '–'}</td>
                  <td>
                    {c.findingRules.length === 0 ? <span class="muted">none</span> : null}
                    {c.findingRules.map((r) => (
                      <div class="small">
                        <span class={`sev ${r.severity}`}>{r.severity}</span> {props.rules.get(r.id)?.title ?? r.id}
                      </div>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <Dependencies rows={v.dependencies} filter={f} />
      <section class="card">
        <h2>History</h2>
        {v.history.length === 0 && v.findingEvents.length === 0 ? <p class="muted">No history yet.</p> : null}
        <ul class="history" data-testid="history">
          {v.history.map((h) => (
            <li>
              {h.day}: <HealthBadge health={h.health} /> {pct(h.percentComplete)} complete
            </li>
          ))}
          {v.findingEvents.map((h) => (
            <li>
              {day(h.at)}: {h.ref} “{props.rules.get(h.rule)?.title ?? h.rule}” {h.status} — {h.message}
            </li>
          ))}
        </ul>
      </section>
    </Layout>
  );
}

function commentDoc(payload: unknown): CommentDoc | null {
  const c = (payload as { comment?: { action?: string; doc?: CommentDoc } } | null)?.comment;
  return c?.doc && Array.isArray(c.doc.blocks) ? c.doc : null;
}

/** The comment as the tracker received it: Jira's ADF (shown as its text) or Azure DevOps HTML source. */
export function postedText(tracker: string, doc: CommentDoc): string {
  return tracker === 'jira' ? adfToText(renderAdf(doc)) : renderComment(doc);
}

function Comment(props: { tracker: string; comment: ItemView['comment'] }) {
  const doc = commentDoc(props.comment.applied);
  const waiting = props.comment.waiting.map((w) => ({
    status: w.status,
    doc: commentDoc(w.payload),
    remove: (w.payload as { comment?: { action?: string } } | null)?.comment?.action === 'delete',
  }));
  return (
    <section class="card">
      <h2>pmo-sync comment in the tracker</h2>
      {doc ? (
        <>
          <p class="muted small">Posted {day(props.comment.appliedAt)}, exactly as sent:</p>
          <pre class="posted" data-testid="posted-comment">
            {postedText(props.tracker, doc)}
          </pre>
        </>
      ) : (
        <p class="muted" data-testid="posted-comment">
          {(props.comment.applied as { comment?: { action?: string } } | null)?.comment?.action === 'delete'
            ? 'The comment was removed (the item is compliant).'
            : 'No comment posted.'}
        </p>
      )}
      {waiting.map((w) => (
        <>
          <p class="muted small">Waiting to be sent ({w.status}):</p>
          <pre class="posted">
            {w.doc ? postedText(props.tracker, w.doc) : w.remove ? 'Remove the comment.' : '(no comment text)'}
          </pre>
        </>
      ))}
    </section>
  );
}

export function ItemPage(props: { view: ItemView; filter: WorkspaceFilter; rules: Map<string, RuleText>; now: Date }) {
  const { view: v, filter: f } = props;
  const i = v.item;
  const tracker = safeHref(i.url);
  const fields: [string, string][] = [
    ['Ref', i.ref],
    ['Tracker', i.tracker],
    ['Project', `${i.connection}:${i.project}`],
    ['Kind (type)', `${i.kind} (${i.type})`],
    ['Status (category)', `${i.status} (${i.statusCategory})`],
    ['Owner', ownerName(i.owner)],
    ['Assignee', i.assignee?.name ?? 'nobody'],
    ['Priority', i.priority ?? '—'],
    ['Labels', i.labels.join(', ') || '—'],
    ['Start / target', `${day(i.start)} / ${day(i.due)}`],
    ['Started / resolved', `${day(i.started)} / ${day(i.resolved)}`],
    ['Points', i.points === null ? '—' : String(i.points)],
    ['Estimate / remaining (h)', `${i.estimateHours ?? '—'} / ${i.remainingHours ?? '—'}`],
    ['Parent', i.parent ?? '—'],
    ['Iteration', i.iteration?.name ?? '—'],
    ['Created / updated', `${day(i.created)} / ${day(i.updated)}`],
  ];
  const today = props.now.toISOString().slice(0, 10);
  return (
    <Layout title={`${i.title} · pmo-sync`} signedIn>
      <Crumbs
        trail={[
          { label: 'Portfolio', href: `/${filterQuery(f)}` },
          ...(v.epic && v.epic !== i.ref ? [{ label: 'Epic', href: epicHref(v.epic, f) }] : []),
          { label: i.title },
        ]}
      />
      <section class="card">
        <h2>{i.title}</h2>
        <p class="small">
          <Tracker tracker={i.tracker} />{' '}
          {tracker ? (
            <a href={tracker} rel="noopener noreferrer" data-testid="tracker-link">
              Open {i.key} in {i.tracker === 'jira' ? 'Jira' : 'Azure DevOps'}
            </a>
          ) : (
            <span>{i.key}</span>
          )}
          {i.kind === 'epic' ? (
            <>
              {' '}
              · <a href={epicHref(i.ref, f)}>epic view</a>
            </>
          ) : null}
        </p>
        <dl class="facts" data-testid="fields">
          {fields.map(([k, val]) => (
            <>
              <dt>{k}</dt>
              <dd>{val}</dd>
            </>
          ))}
        </dl>
      </section>
      <section class="card">
        <h2>Findings</h2>
        {v.findings.length === 0 ? <p class="muted">No findings: this item meets every rule.</p> : null}
        <ul class="findings" data-testid="item-findings">
          {v.findings.map((x) => {
            const rule = props.rules.get(x.rule);
            const waived = x.waivedUntil !== null;
            return (
              <li data-status={x.status}>
                <p>
                  <span class={`sev ${x.severity}`}>{x.severity}</span>{' '}
                  <a href={findingHref(x.id)}>
                    <b>{rule?.title ?? x.rule}</b>
                  </a>{' '}
                  <span class="muted small">
                    {x.status} since {day(x.status === 'open' ? x.firstSeen : (x.resolvedAt ?? x.lastSeen))}
                  </span>
                </p>
                <p>
                  <b>How to fix:</b> {x.message}
                </p>
                {rule?.rationale ? <p class="muted small">Why: {rule.rationale}</p> : null}
                {waived ? (
                  <p class="small" data-testid="waiver">
                    Waived until {x.waivedUntil}
                    {x.waivedUntil! < today ? ' (expired)' : ''}: {x.waivedReason ?? 'no reason given'}
                  </p>
                ) : null}
              </li>
            );
          })}
        </ul>
      </section>
      <Comment tracker={i.tracker} comment={v.comment} />
      <section class="card">
        <h2>Write audit</h2>
        <div class="scroll">
          <table data-testid="audit">
            <thead>
              <tr>
                <th>When</th>
                <th>What</th>
                <th>Outcome</th>
                <th class="n">HTTP</th>
              </tr>
            </thead>
            <tbody>
              {v.audit.length === 0 ? <Empty cols={4} text="pmo-sync has not written to this item." /> : null}
              {v.audit.map((a) => (
                <tr>
                  <td>{a.at.slice(0, 16).replace('T', ' ')}</td>
                  <td>{a.target}</td>
                  <td>{a.action}</td>
                  <td class="n">{a.httpStatus ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}

export function FindingPage(props: { view: FindingView; rules: Map<string, RuleText>; now: Date }) {
  const { finding: x, item, history } = props.view;
  const rule = props.rules.get(x.rule);
  const tracker = safeHref(item.url);
  const today = props.now.toISOString().slice(0, 10);
  return (
    <Layout title={`${rule?.title ?? x.rule} · pmo-sync`} signedIn>
      <Crumbs
        trail={[
          { label: 'Portfolio', href: '/' },
          ...(item.epic && item.epic !== item.ref ? [{ label: 'Epic', href: epicHref(item.epic) }] : []),
          { label: item.title, href: itemHref(item.ref) },
          { label: rule?.title ?? x.rule },
        ]}
      />
      <section class="card" data-testid="finding">
        <h2>
          <span class={`sev ${x.severity}`}>{x.severity}</span> {rule?.title ?? x.rule}
        </h2>
        <p class="muted small">
          rule <code>{x.rule}</code> · {x.status} · first seen {day(x.firstSeen)} · last checked {day(x.lastSeen)}
        </p>
        <p>
          <b>How to fix:</b> {x.message}
        </p>
        {rule?.rationale ? <p>Why this rule exists: {rule.rationale}</p> : null}
        <p>
          On <a href={itemHref(item.ref)}>{item.title}</a> ({item.ref}, <Tracker tracker={item.tracker} />
          ), owner {ownerName(item.owner)}
          {tracker ? (
            <>
              {' '}
              ·{' '}
              <a href={tracker} rel="noopener noreferrer">
                open in the tracker
              </a>
            </>
          ) : null}
        </p>
        <p data-testid="waiver">
          {x.waivedUntil
            ? `Waived until ${x.waivedUntil}${x.waivedUntil < today ? ' (expired)' : ''}: ${x.waivedReason ?? 'no reason given'}`
            : 'Not waived.'}
        </p>
      </section>
      <section class="card">
        <h2>History</h2>
        {history.length === 0 ? <p class="muted">No status changes recorded.</p> : null}
        <ul class="history">
          {history.map((h) => (
            <li>
              {h.at.slice(0, 16).replace('T', ' ')}: {h.status} — {h.message}
            </li>
          ))}
        </ul>
      </section>
    </Layout>
  );
}
