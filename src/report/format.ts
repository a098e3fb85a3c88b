// Renders a report as a terminal table (what a PMO lead reads), CSV (one row per item, for
// spreadsheets) or JSON (the DESIGN.md shape, for scripts).
import { toCsv } from '../util/csv.ts';
import type { Report } from './load.ts';

// Every CSV export shares one encoder (RFC 4180 quoting, formula neutralization).
export { toCsv };

export function formatJson(r: Report): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export function formatCsv(r: Report): string {
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

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '   –' : `${Math.round(v * 100)}%`.padStart(4);

export function formatTable(r: Report): string {
  const out: string[] = [];
  const portfolio = r.rollups.find((x) => x.scope === 'portfolio');
  const openFindings = r.findings.filter((f) => f.status === 'open');
  if (portfolio) {
    out.push(
      `PORTFOLIO  ${portfolio.health.toUpperCase()}  ${pct(portfolio.percentComplete)} complete — ${portfolio.healthReason}`,
    );
  } else {
    out.push(`PORTFOLIO  ${r.items.length} items, ${openFindings.length} open findings (no rollups computed yet)`);
  }
  const programs = r.rollups.filter((x) => x.scope.startsWith('program:'));
  if (programs.length > 0) {
    out.push('', 'PROGRAMS');
    for (const p of programs)
      out.push(`  ${p.health.padEnd(5)} ${pct(p.percentComplete)}  ${p.scope.slice(8).padEnd(24)} ${p.healthReason}`);
  }
  const epics = r.rollups.filter((x) => x.scope.startsWith('epic:'));
  if (epics.length > 0) {
    const order: Record<string, number> = { red: 0, amber: 1, green: 2 };
    const titles = new Map(r.items.map((i) => [i.ref, i]));
    out.push('', 'EPICS BY HEALTH');
    for (const e of [...epics].sort(
      (a, b) => (order[a.health] ?? 3) - (order[b.health] ?? 3) || a.scope.localeCompare(b.scope),
    )) {
      const item = titles.get(e.scope.slice(5));
      const due = item?.due ? item.due.slice(0, 10) : 'no date';
      out.push(
        `  ${e.health.padEnd(5)} ${pct(e.percentComplete)}  ${e.scope.slice(5).padEnd(22)} ${due.padEnd(10)}  ${(item?.title ?? '').slice(0, 50)} — ${e.healthReason}`,
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
