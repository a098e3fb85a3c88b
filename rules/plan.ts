// The findings lifecycle as a pure function: from what rules say now and what the database
// holds, decide every insert, update and history row. `evaluateFindings` applies the plan;
// `rules preview` only prints it. Keeping this pure is what makes both agree.
import { storableText } from '../src/core/storable-text.ts';
import type { CompiledRule } from './compile.ts';
import type { Waiver } from './config.ts';
import type { ItemResult } from './evaluate.ts';
import type { GraphItem } from './graph.ts';
import { findWaiver } from './waivers.ts';

export type FindingStatus = 'open' | 'resolved' | 'waived';

/** A findings row as stored (the columns the lifecycle reads). */
export interface StoredFinding {
  id: number;
  ref: string;
  rule: string;
  severity: string;
  status: string;
  message: string;
  firstSeen: string;
  lastSeen: string;
  resolvedAt: string | null;
  waivedReason: string | null;
  waivedUntil: string | null;
  ruleHash: string;
  itemHash: string;
}

export type NewFinding = Omit<StoredFinding, 'id'>;

export interface FindingChange {
  /** What happened: a finding appeared, came back, was waived, or went away. */
  kind: 'opened' | 'reopened' | 'waived' | 'resolved' | 'updated';
  ref: string;
  rule: string;
  severity: string;
  message: string;
  /** Status before and after (`null`: no row yet). */
  from: string | null;
  to: FindingStatus;
}

export interface FindingsPlan {
  inserts: NewFinding[];
  /** Rows whose status or content changes, with their complete new state. */
  updates: StoredFinding[];
  /** Rows in the same state and content, last seen on an earlier day: only `lastSeen` moves. */
  touched: number[];
  history: { ref: string; rule: string; status: FindingStatus; message: string; ruleHash: string; itemHash: string }[];
  changes: FindingChange[];
  /** Items whose findings could not be planned (their stored data broke it): left as they were. */
  failed?: { ref: string; reason: string }[];
}

export interface PlanInput {
  results: readonly ItemResult[];
  /** Existing findings of the evaluated refs. */
  existing: readonly StoredFinding[];
  rules: readonly CompiledRule[];
  item(ref: string): GraphItem | undefined;
  waivers: readonly Waiver[];
  now: Date;
  /** Rules whose stored findings must be left alone (broken rule files, or not part of this plan). */
  keep(rule: string): boolean;
}

export function planFindings(input: PlanInput): FindingsPlan {
  const { now } = input;
  const at = now.toISOString();
  const today = at.slice(0, 10);
  const rules = new Map(input.rules.map((r) => [r.id, r]));
  const existing = new Map<string, StoredFinding>();
  const rulesByRef = new Map<string, string[]>();
  for (const f of input.existing) {
    existing.set(`${f.ref}\u0000${f.rule}`, f);
    const list = rulesByRef.get(f.ref);
    if (list) list.push(f.rule);
    else rulesByRef.set(f.ref, [f.rule]);
  }
  const plan: FindingsPlan = { inserts: [], updates: [], touched: [], history: [], changes: [] };
  const update = (row: StoredFinding, set: Partial<NewFinding>) => plan.updates.push({ ...row, ...set });

  for (const res of input.results) {
    const mark = [
      plan.inserts.length,
      plan.updates.length,
      plan.touched.length,
      plan.history.length,
      plan.changes.length,
    ];
    try {
      planItem(res);
    } catch (e) {
      // Nothing of this item's plan is kept; the other items' plans go on.
      [plan.inserts.length, plan.updates.length, plan.touched.length, plan.history.length, plan.changes.length] = mark;
      plan.failed ??= [];
      plan.failed.push({ ref: res.ref, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return plan;

  function planItem(res: ItemResult): void {
    const it = input.item(res.ref);
    const alive = it !== undefined && !it.deletedAt;
    const itemHash = it?.contentHash ?? '';
    const ids = new Set<string>(res.fails.keys());
    for (const r of rulesByRef.get(res.ref) ?? []) ids.add(r);
    for (const ruleId of ids) {
      if (res.errors.has(ruleId)) continue;
      const rule = rules.get(ruleId);
      const row = existing.get(`${res.ref}\u0000${ruleId}`);
      if (!rule && input.keep(ruleId)) continue;
      const failMsg = alive && rule ? res.fails.get(ruleId) : undefined;
      const waiver = failMsg !== undefined && it ? findWaiver(input.waivers, ruleId, it, now) : null;
      const desired: FindingStatus | 'absent' = failMsg === undefined ? 'absent' : waiver ? 'waived' : 'open';
      const ruleHash = rule?.hash ?? row?.ruleHash ?? '';
      const severity = rule?.severity ?? row?.severity ?? 'warning';
      // Messages quote item text, raw JSON included: stored as Postgres can hold them.
      const message = failMsg !== undefined ? storableText(failMsg) : (row?.message ?? '');
      const change = (kind: FindingChange['kind'], to: FindingStatus) =>
        plan.changes.push({ kind, ref: res.ref, rule: ruleId, severity, message, from: row?.status ?? null, to });
      const history = (status: FindingStatus) =>
        plan.history.push({ ref: res.ref, rule: ruleId, status, message, ruleHash, itemHash });

      if (!row) {
        if (desired === 'absent') continue;
        plan.inserts.push({
          ref: res.ref,
          rule: ruleId,
          severity,
          status: desired,
          message,
          firstSeen: at,
          lastSeen: at,
          resolvedAt: null,
          waivedReason: waiver?.reason ?? null,
          waivedUntil: waiver?.until ?? null,
          ruleHash,
          itemHash,
        });
        history(desired);
        change(desired === 'open' ? 'opened' : 'waived', desired);
        continue;
      }
      if (desired === 'absent') {
        if (row.status === 'resolved') continue;
        update(row, { status: 'resolved', resolvedAt: at, lastSeen: at, itemHash });
        history('resolved');
        change('resolved', 'resolved');
        continue;
      }
      const sameContent =
        row.message === message &&
        row.severity === severity &&
        row.ruleHash === ruleHash &&
        row.itemHash === itemHash &&
        row.waivedReason === (waiver?.reason ?? null) &&
        row.waivedUntil === (waiver?.until ?? null);
      if (row.status === desired) {
        // Last seen moves once per day: a sync every few minutes then costs no writes at all for
        // the findings that did not change, and "still flagged on day X" stays answerable.
        if (sameContent) {
          if (new Date(row.lastSeen).toISOString().slice(0, 10) < today) plan.touched.push(row.id);
        } else {
          update(row, {
            message,
            severity,
            ruleHash,
            itemHash,
            lastSeen: at,
            waivedReason: waiver?.reason ?? null,
            waivedUntil: waiver?.until ?? null,
          });
          if (row.message !== message || row.severity !== severity) change('updated', desired);
        }
        continue;
      }
      // A status change. A finding coming back after it was resolved is a new occurrence, so its
      // first-seen time restarts; open ↔ waived keeps it (the problem never went away).
      const restart = row.status === 'resolved';
      update(row, {
        status: desired,
        message,
        severity,
        ruleHash,
        itemHash,
        lastSeen: at,
        resolvedAt: null,
        waivedReason: waiver?.reason ?? null,
        waivedUntil: waiver?.until ?? null,
        ...(restart ? { firstSeen: at } : {}),
      });
      history(desired);
      change(desired === 'waived' ? 'waived' : restart ? 'reopened' : 'opened', desired);
    }
  }
}
