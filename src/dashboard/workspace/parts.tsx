/** @jsxRuntime automatic @jsxImportSource hono/jsx */
// Pieces every workspace view shares: breadcrumbs, health shown as text and colour, the filter
// form (a GET form, so filters live in the URL), headline figures with test ids, and links that
// carry the filter along. Everything from a tracker goes through JSX text or attribute escaping;
// a tracker URL becomes a link only when it is http(s).
import type { Child } from 'hono/jsx';
import { type FILTER_KEYS, filterQuery, isFiltered, NO_OWNER, type WorkspaceFilter } from './filter.ts';
import type { Health } from './load.ts';

export const TRACKER_LABEL: Record<string, string> = { jira: 'Jira', 'azure-devops': 'Azure DevOps' };
export const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '—');
export const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);
export const enc = encodeURIComponent;
export const safeHref = (url: string | null | undefined) => (url && /^https?:\/\//i.test(url) ? url : undefined);

export const epicHref = (ref: string, f: WorkspaceFilter = {}) => `/epics/${enc(ref)}${filterQuery(f)}`;
export const itemHref = (ref: string, f: WorkspaceFilter = {}) => `/items/${enc(ref)}${filterQuery(f)}`;
export const programHref = (id: string, f: WorkspaceFilter = {}) =>
  `/programs/${enc(id)}${filterQuery({ ...f, program: undefined })}`;
export const findingHref = (id: number) => `/findings/${id}`;

export function HealthBadge(props: { health: Health | string | null | undefined }) {
  const h = props.health === 'green' || props.health === 'amber' || props.health === 'red' ? props.health : 'none';
  return (
    <span class={`rag ${h}`} data-health={h}>
      {h === 'none' ? 'no health' : h}
    </span>
  );
}

export function Tracker(props: { tracker: string | null | undefined }) {
  if (!props.tracker) return null;
  return <span class={`tracker ${props.tracker}`}>{TRACKER_LABEL[props.tracker] ?? props.tracker}</span>;
}

export function Crumbs(props: { trail: { label: string; href?: string }[] }) {
  return (
    <nav aria-label="Breadcrumb" class="crumbs">
      <ol>
        {props.trail.map((c, i) =>
          c.href && i < props.trail.length - 1 ? (
            <li>
              <a href={c.href}>{c.label}</a>
            </li>
          ) : (
            <li aria-current="page">{c.label}</li>
          ),
        )}
      </ol>
    </nav>
  );
}

export function Stat(props: { id: string; label: string; value: number | string; tone?: string; children?: Child }) {
  return (
    <div class="card stat">
      <h3>{props.label}</h3>
      <p class={`big ${props.tone ?? ''}`} data-testid={props.id}>
        {props.value}
      </p>
      {props.children}
    </div>
  );
}

export function HealthStat(props: { counts: Record<Health, number>; total: number; label: string }) {
  return (
    <div class="card stat">
      <h3>{props.label}</h3>
      <p class="rags">
        <span class="rag red" data-testid="h-red">
          {props.counts.red}
        </span>
        <span class="rag amber" data-testid="h-amber">
          {props.counts.amber}
        </span>
        <span class="rag green" data-testid="h-green">
          {props.counts.green}
        </span>
      </p>
      <p class="small">
        <span data-testid="h-total">{props.total}</span> in all: {props.counts.red} red, {props.counts.amber} amber,{' '}
        {props.counts.green} green, <span data-testid="h-none">{props.counts.none}</span> without health
      </p>
    </div>
  );
}

export interface FilterOptions {
  programs: { id: string; name: string }[];
  trackers: string[];
  projects: { value: string; label: string }[];
  teams: string[];
  owners: { id: string; name: string }[];
}

export function FilterForm(props: {
  action: string;
  filter: WorkspaceFilter;
  options: FilterOptions;
  hide?: (typeof FILTER_KEYS)[number][];
  extra?: Record<string, string | undefined>;
  children?: Child;
}) {
  const { filter: f, options: o } = props;
  const shown = (k: (typeof FILTER_KEYS)[number]) => !props.hide?.includes(k);
  const select = (name: string, label: string, all: string, values: { value: string; label: string }[]) => (
    <label>
      {label}
      <select name={name}>
        <option value="">{all}</option>
        {values.map((v) => (
          <option value={v.value} selected={f[name as keyof WorkspaceFilter] === v.value}>
            {v.label}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <form method="get" action={props.action} class="filters card" data-testid="filters">
      {shown('program')
        ? select(
            'program',
            'Program',
            'All programs',
            o.programs.map((p) => ({ value: p.id, label: p.name })),
          )
        : null}
      {shown('tracker')
        ? select(
            'tracker',
            'Tracker',
            'Both trackers',
            o.trackers.map((t) => ({ value: t, label: TRACKER_LABEL[t] ?? t })),
          )
        : null}
      {shown('project') ? select('project', 'Project', 'All projects', o.projects) : null}
      {shown('team')
        ? select(
            'team',
            'Team / area',
            'All teams',
            o.teams.map((t) => ({ value: t, label: t })),
          )
        : null}
      {shown('owner')
        ? select('owner', 'Owner', 'Anyone', [
            ...o.owners.map((p) => ({ value: p.id, label: p.name })),
            { value: NO_OWNER, label: 'No owner' },
          ])
        : null}
      {props.children}
      {Object.entries(props.extra ?? {}).map(([k, v]) => (v ? <input type="hidden" name={k} value={v} /> : null))}
      <button type="submit">Apply</button>
      {isFiltered(f) ? <a href={props.action}>Clear filters</a> : null}
    </form>
  );
}

export function Empty(props: { cols: number; text: string }) {
  return (
    <tr>
      <td colspan={props.cols} class="muted">
        {props.text}
      </td>
    </tr>
  );
}

export const ownerName = (o: { name: string } | null | undefined) => o?.name ?? 'no owner';
