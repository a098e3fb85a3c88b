// Renders a report as a terminal table (what a PMO lead reads), CSV (one row per item, for
// spreadsheets) or JSON (the DESIGN.md shape, for scripts).
import { toCsv } from '../util/csv.ts';
import type { Report } from './load.ts';

// Every CSV export shares one encoder (RFC 4180 quoting, formula neutralization).
export { toCsv };

export function formatJson(r: Report): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export const CSV_WHAT = ['items', 'findings', 'rollups', 'epics'] as const;
export type CsvWhat = (typeof CSV_WHAT)[number];

/** One CSV per kind of row: items (the default), findings, rollups or the epic rows. */
export function formatCsv(r: Report, what: CsvWhat = 'items'): string {
  if (what === 'findings') return findingsCsv(r);
  if (what === 'rollups') return rollupsCsv(r);
  if (what === 'epics') return epicsCsv(r);
  return itemsCsv(r);
}

function itemsCsv(r: Report): string {
  const open = new Map<string, string[]>();
  for (const f of r.findings) {
    if (f.status !== 'open') continue;
    open.set(f.ref, [...(open.get(f.ref) ?? []), f.rule]);
  }
  return toCsv(
    [
      'ref',
      'tracker',
      'project',
      'kind',
      'title',
      'status',
      'statusCategory',
      'assignee',
      'due',
      'points',
      'parent',
      'openFindings',
      'url',
    ],
    r.items.map((i) => [
      i.ref,
      i.tracker,
      i.project,
      i.kind,
      i.title,
      i.status,
      i.statusCategory,
      i.assignee?.name ?? '',
      i.due?.slice(0, 10) ?? '',
      i.points,
      i.parent ?? '',
      (open.get(i.ref) ?? []).join(' '),
      i.url,
    ]),
  );
}

function findingsCsv(r: Report): string {
  const items = new Map(r.items.map((i) => [i.ref, i]));
  return toCsv(
    [
      'ref',
      'tracker',
      'project',
      'title',
      'owner',
      'rule',
      'severity',
      'status',
      'message',
      'firstSeen',
      'lastSeen',
      'resolvedAt',
      'waivedReason',
      'waivedUntil',
    ],
    r.findings.map((f) => {
      const i = items.get(f.ref);
      return [
        f.ref,
        i?.tracker ?? '',
        i?.project ?? '',
        i?.title ?? '',
        (i?.owner ?? i?.assignee)?.name ?? '',
        f.rule,
        f.severity,
        f.status,
        f.message,
        f.firstSeen,
        f.lastSeen,
        f.resolvedAt ?? '',
        f.waivedReason ?? '',
        f.waivedUntil ?? '',
      ];
    }),
  );
}

const metric = (m: Record<string, unknown>, key: string) => {
  const v = m[key];
  return typeof v === 'number' || typeof v === 'string' ? v : '';
};

function rollupsCsv(r: Report): string {
  return toCsv(
    [
      'scope',
      'kind',
      'health',
      'healthRule',
      'healthReason',
      'percentComplete',
      'scheduleIndex',
      'compliance',
      'targetDate',
      'plannedFinish',
      'overdue',
      'overdueEpics',
      'computedAt',
    ],
    r.rollups.map((x) => [
      x.scope,
      x.kind,
      x.health,
      metric(x.metrics, 'healthRule'),
      x.healthReason,
      x.percentComplete ?? '',
      metric(x.metrics, 'scheduleIndex'),
      metric(x.metrics, 'compliance'),
      String(metric(x.metrics, 'targetDate')).slice(0, 10),
      String(metric(x.metrics, 'plannedFinish')).slice(0, 10),
      metric(x.metrics, 'overdue'),
      metric(x.metrics, 'overdueEpics'),
      x.computedAt,
    ]),
  );
}

function epicsCsv(r: Report): string {
  return toCsv(
    [
      'ref',
      'tracker',
      'project',
      'title',
      'status',
      'health',
      'healthRule',
      'healthReason',
      'percentComplete',
      'targetDate',
      'plannedFinish',
      'overdue',
      'openFindings',
      'url',
    ],
    r.epics.map((e) => [
      e.ref,
      e.tracker,
      e.project,
      e.title,
      e.status,
      e.rollup?.health ?? '',
      e.healthRule ?? '',
      e.rollup?.healthReason ?? '',
      e.rollup?.percentComplete ?? '',
      e.targetDate?.slice(0, 10) ?? '',
      e.plannedFinish?.slice(0, 10) ?? '',
      e.overdue ? 'yes' : 'no',
      e.openFindings,
      e.url,
    ]),
  );
}

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '   –' : `${Math.round(v * 100)}%`.padStart(4);

const describe = (f: Report['filter']) =>
  Object.entries(f)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

const day = (v: string | null) => (v ? v.slice(0, 10) : '—'.padEnd(10));

export function formatTable(r: Report): string {
  const out: string[] = [];
  const openFindings = r.findings.filter((f) => f.status === 'open');
  const program = r.filter.program ? r.rollups.find((x) => x.scope === `program:${r.filter.program}`) : undefined;
  const portfolio = r.rollups.find((x) => x.scope === 'portfolio');
  const filtered = describe(r.filter);
  if (program) {
    out.push(
      `PROGRAM ${r.filter.program}  ${program.health.toUpperCase()}  ${pct(program.percentComplete)} complete — ${program.healthReason}`,
    );
  } else if (portfolio && !filtered) {
    out.push(
      `PORTFOLIO  ${portfolio.health.toUpperCase()}  ${pct(portfolio.percentComplete)} complete — ${portfolio.healthReason}`,
    );
  } else if (filtered) {
    out.push(`FILTER  ${filtered}`);
  } else {
    out.push(`PORTFOLIO  ${r.items.length} items, ${openFindings.length} open findings (no rollups computed yet)`);
  }
  if (filtered && program && describe({ ...r.filter, program: undefined })) out.push(`FILTER  ${filtered}`);
  // The dashboard's headline, counted from the epic rows below.
  const h = r.headline;
  out.push(
    `EPICS  ${h.epics.total} (${h.epics.red} red, ${h.epics.amber} amber, ${h.epics.green} green), ${h.overdueEpics} overdue; ${h.items} items, ${h.openFindings} open findings, compliance ${pct(h.compliance).trim()}`,
  );
  const programs = filtered ? [] : r.rollups.filter((x) => x.scope.startsWith('program:'));
  if (programs.length > 0) {
    out.push('', 'PROGRAMS');
    for (const p of programs)
      out.push(`  ${p.health.padEnd(5)} ${pct(p.percentComplete)}  ${p.scope.slice(8).padEnd(24)} ${p.healthReason}`);
  }
  if (r.epics.length > 0) {
    out.push('', 'EPICS BY HEALTH  (target = its own due date; planned finish = latest child due)');
    out.push(
      `  ${'health'.padEnd(6)} ${'done'.padStart(4)}  ${'epic'.padEnd(22)} ${'target'.padEnd(10)}  ${'planned'.padEnd(10)}  title — reason`,
    );
    for (const e of r.epics) {
      const health = e.rollup?.health ?? '—';
      out.push(
        `  ${health.padEnd(6)} ${pct(e.rollup?.percentComplete)}  ${e.ref.padEnd(22)} ${day(e.targetDate)}  ${day(e.plannedFinish)}  ${e.title.slice(0, 50)} — ${e.rollup?.healthReason ?? 'no rollup yet'}`,
      );
    }
  }
  const byConnection = new Map<string, number>();
  for (const i of r.items) byConnection.set(i.connection, (byConnection.get(i.connection) ?? 0) + 1);
  out.push('', 'ITEMS');
  for (const [c, n] of byConnection) out.push(`  ${c.padEnd(24)} ${n}`);
  if (openFindings.length > 0) {
    const byRule = new Map<string, { n: number; severity: string }>();
    for (const f of openFindings) byRule.set(f.rule, { n: (byRule.get(f.rule)?.n ?? 0) + 1, severity: f.severity });
    out.push('', 'OPEN FINDINGS BY RULE');
    for (const [rule, v] of [...byRule].sort((a, b) => b[1].n - a[1].n))
      out.push(`  ${String(v.n).padStart(6)}  ${v.severity.padEnd(7)} ${rule}`);
  }
  if (r.quarantined.length > 0) {
    out.push('', `QUARANTINED (each sync tries these again)`);
    for (const q of r.quarantined)
      out.push(
        `  ${q.stage.padEnd(8)} ${q.ref.padEnd(24)} ${q.failures}× since ${q.firstFailedAt.slice(0, 10)}  ${q.reason}`,
      );
  }
  return `${out.join('\n')}\n`;
}
