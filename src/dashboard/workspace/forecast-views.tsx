/** @jsxRuntime automatic @jsxImportSource hono/jsx */
// The burn-up with its forecast cone and the slip table (issue 26.8). Server-rendered SVG under
// the strict CSP like the timeline: no script, every line labelled in text and drawn with its own
// dash pattern so colour is never the only cue, and a table beside each drawing saying the same.
import { Layout } from '../page.tsx';
import type { BurnUp, SlipView } from './forecast.ts';
import { Crumbs, day, Empty, enc, epicHref, itemHref, Stat, Tracker } from './parts.tsx';

const W = 720;
const H = 300;
const L = 56;
const R = 110;
const T = 16;
const B = 34;
const DAY = 86_400_000;

const signed = (n: number | null) => (n === null ? '—' : n > 0 ? `+${n}` : `${n}`);
const unitName = (b: BurnUp) => (b.unit === 'points' ? 'points' : 'items');

/** One sentence saying what the drawing shows, for the drawing's label and the card. */
export function burnUpSummary(b: BurnUp): string {
  const u = unitName(b);
  const head = `${b.doneNow} of ${b.scopeNow} ${u} done today`;
  const f = b.forecast;
  if (!f) return `${head}; no forecast stored yet.`;
  if (f.status === 'done') return `${head}; nothing left to forecast.`;
  if (!f.p50 || !f.p85 || !f.p95)
    return `${head}; no finish date forecast (${f.confidence} confidence${f.reason ? `: ${f.reason}` : ''}).`;
  const onTime =
    f.target && f.onTimeProbability !== null
      ? `; ${Math.round(f.onTimeProbability * 100)}% likely by the target ${day(f.target)}`
      : '';
  return `${head}; forecast to finish by ${day(f.p50)} (50% likely), ${day(f.p85)} (85%), ${day(f.p95)} (95%)${onTime}; ${f.confidence} confidence.`;
}

function BurnUpSvg(props: { b: BurnUp }) {
  const { b } = props;
  const f = b.forecast;
  const cone = f && f.status !== 'done' && f.p50 && f.p85 && f.p95 ? { p50: f.p50, p85: f.p85, p95: f.p95 } : null;
  const from = Date.parse(b.weeks[0]!.at);
  const ends = [
    Date.parse(b.today),
    ...(cone ? [Date.parse(cone.p95)] : []),
    ...(f?.target ? [Date.parse(f.target)] : []),
  ];
  const to = Math.max(...ends) + 3 * DAY;
  const top = Math.max(1, ...b.weeks.map((w) => w.scope)) * 1.1;
  const x = (t: number) => L + ((t - from) / Math.max(DAY, to - from)) * (W - L - R);
  const y = (v: number) => T + (1 - v / top) * (H - T - B);
  const pts = (key: 'done' | 'scope') =>
    b.weeks.map((w) => `${x(Date.parse(w.at)).toFixed(1)},${y(w[key]).toFixed(1)}`).join(' ');
  const today = Date.parse(b.today);
  const months: number[] = [];
  const m = new Date(from);
  m.setUTCDate(1);
  for (m.setUTCMonth(m.getUTCMonth() + 1); m.getTime() < to; m.setUTCMonth(m.getUTCMonth() + 1))
    months.push(m.getTime());
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((s) => Math.round(top * s * 10) / 10);
  const end = (d: string) => ({ x: x(Date.parse(d)), y: y(b.scopeNow) });
  return (
    <svg
      class="burnup"
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      role="img"
      aria-label={`Burn-up: ${burnUpSummary(b)} The table below lists the same figures.`}
      data-testid="burnup-svg"
    >
      {months.map((t) => (
        <>
          <line x1={x(t)} x2={x(t)} y1={T} y2={H - B} class="grid" />
          <text x={x(t) + 3} y={H - B + 14} class="tick">
            {new Date(t).toISOString().slice(0, 7)}
          </text>
        </>
      ))}
      {yTicks.map((v) => (
        <>
          <line x1={L} x2={W - R} y1={y(v)} y2={y(v)} class="grid" />
          <text x={L - 6} y={y(v) + 4} class="tick" text-anchor="end">
            {v}
          </text>
        </>
      ))}
      <text x={4} y={T - 4} class="tick">
        {unitName(b)}
      </text>
      {cone ? (
        <g class="cone" data-testid="burnup-cone">
          <polygon
            class="cone-area"
            points={`${x(today)},${y(b.doneNow)} ${end(cone.p50).x},${end(cone.p50).y} ${end(cone.p95).x},${end(cone.p95).y}`}
          />
          {(['p50', 'p85', 'p95'] as const).map((k, i) => (
            <>
              <line
                x1={x(today)}
                y1={y(b.doneNow)}
                x2={end(cone[k]).x}
                y2={end(cone[k]).y}
                class={`cone-line ${k}`}
                data-testid={`cone-${k}`}
              >
                <title>{`${k.toUpperCase()}: finished by ${day(cone[k])}`}</title>
              </line>
              <line x1={end(cone[k]).x} x2={end(cone[k]).x} y1={end(cone[k]).y} y2={H - B} class={`cone-drop ${k}`} />
              {/* Labels stack in the right margin, under "scope": dates close together never overlap. */}
              <text x={W - R + 4} y={y(b.scopeNow) + 18 + i * 14} class="cone-label">
                {`${k.toUpperCase()} ${day(cone[k])}`}
              </text>
            </>
          ))}
        </g>
      ) : null}
      <polyline points={pts('scope')} class="scope-line" data-testid="burnup-scope">
        <title>{`Scope: ${b.scopeNow} ${unitName(b)} today`}</title>
      </polyline>
      <polyline points={pts('done')} class="done-line" data-testid="burnup-done">
        <title>{`Done: ${b.doneNow} ${unitName(b)} today`}</title>
      </polyline>
      <text x={W - R + 4} y={y(b.scopeNow) + 4} class="label">
        scope
      </text>
      {f?.target ? (
        <>
          <line
            x1={x(Date.parse(f.target))}
            x2={x(Date.parse(f.target))}
            y1={T}
            y2={H - B}
            class="target-line"
            data-testid="burnup-target"
          />
          <text x={x(Date.parse(f.target)) - 3} y={H - B - 6} class="target-label" text-anchor="end">
            {`target ${day(f.target)}`}
          </text>
        </>
      ) : null}
      <line x1={x(today)} x2={x(today)} y1={T} y2={H - B} class="today" />
      <text x={x(today) + 3} y={H - 4} class="today-label">
        {`today ${day(b.today)}`}
      </text>
    </svg>
  );
}

/** The burn-up card: drawing, legend in words, and the same figures as a table. */
export function BurnUpCard(props: { b: BurnUp; title: string }) {
  const { b } = props;
  const f = b.forecast;
  return (
    <section class="card" data-testid="burnup" aria-labelledby="burnup-h">
      <h2 id="burnup-h">{props.title}</h2>
      <p data-testid="burnup-summary">{burnUpSummary(b)}</p>
      <p class="small muted">
        Solid line: work done; dashed line: scope; from today, three thin lines fan out to the dates the work is 50%,
        85% and 95% likely to be finished by (the shaded cone), from the teams' real weekly throughput.
        {f?.target ? ' The dotted upright line is the target date.' : ''}
      </p>
      <section class="scroll" tabindex={0} aria-label="Burn-up drawing, scrolls sideways">
        <BurnUpSvg b={b} />
      </section>
      {f ? (
        <dl class="facts" data-testid="burnup-forecast">
          <dt>P50 (50% likely by)</dt>
          <dd data-testid="burnup-p50">{day(f.p50)}</dd>
          <dt>P85 (85% likely by)</dt>
          <dd data-testid="burnup-p85">{day(f.p85)}</dd>
          <dt>P95 (95% likely by)</dt>
          <dd data-testid="burnup-p95">{day(f.p95)}</dd>
          <dt>Chance of finishing by the target</dt>
          <dd data-testid="burnup-ontime">
            {f.onTimeProbability === null ? '—' : `${Math.round(f.onTimeProbability * 100)}%`}
          </dd>
          <dt>Confidence</dt>
          <dd>
            {f.confidence}
            {f.reason ? <span class="muted small"> · {f.reason}</span> : null}
          </dd>
        </dl>
      ) : null}
      <details>
        <summary>The burn-up as a table</summary>
        <div class="scroll">
          <table data-testid="burnup-table">
            <thead>
              <tr>
                <th>Week ending</th>
                <th class="n">Done ({unitName(b)})</th>
                <th class="n">Scope ({unitName(b)})</th>
              </tr>
            </thead>
            <tbody>
              {b.weeks.map((w) => (
                <tr>
                  <td>{day(w.at)}</td>
                  <td class="n">{w.done}</td>
                  <td class="n">{w.scope}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

// ── Slip table ───────────────────────────────────────────────────────────────────────────

function Slip(props: { days: number | null }) {
  const d = props.days;
  if (d === null) return <span class="muted">—</span>;
  // The words carry the meaning; the class only tints them.
  return (
    <span class={d > 0 ? 'bad' : ''}>{d === 0 ? 'on baseline' : `${signed(d)} d ${d > 0 ? 'later' : 'earlier'}`}</span>
  );
}

function RefList(props: { refs: string[]; label: string }) {
  if (props.refs.length === 0) return <span class="muted">none</span>;
  return (
    <details>
      <summary>
        {props.refs.length} {props.label}
      </summary>
      <ul class="small">
        {props.refs.map((r) => (
          <li>
            <a href={itemHref(r)}>{r}</a>
          </li>
        ))}
      </ul>
    </details>
  );
}

export function SlipPage(props: { view: SlipView }) {
  const v = props.view;
  const chosen = v.baseline?.name;
  return (
    <Layout title="Slip against a baseline · pmo-sync" signedIn>
      <Crumbs trail={[{ label: 'Portfolio', href: '/' }, { label: 'Slip against a baseline' }]} />
      <section class="card">
        <h2>Slip against a baseline</h2>
        <form method="get" action="/slip" class="filters">
          <label>
            Baseline{' '}
            <select name="baseline" data-testid="baseline-select">
              <option value="">choose one</option>
              {v.baselines.map((b) => (
                <option value={b.name} selected={b.name === chosen}>
                  {`${b.name} (${b.program ?? 'portfolio'}, as of ${day(b.asOf)})`}
                </option>
              ))}
            </select>
          </label>{' '}
          <button type="submit">Show</button>
        </form>
        {v.baselines.length === 0 ? (
          <p class="muted">No baselines yet: take one with pmo-sync baseline create NAME.</p>
        ) : null}
        {v.unknown !== null ? (
          <p class="bad" data-testid="slip-unknown">
            No baseline named “{v.unknown}”.
          </p>
        ) : null}
        {v.baseline ? (
          <p class="small">
            Baseline <b data-testid="slip-baseline">{v.baseline.name}</b> of {v.baseline.program ?? 'the portfolio'}, as
            of {day(v.baseline.asOf)}.{' '}
            <a href={`/api/v1/workspace/slip?baseline=${enc(v.baseline.name)}`}>The same as JSON</a>
          </p>
        ) : null}
      </section>
      {v.baseline ? (
        <>
          <section class="headline" aria-label="Headline">
            <Stat id="h-slip-epics" label="Epics in the baseline" value={v.headline.epics} />
            <Stat
              id="h-target-slipped"
              label="Targets moved later"
              value={v.headline.targetSlipped}
              tone={v.headline.targetSlipped ? 'bad' : ''}
            />
            <Stat
              id="h-forecast-slipped"
              label="Forecasts (P85) moved later"
              value={v.headline.forecastSlipped}
              tone={v.headline.forecastSlipped ? 'bad' : ''}
            />
            <Stat id="h-added" label="Items added" value={v.headline.added} />
            <Stat id="h-removed" label="Items removed" value={v.headline.removed} />
          </section>
          <section class="card">
            <h2>Epics since the baseline</h2>
            <p class="small muted">
              Slip is in days: positive is later than the baseline. Scope counts the leaf items under each epic that
              were added or removed since.
            </p>
            <div class="scroll">
              <table data-testid="slip">
                <thead>
                  <tr>
                    <th>Epic</th>
                    <th class="n">Target then → now</th>
                    <th class="n">Target slip</th>
                    <th class="n">P85 then → now</th>
                    <th class="n">Forecast slip</th>
                    <th>Scope added</th>
                    <th>Scope removed</th>
                  </tr>
                </thead>
                <tbody>
                  {v.rows.length === 0 ? <Empty cols={7} text="No epics in this baseline." /> : null}
                  {v.rows.map((r) => (
                    <tr
                      data-testid="slip-row"
                      data-ref={r.ref}
                      data-target-slip={r.targetSlipDays ?? ''}
                      data-forecast-slip={r.forecastSlipDays ?? ''}
                      data-added={r.added.length}
                      data-removed={r.removed.length}
                    >
                      <td>
                        <a href={r.kind === 'epic' ? epicHref(r.ref) : itemHref(r.ref)}>{r.title ?? r.ref}</a>
                        <div class="muted small">
                          {r.ref}
                          {r.tracker ? (
                            <>
                              {' '}
                              · <Tracker tracker={r.tracker} />
                            </>
                          ) : null}
                          {r.closed ? ' · closed' : ''}
                        </div>
                      </td>
                      <td class="n">
                        {day(r.baselineTarget)} → {day(r.target)}
                      </td>
                      <td class="n">
                        <Slip days={r.targetSlipDays} />
                      </td>
                      <td class="n">
                        {day(r.baselineP85)} → {day(r.p85)}
                      </td>
                      <td class="n">
                        <Slip days={r.forecastSlipDays} />
                      </td>
                      <td>
                        <RefList refs={r.added} label="added" />
                      </td>
                      <td>
                        <RefList refs={r.removed} label="removed" />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      ) : null}
    </Layout>
  );
}
