// The sync summary: the `sync --json` contract of DESIGN.md, and its human rendering.
import type { FindingsSummary } from '../../rules/pass.ts';
import { count } from '../util/plural.ts';

export interface ConnectionSummary {
  id: string;
  tracker: string;
  status: 'ok' | 'failed' | 'skipped';
  itemsPulled: number;
  itemsChanged: number;
  itemsDeleted: number;
  /** Items the reconcile sweep found missing from the database and repaired. */
  itemsRepaired: number;
  /**
   * Items of this connection quarantined in this pass: the database refused one even alone, or
   * its rules or writes could not be worked out. The rest went through; the next pass tries
   * them again.
   */
  itemsQuarantined: number;
  requests: number;
  throttled: number;
  retries: number;
  /** Times the tracker's points quota paused the whole connection in this pass (Jira Cloud). */
  quotaPauses?: number;
  /** When the latest such pause ended or ends (ISO 8601). */
  quotaPausedUntil?: string;
  error?: string;
  /** Mappings that no longer fit the tracker (unknown status category, vanished field). */
  drift?: string[];
}

// The evaluation's own summary type: one definition, owned by the rule engine.
export type { FindingsSummary } from '../../rules/pass.ts';

export interface WritesSummary {
  planned: number;
  sent: number;
  skippedUnchanged: number;
  failed: number;
}

export interface SyncSummary {
  runId: number | null;
  mode: 'enforce' | 'dry-run';
  full: boolean;
  startedAt: string;
  durationMs: number;
  connections: ConnectionSummary[];
  findings: Omit<FindingsSummary, 'changedRefs'>;
  writes: WritesSummary;
  /** Problems worth a human's attention (mapping drift, skipped rules, failed connections). */
  warnings: string[];
}

export const emptyFindings = (): FindingsSummary => ({
  evaluated: 0,
  checks: 0,
  open: 0,
  opened: 0,
  resolved: 0,
  waived: 0,
  byRule: {},
  changedRefs: [],
  ruleErrors: [],
});

/**
 * The summary for a person. A connection's error is not repeated here: the CLI printed it on
 * stderr when it happened (one line each, printed once); `--json` carries it for scripts.
 */
export function formatSummary(s: SyncSummary): string {
  const lines: string[] = [];
  lines.push(`pmo-sync ${s.full ? 'full ' : ''}sync (${s.mode}) in ${(s.durationMs / 1000).toFixed(1)} s`);
  const told = new Set<string>();
  for (const c of s.connections) {
    const counts = `${c.itemsPulled} pulled, ${c.itemsChanged} changed, ${c.itemsDeleted} deleted${c.itemsRepaired ? `, ${c.itemsRepaired} repaired` : ''}${c.itemsQuarantined ? `, ${c.itemsQuarantined} quarantined` : ''}`;
    const api = `${count(c.requests, 'request')}, ${c.throttled} throttled, ${count(c.retries, 'retry')}`;
    lines.push(`  ${c.id} (${c.tracker}): ${c.status === 'ok' ? '' : `${c.status.toUpperCase()} `}${counts}; ${api}`);
    if (c.quotaPauses)
      lines.push(
        `    paused by the tracker's points quota ${c.quotaPauses === 1 ? 'once' : `${c.quotaPauses} times`}, until ${c.quotaPausedUntil}`,
      );
    if (c.error) told.add(`${c.id}: ${c.error}`);
  }
  const f = s.findings;
  lines.push(
    `  findings: ${f.open} open (${f.opened} opened, ${f.resolved} resolved, ${f.waived} waived) over ${count(f.evaluated, 'item')}`,
  );
  const top = Object.entries(f.byRule)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10);
  for (const [rule, n] of top) lines.push(`    ${String(n).padStart(6)}  ${rule}`);
  const w = s.writes;
  lines.push(`  writes: ${w.planned} planned, ${w.sent} sent, ${w.skippedUnchanged} unchanged, ${w.failed} failed`);
  for (const warning of s.warnings) if (!told.has(warning)) lines.push(`  warning: ${warning}`);
  return `${lines.join('\n')}\n`;
}
