/** @jsxRuntime automatic @jsxImportSource hono/jsx */
// The pragma repeats tsconfig's JSX settings: tsx finds tsconfig.json from the working directory,
// so `pmo-sync` started anywhere else would otherwise compile this file for React.
// The dashboard's server-rendered views (Hono JSX). No inline scripts or styles, so the page
// runs under a strict Content-Security-Policy; the trend chart reads its data from a JSON island.
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import type { EpicRow } from '../http/queries.ts';
import type { DashboardData, DashboardFilter } from './data.ts';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);
const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '—');
const TRACKER_LABEL: Record<string, string> = { jira: 'Jira', 'azure-devops': 'Azure DevOps' };

function ago(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 129_600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

export function Layout(props: { title: string; children: Child; signedIn?: boolean }) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{props.title}</title>
          <link rel="icon" href="data:," />
          <link rel="stylesheet" href="/assets/dashboard.css" />
        </head>
        <body>
          <header class="bar">
            <h1>
              <a href="/">pmo-sync</a>
            </h1>
            <nav aria-label="Main">
              {props.signedIn ? (
                <>
                  <a href="/findings">Findings</a>
                  <a href="/timeline">Timeline</a>
                </>
              ) : null}
              <a href="/docs">API</a>
              {props.signedIn ? (
                <form method="post" action="/logout" class="inline">
                  <button type="submit" class="link" data-testid="sign-out">
                    Sign out
                  </button>
                </form>
              ) : null}
            </nav>
          </header>
          <main>{props.children}</main>
        </body>
      </html>
    </>
  );
}

export function SignIn(props: { error?: string }) {
  return (
    <Layout title="Sign in · pmo-sync">
      <section class="card signin">
        <h2>Sign in</h2>
        <p>
          Paste an API token (<code>pmo-sync token create --scope read</code>).
        </p>
        {props.error ? (
          <p class="error" role="alert">
            {props.error}
          </p>
        ) : null}
        <form method="post" action="/login">
          <label for="token">Token</label>
          <input id="token" name="token" type="password" autocomplete="off" required maxlength={512} />
          <button type="submit">Sign in</button>
        </form>
      </section>
    </Layout>
  );
}

function Health(props: { health: string | undefined }) {
  const h = props.health ?? 'none';
  return <span class={`rag ${h}`}>{h === 'none' ? 'n/a' : h}</span>;
}

function Filters(props: { data: DashboardData }) {
  const { options, filter } = props.data;
  return (
    <form method="get" action="/" class="filters card" data-testid="filters">
      <label>
        Program
        <select name="program">
          <option value="">All programs</option>
          {options.programs.map((p) => (
            <option value={p.id} selected={filter.program === p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Tracker
        <select name="tracker">
          <option value="">Both trackers</option>
          {options.trackers.map((t) => (
            <option value={t} selected={filter.tracker === t}>
              {TRACKER_LABEL[t] ?? t}
            </option>
          ))}
        </select>
      </label>
      <label>
        Project
        <select name="project">
          <option value="">All projects</option>
          {options.projects.map((p) => (
            <option value={p.value} selected={filter.project === p.value}>
              {p.project} ({p.connection})
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Apply</button>
      {filter.program || filter.tracker || filter.project ? <a href="/">Clear</a> : null}
    </form>
  );
}

function Headline(props: { data: DashboardData }) {
  const { headline: h, freshness } = props.data;
  return (
    <section class="headline" aria-label="Headline">
      <div class="card stat">
        <h3>Epics by health</h3>
        <p class="rags">
          <span class="rag green" data-testid="epics-green">
            {h.epics.green}
          </span>
          <span class="rag amber" data-testid="epics-amber">
            {h.epics.amber}
          </span>
          <span class="rag red" data-testid="epics-red">
            {h.epics.red}
          </span>
        </p>
        <p class="muted">
          <span data-testid="epics-total">{h.epics.total}</span> epics
        </p>
      </div>
      <div class="card stat">
        <h3>Compliance</h3>
        <p class="big" data-testid="compliance">
          {pct(h.compliance)}
        </p>
        <p class="muted">
          <span data-testid="open-findings">{h.openFindings}</span> open findings
        </p>
      </div>
      <div class="card stat">
        <h3>Overdue epics</h3>
        <p class={`big ${h.overdueEpics > 0 ? 'bad' : ''}`} data-testid="overdue-epics">
          {h.overdueEpics}
        </p>
        <p class="muted">
          <span data-testid="items-total">{h.items}</span> items in view
        </p>
      </div>
      <div class="card stat">
        <h3>Data freshness</h3>
        <ul class="fresh" data-testid="freshness">
          {freshness.length === 0 ? <li class="muted">no connections</li> : null}
          {freshness.map((f) => (
            <li class={f.ageSeconds === null || f.ageSeconds > 3600 ? 'stale' : ''}>
              <span>{f.connection}</span> <span>{ago(f.ageSeconds)}</span>
              {f.lastStatus === 'failed' ? <span class="rag red">last failed</span> : null}
              {f.hooks ? (
                <span class="rag amber" data-testid="hook-health">
                  {f.hooks}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}

function Programs(props: { data: DashboardData }) {
  return (
    <section class="card">
      <h2>Programs</h2>
      <div class="scroll">
        <table data-testid="programs">
          <thead>
            <tr>
              <th>Program</th>
              <th class="hide-sm">Trackers</th>
              <th>Health</th>
              <th class="n">Complete</th>
              <th class="n">Compliance</th>
              <th class="n hide-sm">Overdue epics</th>
              <th class="n hide-sm">Open errors</th>
            </tr>
          </thead>
          <tbody>
            {props.data.programs.length === 0 ? (
              <tr>
                <td colspan={7} class="muted">
                  No programs configured.
                </td>
              </tr>
            ) : null}
            {props.data.programs.map((p) => {
              const m = p.rollup?.metrics ?? {};
              return (
                <tr>
                  <td>
                    <a href={`/programs/${encodeURIComponent(p.id)}`}>{p.name}</a>
                  </td>
                  <td class="hide-sm">
                    {p.trackers.map((t) => (
                      <span class={`tracker ${t}`}>{TRACKER_LABEL[t] ?? t}</span>
                    ))}
                  </td>
                  <td>
                    <Health health={p.rollup?.health} />
                  </td>
                  <td class="n">{pct(p.rollup?.percentComplete)}</td>
                  <td class="n">{pct(p.headline.compliance)}</td>
                  <td class="n hide-sm">{p.headline.overdueEpics}</td>
                  <td class="n hide-sm">{num((m.findings as { error?: number } | undefined)?.error)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function EpicLine(props: { e: EpicRow; now: Date }) {
  const { e } = props;
  const overdue =
    e.due !== null && Date.parse(e.due) < props.now.getTime() && ['todo', 'in_progress'].includes(e.statusCategory);
  return (
    <tr data-ref={e.ref}>
      <td>
        <Health health={e.rollup?.health} />
      </td>
      <td>
        <a href={`/epics/${encodeURIComponent(e.ref)}`}>{e.title}</a>
        <div class="muted small">
          {e.ref} · <span class={`tracker ${e.tracker}`}>{TRACKER_LABEL[e.tracker] ?? e.tracker}</span> · {e.status}
          {/^https?:\/\//i.test(e.url) ? (
            <>
              {' · '}
              <a href={e.url} rel="noopener noreferrer" class="tracker-link">
                open in tracker
              </a>
            </>
          ) : null}
        </div>
        {e.rollup ? <div class="small reason">{e.rollup.healthReason}</div> : null}
      </td>
      <td class="n">
        <progress class="hide-sm" max={1} value={e.rollup?.percentComplete ?? 0} aria-label="complete" />{' '}
        {pct(e.rollup?.percentComplete)}
      </td>
      <td class={`n ${overdue ? 'bad' : ''}`}>{day(e.due)}</td>
      <td class="n hide-sm">{e.openFindings}</td>
    </tr>
  );
}

function Epics(props: { data: DashboardData; now: Date }) {
  return (
    <section class="card">
      <h2>Epics</h2>
      <div class="scroll">
        <table data-testid="epics">
          <thead>
            <tr>
              <th>Health</th>
              <th>Epic</th>
              <th class="n">Complete</th>
              <th class="n">Target</th>
              <th class="n hide-sm">Findings</th>
            </tr>
          </thead>
          <tbody>
            {props.data.epics.length === 0 ? (
              <tr>
                <td colspan={5} class="muted">
                  No epics in this view.
                </td>
              </tr>
            ) : null}
            {props.data.epics.map((e) => (
              <EpicLine e={e} now={props.now} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Rules(props: { data: DashboardData }) {
  return (
    <section class="card">
      <h2>Top violated rules</h2>
      {props.data.rules.length === 0 ? <p class="muted">No open findings in this view.</p> : null}
      <ol class="rules" data-testid="rules">
        {props.data.rules.map((r) => (
          <li>
            <span class={`sev ${r.severity}`}>{r.severity}</span> <code>{r.rule}</code> <b>{r.open}</b>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Trend(props: { data: DashboardData }) {
  const { trend } = props.data;
  const series = {
    scope: trend.scope,
    days: trend.days.map((d) => d.day),
    compliance: trend.days.map((d) => (d.compliance === null ? null : Math.round(d.compliance * 1000) / 10)),
    complete: trend.days.map((d) => (d.percentComplete === null ? null : Math.round(d.percentComplete * 1000) / 10)),
  };
  return (
    <section class="card">
      <h2>
        Trend <span class="muted small">{trend.scope}</span>
      </h2>
      {trend.days.length === 0 ? <p class="muted">No daily snapshots yet.</p> : null}
      <div class="chart">
        <canvas id="trend" role="img" aria-label="Compliance and progress by day" />
      </div>
      {/* JSON in a non-executable script element; "<" escaped so no value can close it. */}
      <script
        type="application/json"
        id="trend-data"
        dangerouslySetInnerHTML={{ __html: JSON.stringify(series).replace(/</g, '\\u003c') }}
      />
      <script src="/assets/chart.umd.min.js" defer />
      <script src="/assets/dashboard.js" defer />
    </section>
  );
}

export function DashboardPage(props: { data: DashboardData; now: Date; filter: DashboardFilter }) {
  const { data } = props;
  return (
    <Layout title="PMO dashboard · pmo-sync" signedIn>
      <Filters data={data} />
      {data.ignored.length > 0 ? (
        <p class="notice" role="status">
          Ignored unknown filter: {data.ignored.join(', ')}.
        </p>
      ) : null}
      <Headline data={data} />
      <Programs data={data} />
      <div class="two">
        <Trend data={data} />
        <Rules data={data} />
      </div>
      <Epics data={data} now={props.now} />
    </Layout>
  );
}
