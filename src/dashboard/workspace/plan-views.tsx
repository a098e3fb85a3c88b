/** @jsxRuntime automatic @jsxImportSource hono/jsx */
// The findings explorer, the timeline and the dependency map. The two drawings are server-rendered
// SVG (no script, so the strict CSP holds), each followed by the same facts as text: health is
// never colour alone, and a screen reader or a phone gets the table.
import { Layout } from '../page.tsx';
import { filterQuery, type WorkspaceFilter } from './filter.ts';
import { type Explorer, GROUPS, type GroupBy, SEVERITIES } from './findings.ts';
import type { Bar, DependencyMap, Edge, Timeline } from './graph.ts';
import {
  Crumbs,
  day,
  Empty,
  FilterForm,
  type FilterOptions,
  findingHref,
  HealthBadge,
  HealthStat,
  itemHref,
  Stat,
  Tracker,
} from './parts.tsx';

const GROUP_LABEL: Record<GroupBy, string> = { rule: 'Rule', owner: 'Owner', team: 'Team / area', project: 'Project' };

export function ExplorerPage(props: { view: Explorer; filter: WorkspaceFilter; options: FilterOptions }) {
  const { view: v, filter: f } = props;
  const extra = { group: v.groupBy, severity: v.severity ?? undefined };
  return (
    <Layout title="Findings · pmo-sync" signedIn>
      <Crumbs trail={[{ label: 'Portfolio', href: `/${filterQuery(f)}` }, { label: 'Findings' }]} />
      <FilterForm action="/findings" filter={f} options={props.options}>
        <label>
          Group by
          <select name="group">
            {GROUPS.map((g) => (
              <option value={g} selected={v.groupBy === g}>
                {GROUP_LABEL[g]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select name="severity">
            <option value="">Any severity</option>
            {SEVERITIES.map((s) => (
              <option value={s} selected={v.severity === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </FilterForm>
      <section class="headline" aria-label="Headline">
        <Stat id="h-open" label="Open findings" value={v.headline.total} />
        <Stat id="h-error" label="Errors" value={v.headline.error} tone={v.headline.error ? 'bad' : ''} />
        <Stat id="h-warning" label="Warnings" value={v.headline.warning} />
        <Stat id="h-info" label="Info" value={v.headline.info} />
      </section>
      <p class="small">
        <a href={`/findings.csv${filterQuery(f, extra)}`} data-testid="csv" download>
          Download these findings as CSV
        </a>
      </p>
      <div class="two">
        <section class="card">
          <h2>By {GROUP_LABEL[v.groupBy].toLowerCase()}, most severe first</h2>
          <div class="scroll">
            <table data-testid="groups">
              <thead>
                <tr>
                  <th>{GROUP_LABEL[v.groupBy]}</th>
                  <th class="n">Errors</th>
                  <th class="n">Warnings</th>
                  <th class="n">Info</th>
                  <th class="n">All</th>
                </tr>
              </thead>
              <tbody>
                {v.groups.length === 0 ? <Empty cols={5} text="No open findings in this view." /> : null}
                {v.groups.map((g) => (
                  <tr data-testid="group-row" data-total={g.total} data-error={g.error}>
                    <td>{g.label}</td>
                    <td class="n">{g.error}</td>
                    <td class="n">{g.warning}</td>
                    <td class="n">{g.info}</td>
                    <td class="n">{g.total}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
        <section class="card">
          <h2>Who must act</h2>
          <ol class="must-act" data-testid="must-act">
            {v.mustAct.map((o) => (
              <li>
                <a href={`/findings${filterQuery({ ...f, owner: o.ownerId }, { group: 'rule' })}`}>{o.label}</a>
                {': '}
                {o.error ? <span class="sev error">{o.error} errors</span> : null}{' '}
                {o.warning ? <span class="sev warning">{o.warning} warnings</span> : null}{' '}
                {o.info ? <span class="sev info">{o.info} info</span> : null}
              </li>
            ))}
          </ol>
        </section>
      </div>
      <section class="card">
        <h2>
          Open findings{' '}
          <span class="muted small">
            {v.rows.length < v.headline.total
              ? `the ${v.rows.length} most severe of ${v.headline.total}`
              : `all ${v.rows.length}`}
          </span>
        </h2>
        <div class="scroll">
          <table data-testid="findings">
            <thead>
              <tr>
                <th>Severity</th>
                <th>Rule and how to fix</th>
                <th class="hide-sm">Item</th>
                <th class="hide-sm">Owner</th>
              </tr>
            </thead>
            <tbody>
              {v.rows.length === 0 ? <Empty cols={4} text="No open findings in this view." /> : null}
              {v.rows.map((r) => (
                <tr data-testid="finding-row" data-severity={r.severity} data-id={r.id}>
                  <td>
                    <span class={`sev ${r.severity}`}>{r.severity}</span>
                  </td>
                  <td>
                    <a href={findingHref(r.id)}>{r.ruleTitle}</a>
                    <div class="small">{r.message}</div>
                    {/* On a phone the item column is hidden and named here instead. */}
                    <div class="small show-sm">
                      on <a href={itemHref(r.ref)}>{r.title}</a> · {r.owner ?? 'no owner'}
                    </div>
                  </td>
                  <td class="hide-sm">
                    <a href={itemHref(r.ref)}>{r.title}</a>
                    <div class="muted small">
                      {r.ref} · <Tracker tracker={r.tracker} />
                    </div>
                  </td>
                  <td class="hide-sm">{r.owner ?? 'no owner'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}

// ── Timeline ─────────────────────────────────────────────────────────────────────────────

const W = 1200;
const LABEL_W = 300;
const ROW_H = 28;
const TOP = 30;
const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function edgeClass(e: Edge) {
  return ['dep', e.violation ? 'violation' : '', e.inCycle ? 'cycle' : '', e.crossTracker ? 'cross' : '']
    .filter(Boolean)
    .join(' ');
}

function Markers() {
  return (
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
      </marker>
      <marker id="arrow-bad" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L10,5 L0,10 z" class="arrowhead bad" />
      </marker>
    </defs>
  );
}

function TimelineSvg(props: { t: Timeline }) {
  const { t } = props;
  const pad = 7 * 86_400_000;
  const from = Date.parse(t.from) - pad;
  const to = Date.parse(t.to) + pad;
  const x = (iso: string) => LABEL_W + ((Date.parse(iso) - from) / (to - from)) * (W - LABEL_W - 20);
  const row = new Map(t.bars.map((b, i) => [b.ref, i]));
  const y = (ref: string) => TOP + row.get(ref)! * ROW_H;
  const H = TOP + t.bars.length * ROW_H + 10;
  const months: string[] = [];
  const m = new Date(from);
  m.setUTCDate(1);
  for (m.setUTCMonth(m.getUTCMonth() + 1); m.getTime() < to; m.setUTCMonth(m.getUTCMonth() + 1))
    months.push(m.toISOString());
  return (
    <svg
      class="timeline"
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      role="img"
      aria-label={`Roadmap of ${t.bars.length} epics and features; the table below lists the same`}
      data-testid="timeline-svg"
    >
      <Markers />
      {months.map((d) => (
        <>
          <line x1={x(d)} x2={x(d)} y1={TOP - 8} y2={H} class="grid" />
          <text x={x(d) + 3} y={TOP - 12} class="tick">
            {d.slice(0, 7)}
          </text>
        </>
      ))}
      {t.bars.map((b) => (
        <g class={`bar-row ${b.inCycle ? 'in-cycle' : ''}`} data-ref={b.ref}>
          <text x={4} y={y(b.ref) + 18} class="label">
            {`${b.health === 'none' ? 'n/a' : b.health} · ${short(b.title, 34)}`}
          </text>
          <rect
            x={x(b.start)}
            y={y(b.ref) + 6}
            width={Math.max(4, x(b.end) - x(b.start))}
            height={ROW_H - 12}
            rx={3}
            class={`bar ${b.health} ${b.noTarget ? 'no-target' : ''} ${b.datesReversed ? 'reversed' : ''}`}
          >
            <title>{`${b.ref} ${b.title}: ${day(b.start)} → ${day(b.end)}, ${b.health}`}</title>
          </rect>
          {b.p85 ? (
            <path
              d={`M${x(b.p85)},${y(b.ref) + 4} l6,${ROW_H / 2 - 4} l-6,${ROW_H / 2 - 4} l-6,-${ROW_H / 2 - 4} z`}
              class={`p85-marker ${(b.p85VsTarget ?? 0) > 0 ? 'late' : ''}`}
              data-testid="p85-marker"
              data-ref={b.ref}
            >
              <title>{`${b.ref}: 85% likely finished by ${day(b.p85)}, ${p85Words(b)}`}</title>
            </path>
          ) : null}
        </g>
      ))}
      {t.edges.map((e) => {
        const x1 = x(t.bars[row.get(e.from)!]!.end);
        const y1 = y(e.from) + ROW_H / 2;
        const x2 = x(t.bars[row.get(e.to)!]!.start);
        const y2 = y(e.to) + ROW_H / 2;
        const bend = Math.max(20, Math.abs(x2 - x1) / 3);
        return (
          <path
            d={`M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`}
            class={edgeClass(e)}
            marker-end={e.violation || e.inCycle ? 'url(#arrow-bad)' : 'url(#arrow)'}
          />
        );
      })}
      <line x1={x(t.today)} x2={x(t.today)} y1={TOP - 20} y2={H} class="today" data-testid="today-line" />
      <text x={x(t.today) + 3} y={12} class="today-label">
        today {day(t.today)}
      </text>
    </svg>
  );
}

/** The P85 against the target, in words: the marker's colour is never the only cue. */
function p85Words(b: Bar): string {
  const d = b.p85VsTarget;
  if (d === null || d === undefined) return 'no target to compare with';
  if (d === 0) return 'on its target';
  return `${Math.abs(d)} ${Math.abs(d) === 1 ? 'day' : 'days'} ${d > 0 ? 'after' : 'before'} its target`;
}

function Problems(props: { violations: Edge[]; cycles: string[][]; bars: Map<string, Bar> }) {
  const name = (ref: string) => props.bars.get(ref)?.title ?? ref;
  return (
    <section class="card problems" data-testid="problems">
      <h2>Date-order violations and cycles</h2>
      {props.violations.length === 0 && props.cycles.length === 0 ? (
        <p class="muted">None: every dependency finishes before the work waiting on it starts.</p>
      ) : null}
      <ul>
        {props.violations.map((e) => (
          <li data-testid="violation" class="bad">
            <b>Date order:</b> <a href={itemHref(e.from)}>{name(e.from)}</a> finishes {day(props.bars.get(e.from)?.end)}
            , after <a href={itemHref(e.to)}>{name(e.to)}</a>{' '}
            {e.against === 'target'
              ? `is due ${day(props.bars.get(e.to)?.end)} (it has no start date)`
              : `starts ${day(props.bars.get(e.to)?.start)}`}
            {e.crossTracker ? ' (across trackers)' : ''}
          </li>
        ))}
        {props.cycles.map((c) => (
          <li data-testid="cycle" class="bad">
            <b>Cycle:</b> {c.map((r) => name(r)).join(' → ')} → {name(c[0]!)}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The window shown, and the same length of time before and after it. */
function WindowLinks(props: { t: Timeline; filter: WorkspaceFilter }) {
  const { window: w } = props.t;
  const span = Date.parse(w.to) - Date.parse(w.from) + 86_400_000;
  const shift = (days: number, by: number) =>
    new Date(Date.parse(days === 0 ? w.from : w.to) + by).toISOString().slice(0, 10);
  const href = (from: string, to: string) => {
    const q = filterQuery(props.filter);
    return `/timeline${q}${q ? '&' : '?'}from=${from}&to=${to}`;
  };
  return (
    <p class="small" data-testid="timeline-window">
      Epics and features with dates between <b>{w.from}</b> and <b>{w.to}</b>:{' '}
      <a href={href(shift(0, -span), shift(0, -86_400_000))}>earlier</a> ·{' '}
      <a href={href(shift(1, 86_400_000), shift(1, span))}>later</a> ·{' '}
      <a href={`/timeline${filterQuery(props.filter)}`}>around today</a>
    </p>
  );
}

export function TimelinePage(props: { view: Timeline; filter: WorkspaceFilter; options: FilterOptions }) {
  const { view: t, filter: f } = props;
  const bars = new Map(t.bars.map((b) => [b.ref, b]));
  return (
    <Layout title="Timeline · pmo-sync" signedIn>
      <Crumbs trail={[{ label: 'Portfolio', href: `/${filterQuery(f)}` }, { label: 'Timeline' }]} />
      <FilterForm action="/timeline" filter={f} options={props.options} />
      <section class="headline" aria-label="Headline">
        <HealthStat counts={t.headline.health} total={t.headline.bars} label="Epics and features" />
        <Stat
          id="h-violations"
          label="Date-order violations"
          value={t.headline.violations}
          tone={t.headline.violations ? 'bad' : ''}
        />
        <Stat id="h-cycles" label="Dependency cycles" value={t.headline.cycles} tone={t.headline.cycles ? 'bad' : ''} />
      </section>
      <WindowLinks t={t} filter={f} />
      <Problems violations={t.violations} cycles={t.cycles} bars={bars} />
      <section class="card">
        <h2>Roadmap</h2>
        <p class="small muted">
          Bars run from start to target; a hatched bar has no target of its own. A diamond marks the forecast's P85 (85%
          likely finished by), filled when it falls after the target. Arrows run from the work that must finish first;
          red arrows break date order or close a cycle.
        </p>
        {/* Focusable, so a keyboard can scroll a drawing wider than a phone. */}
        <section class="scroll" tabindex={0} aria-label="Roadmap drawing, scrolls sideways">
          <TimelineSvg t={t} />
        </section>
      </section>
      <section class="card">
        <h2>The roadmap as a table</h2>
        <div class="scroll">
          <table data-testid="roadmap">
            <thead>
              <tr>
                <th>Health</th>
                <th>Epic or feature</th>
                <th class="n">Start</th>
                <th class="n">Target</th>
                <th class="n">P85 against target</th>
              </tr>
            </thead>
            <tbody>
              {t.bars.length === 0 ? <Empty cols={5} text="No epics or features in this view." /> : null}
              {t.bars.map((b) => (
                <tr data-testid="bar-row" data-ref={b.ref} data-health={b.health}>
                  <td>
                    <HealthBadge health={b.health} />
                  </td>
                  <td>
                    <a href={b.kind === 'epic' ? `/epics/${encodeURIComponent(b.ref)}` : itemHref(b.ref)}>{b.title}</a>
                    <div class="muted small">
                      {b.ref} · {b.kind} · <Tracker tracker={b.tracker} />
                      {b.inCycle ? <b class="bad"> · in a cycle</b> : null}
                    </div>
                    {b.healthReason ? <div class="small reason">{b.healthReason}</div> : null}
                  </td>
                  <td class="n">
                    {day(b.start)}
                    {b.startAssumed ? <div class="muted small">no planned start</div> : null}
                  </td>
                  <td class="n">{b.noTarget ? <span class="muted">no target</span> : day(b.end)}</td>
                  <td class="n" data-testid="bar-p85" data-p85-vs-target={b.p85VsTarget ?? ''}>
                    {b.p85 ? (
                      <>
                        {day(b.p85)}
                        <div class={`small ${(b.p85VsTarget ?? 0) > 0 ? 'bad' : 'muted'}`}>{p85Words(b)}</div>
                      </>
                    ) : (
                      <span class="muted">no forecast</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}

// ── Dependency map ───────────────────────────────────────────────────────────────────────

const NODE_W = 260;
const NODE_H = 54;
const COL = NODE_W + 80;
const ROW = NODE_H + 22;

export function DependencyMapPage(props: {
  view: DependencyMap;
  program: { id: string; name: string };
  filter: WorkspaceFilter;
  options: FilterOptions;
}) {
  const { view: v, filter: f, program } = props;
  const at = new Map(v.nodes.map((n) => [n.ref, n]));
  const px = (l: number) => 10 + l * COL;
  const py = (r: number) => 10 + r * ROW;
  const width = Math.max(400, 20 + (Math.max(0, ...v.nodes.map((n) => n.layer)) + 1) * COL);
  // Room below the last row for edges that loop back under it.
  const height = Math.max(120, 60 + (Math.max(0, ...v.nodes.map((n) => n.row)) + 1) * ROW);
  const bars = new Map(v.nodes.map((n) => [n.ref, n as Bar]));
  return (
    <Layout title={`Dependencies · ${program.name} · pmo-sync`} signedIn>
      <Crumbs
        trail={[
          { label: 'Portfolio', href: `/${filterQuery(f)}` },
          { label: program.name, href: `/programs/${encodeURIComponent(program.id)}${filterQuery(f)}` },
          { label: 'Dependency map' },
        ]}
      />
      <FilterForm
        action={`/programs/${encodeURIComponent(program.id)}/dependencies`}
        filter={f}
        options={props.options}
        hide={['program']}
      />
      <section class="headline" aria-label="Headline">
        <Stat id="h-nodes" label="Epics and features linked" value={v.headline.nodes}>
          <p class="small">
            <span data-testid="h-external">{v.headline.external}</span> outside the program
          </p>
        </Stat>
        <Stat id="h-edges" label="Dependencies" value={v.headline.edges} />
        <Stat id="h-cross" label="Across trackers" value={v.headline.crossTracker} />
        <Stat id="h-cycles" label="Cycles" value={v.headline.cycles} tone={v.headline.cycles ? 'bad' : ''} />
      </section>
      <Problems violations={v.edges.filter((e) => e.violation)} cycles={v.cycles} bars={bars} />
      <section class="card">
        <h2>Map</h2>
        <section class="scroll" tabindex={0} aria-label="Dependency map drawing, scrolls sideways">
          <svg
            class="depmap"
            viewBox={`0 0 ${width} ${height}`}
            width={width}
            height={height}
            aria-label={`Dependency map of ${program.name}: ${v.headline.nodes} epics and features, ${v.headline.edges} dependencies; the list below says the same`}
            data-testid="depmap-svg"
          >
            <Markers />
            {v.edges.map((e) => {
              const a = at.get(e.from)!;
              const b = at.get(e.to)!;
              if (b.layer <= a.layer) {
                // An edge that closes a cycle runs back left: loop it under the boxes.
                const bx1 = px(a.layer) + NODE_W / 2;
                const by1 = py(a.row) + NODE_H;
                const bx2 = px(b.layer) + NODE_W / 2 + 12;
                const by2 = py(b.row) + NODE_H;
                return (
                  <path
                    d={`M${bx1},${by1} C${bx1},${by1 + 45} ${bx2},${by2 + 45} ${bx2},${by2}`}
                    class={edgeClass(e)}
                    marker-end={e.violation || e.inCycle ? 'url(#arrow-bad)' : 'url(#arrow)'}
                  />
                );
              }
              const x1 = px(a.layer) + NODE_W;
              const y1 = py(a.row) + NODE_H / 2;
              const x2 = px(b.layer);
              const y2 = py(b.row) + NODE_H / 2;
              const bend = Math.max(30, Math.abs(x2 - x1) / 2);
              return (
                <path
                  d={`M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`}
                  class={edgeClass(e)}
                  marker-end={e.violation || e.inCycle ? 'url(#arrow-bad)' : 'url(#arrow)'}
                />
              );
            })}
            {v.nodes.map((n) => (
              <a href={n.kind === 'epic' ? `/epics/${encodeURIComponent(n.ref)}` : itemHref(n.ref)}>
                <rect
                  x={px(n.layer)}
                  y={py(n.row)}
                  width={NODE_W}
                  height={NODE_H}
                  rx={6}
                  class={`node ${n.tracker} ${n.health} ${n.external ? 'external' : ''} ${n.inCycle ? 'in-cycle' : ''}`}
                />
                <text x={px(n.layer) + 8} y={py(n.row) + 20} class="node-title">
                  {short(n.title, 30)}
                </text>
                <text x={px(n.layer) + 8} y={py(n.row) + 40} class="node-meta">
                  {`${n.ref} · ${n.tracker === 'jira' ? 'Jira' : 'ADO'} · ${n.health === 'none' ? 'no health' : n.health}${n.external ? ' · outside' : ''}`}
                </text>
              </a>
            ))}
          </svg>
        </section>
      </section>
      <section class="card">
        <h2>Dependencies as a list</h2>
        <ul data-testid="edges">
          {v.edges.length === 0 ? <li class="muted">No dependencies in this view.</li> : null}
          {v.edges.map((e) => (
            <li data-testid="edge" class={e.violation || e.inCycle ? 'bad' : ''}>
              <a href={itemHref(e.from)}>{at.get(e.from)?.title ?? e.from}</a> before{' '}
              <a href={itemHref(e.to)}>{at.get(e.to)?.title ?? e.to}</a>
              {e.crossTracker ? ' · across trackers' : ''}
              {e.violation ? ' · date order broken' : ''}
              {e.inCycle ? ' · in a cycle' : ''}
            </li>
          ))}
        </ul>
      </section>
    </Layout>
  );
}
