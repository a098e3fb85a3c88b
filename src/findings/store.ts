// The findings table as the evaluation reads and writes it: the stored findings of some refs,
// a plan's inserts, updates and history rows, each item's count of applicable rules, and the
// open and waived counts. The plan itself is decided without a database (rules/plan.ts).
import { and, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { sendRows } from '../../db/copy.ts';
import { inList, type Pipeline } from '../../db/query.ts';
import { findings } from '../../db/schema.ts';
import { selectRows } from '../../db/select.ts';
import type { FindingCounts } from '../../rules/pass.ts';
import type { FindingsPlan, NewFinding, StoredFinding } from '../../rules/plan.ts';
import { chunks, READ_BATCH } from './load-items.ts';

const FINDING_FIELDS = getTableColumns(findings);

/** The stored findings of `refs` (every finding when undefined), of `rules` alone when given. */
export async function existingFindings(
  db: Db,
  refs: string[] | undefined,
  rules?: readonly { id: string }[],
): Promise<StoredFinding[]> {
  if (!refs) return (await selectRows(db, FINDING_FIELDS, findings)) as StoredFinding[];
  const out: StoredFinding[] = [];
  const ofRules =
    rules &&
    inList(
      findings.rule,
      rules.map((r) => r.id),
    );
  for (const c of chunks(refs, READ_BATCH)) {
    const where = ofRules ? and(inList(findings.ref, c), ofRules) : inList(findings.ref, c);
    out.push(...((await selectRows(db, FINDING_FIELDS, findings, where)) as StoredFinding[]));
  }
  return out;
}

// Bulk writes go through one jsonb parameter per chunk (jsonb_to_recordset): a first sync of a
// large portfolio writes hundreds of thousands of findings, and row-by-row statements on PGlite
// take minutes where this takes seconds. Same SQL on PGlite and Postgres. An insert that meets
// a row another replica wrote a moment ago is skipped; the next evaluation reconciles it.
const FINDING_COLUMNS = sql.raw(
  'ref text, rule text, severity text, status text, message text, first_seen timestamptz, last_seen timestamptz, ' +
    'resolved_at timestamptz, waived_reason text, waived_until date, rule_hash text, item_hash text',
);

function findingRecords(rows: readonly NewFinding[]): string {
  return JSON.stringify(
    rows.map((f) => ({
      id: (f as StoredFinding).id,
      ref: f.ref,
      rule: f.rule,
      severity: f.severity,
      status: f.status,
      message: f.message,
      first_seen: f.firstSeen,
      last_seen: f.lastSeen,
      resolved_at: f.resolvedAt,
      waived_reason: f.waivedReason,
      waived_until: f.waivedUntil,
      rule_hash: f.ruleHash,
      item_hash: f.itemHash,
    })),
  );
}

const INSERT_COLUMNS = [
  'ref',
  'rule',
  'severity',
  'status',
  'message',
  'first_seen',
  'last_seen',
  'resolved_at',
  'waived_reason',
  'waived_until',
  'rule_hash',
  'item_hash',
];
const HISTORY_COLUMNS = ['ref', 'rule', 'status', 'at', 'message', 'rule_hash', 'item_hash'];

// The statements go out back to back (a pipeline): the database writes one chunk while the
// next one's JSON is built.
export function addPlan(pipeline: Pipeline, db: Db, plan: FindingsPlan, now: Date): Promise<unknown>[] {
  const at = now.toISOString();
  const sent: Promise<unknown>[] = [];
  for (const c of chunks(plan.inserts, 5000)) {
    sent.push(
      sendRows(pipeline, db, {
        table: 'findings',
        columns: INSERT_COLUMNS,
        rows: () =>
          c.map((f) => [
            f.ref,
            f.rule,
            f.severity,
            f.status,
            f.message,
            f.firstSeen,
            f.lastSeen,
            f.resolvedAt,
            f.waivedReason,
            f.waivedUntil,
            f.ruleHash,
            f.itemHash,
          ]),
        count: c.length,
        insert: () =>
          db.execute(sql`insert into findings (ref, rule, severity, status, message, first_seen, last_seen, resolved_at,
      waived_reason, waived_until, rule_hash, item_hash)
    select ref, rule, severity, status, message, first_seen, last_seen, resolved_at, waived_reason, waived_until,
      rule_hash, item_hash
    from jsonb_to_recordset(${findingRecords(c)}::jsonb) as x(${FINDING_COLUMNS})
    on conflict (ref, rule) do nothing`),
        conflicts: true,
      }),
    );
  }
  for (const c of chunks(plan.updates, 5000)) {
    sent.push(
      pipeline.add(
        db.execute(sql`update findings f set severity = x.severity, status = x.status, message = x.message,
      first_seen = x.first_seen, last_seen = x.last_seen, resolved_at = x.resolved_at,
      waived_reason = x.waived_reason, waived_until = x.waived_until, rule_hash = x.rule_hash, item_hash = x.item_hash
    from jsonb_to_recordset(${findingRecords(c)}::jsonb) as x(id bigint, ${FINDING_COLUMNS})
    where f.id = x.id`),
      ),
    );
  }
  for (const c of chunks(plan.touched, 5000)) {
    sent.push(
      pipeline.add(
        db.execute(sql`update findings set last_seen = ${at}
    where id in (select jsonb_array_elements_text(${JSON.stringify(c)}::jsonb)::bigint)`),
      ),
    );
  }
  for (const c of chunks(plan.history, 5000)) {
    sent.push(
      sendRows(pipeline, db, {
        table: 'finding_history',
        columns: HISTORY_COLUMNS,
        rows: () => c.map((h) => [h.ref, h.rule, h.status, at, h.message, h.ruleHash, h.itemHash]),
        count: c.length,
        insert: () => {
          const records = JSON.stringify(
            c.map((h) => ({
              ref: h.ref,
              rule: h.rule,
              status: h.status,
              message: h.message,
              rule_hash: h.ruleHash,
              item_hash: h.itemHash,
            })),
          );
          return db.execute(sql`insert into finding_history (ref, rule, status, at, message, rule_hash, item_hash)
    select ref, rule, status, ${at}::timestamptz, message, rule_hash, item_hash
    from jsonb_to_recordset(${records}::jsonb) as x(ref text, rule text, status text, message text, rule_hash text, item_hash text)`);
        },
        conflicts: false,
      }),
    );
  }
  return sent;
}

export async function countFindings(db: Db): Promise<FindingCounts> {
  const rows = await db
    .select({ status: findings.status, rule: findings.rule, n: sql<number>`count(*)::int` })
    .from(findings)
    .where(inArray(findings.status, ['open', 'waived']))
    .groupBy(findings.status, findings.rule);
  const byRule: Record<string, number> = {};
  let open = 0;
  let waived = 0;
  for (const r of rows) {
    const n = Number(r.n);
    if (r.status === 'open') {
      open += n;
      byRule[r.rule] = n;
    } else waived += n;
  }
  return { open, waived, byRule: Object.fromEntries(Object.entries(byRule).sort(([a], [b]) => a.localeCompare(b))) };
}

/**
 * Keeps each item's count of applicable rules, which rollups divide open findings by, and its
 * copy in item_rollups (src/rollups/items.ts): an item evaluated only because a neighbour
 * changed can gain or lose an applicable rule without any finding changing, and then no
 * rollup pass would look at it again.
 */
export function addApplicable(pipeline: Pipeline, db: Db, applicable: Map<string, number>): Promise<unknown>[] {
  const sent: Promise<unknown>[] = [];
  for (const c of chunks([...applicable], 20_000)) {
    sent.push(
      pipeline.add(
        db.execute(sql`with changed as (
        insert into item_checks (ref, rule_checks)
        select ref, n from jsonb_to_recordset(${JSON.stringify(c.map(([ref, n]) => ({ ref, n })))}::jsonb) as x(ref text, n int)
        on conflict (ref) do update set rule_checks = excluded.rule_checks
          where item_checks.rule_checks is distinct from excluded.rule_checks
        returning ref, rule_checks
      )
      update item_rollups r set rule_checks = changed.rule_checks from changed
      where r.ref = changed.ref and r.rule_checks is distinct from changed.rule_checks`),
      ),
    );
  }
  return sent;
}
