// Evaluates rules against stored items and keeps the findings table and its history in step:
// load (all items, or the changed refs and what they affect — see items.ts), evaluate in
// memory, plan the lifecycle (plan.ts), write in bulk. Works on a drizzle transaction too.
import { getTableColumns, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { sendRows } from '../db/copy.ts';
import { coversMostItems, inList, letIoRun, type Pipeline, withPipeline } from '../db/query.ts';
import { findings } from '../db/schema.ts';
import { selectRows } from '../db/select.ts';
import type { CompiledRule } from './compile.ts';
import type { Waiver } from './config.ts';
import { type EvaluationRun, evaluateItemsSliced, type ItemResult } from './evaluate.ts';
import { BUILT_IN_FUNCTIONS } from './functions.ts';
import { createItemGraph, type GraphItem, type ItemGraph } from './graph.ts';
import {
  chunks,
  type EvaluationChunk,
  loadAffected,
  loadAllItems,
  loadChunk,
  planEvaluationChunks,
  READ_BATCH,
} from './items.ts';
import type { RuleSet } from './load.ts';
import { type FindingChange, type FindingsPlan, type NewFinding, planFindings, type StoredFinding } from './plan.ts';

export interface FindingsSummary {
  /** Items evaluated. */
  evaluated: number;
  /** Item-rule checks made. */
  checks: number;
  /** Open findings in the database after this pass. */
  open: number;
  /** Findings that opened (or re-opened) in this pass. */
  opened: number;
  /** Findings resolved in this pass. */
  resolved: number;
  /** Waived findings in the database after this pass. */
  waived: number;
  /** Open findings by rule, database-wide. */
  byRule: Record<string, number>;
  /** Refs whose findings changed (status, message or severity): their write-back is due. */
  changedRefs: string[];
  /**
   * Rules that failed on some items in this pass (an error, or their cost budget spent): how
   * often and the first error. Their findings on those items are left as they were.
   */
  ruleErrors: RuleErrorSummary[];
  /** Items whose evaluation failed (EvaluationRun.failed): their findings were left as they were. */
  quarantined?: { ref: string; reason: string }[];
}

export interface RuleErrorSummary {
  rule: string;
  items: number;
  firstRef: string;
  error: string;
}

export interface EvaluateFindingsOptions {
  /** Refs whose items changed; omitted means every stored item. */
  refs?: string[];
  /** With `refs`: owner ids whose in-progress items are evaluated too (owners changed items left). */
  owners?: readonly string[];
  now: Date;
  waivers: Waiver[];
  /** Plan only: the summary says what would change; nothing is written. */
  dryRun?: boolean;
  /**
   * Reads committed items and findings outside `db`'s transaction (CommitOptions.reader), so a
   * chunked evaluation reads the next chunk while the transaction writes the last.
   */
  reader?: Db;
  /** Items per chunk of a large evaluation (items.ts EVALUATION_CHUNK); tests make it small. */
  chunkItems?: number;
  /** Items a chunk evaluates between two turns of the event loop (EVAL_SLICE); tests make it small. */
  sliceItems?: number;
  /**
   * Called for each chunk of a chunked evaluation once its findings are planned and sent, with
   * what the chunk's items look like afterwards: a first sync plans the items' writes from this
   * instead of reading it all back (src/sync/stages.ts). The statements it returns are waited
   * for with the chunk's own. Not called when nothing is written (`dryRun`).
   */
  onChunk?(chunk: EvaluatedChunk): Promise<Promise<unknown>[]>;
}

/** A chunk of a chunked evaluation, as its writes leave it (EvaluateFindingsOptions.onChunk). */
export interface EvaluatedChunk {
  graph: ItemGraph;
  /** The refs the chunk evaluated. */
  refs: readonly string[];
  /** Their open and waived findings once the chunk's plan is written. */
  findings: StoredFinding[];
  /** Rules that applied to each evaluated, live item (what item_checks holds for it). */
  applicable: ReadonlyMap<string, number>;
  /** The evaluation's pipeline on `db`: statements sent through it go out beside the chunk's. */
  pipeline: Pipeline;
}

/** The findings of `existing`'s refs once `plan` is written: open and waived ones only. */
function findingsAfter(existing: readonly StoredFinding[], plan: FindingsPlan): StoredFinding[] {
  const byId = new Map<number, StoredFinding>();
  for (const f of existing) byId.set(f.id, f);
  for (const f of plan.updates) byId.set(f.id, f);
  const out: StoredFinding[] = [];
  for (const f of byId.values()) if (f.status === 'open' || f.status === 'waived') out.push(f);
  for (const f of plan.inserts) if (f.status === 'open' || f.status === 'waived') out.push({ ...f, id: 0 });
  return out;
}

const FINDING_FIELDS = getTableColumns(findings);

async function existingFindings(db: Db, refs: string[] | undefined): Promise<StoredFinding[]> {
  if (!refs) return (await selectRows(db, FINDING_FIELDS, findings)) as StoredFinding[];
  const out: StoredFinding[] = [];
  for (const c of chunks(refs, READ_BATCH))
    out.push(...((await selectRows(db, FINDING_FIELDS, findings, inList(findings.ref, c))) as StoredFinding[]));
  return out;
}

/** Whether a rule may read the tracker's raw JSON; TypeScript rules are assumed to. */
function readsRaw(rule: CompiledRule): boolean {
  const d = rule.def;
  return d.function !== undefined
    ? !BUILT_IN_FUNCTIONS.has(d.function)
    : /\braw\b/.test(`${d.applies} ${d.check ?? ''} ${d.message}`);
}

type RuleErrors = Map<string, { count: number; ref: string; error: string }>;

/** Adds the rules that threw in `results` to `byRule`: how often, and the first error. */
function collectErrors(byRule: RuleErrors, results: readonly ItemResult[]): RuleErrors {
  for (const r of results) {
    for (const [rule, error] of r.errors) {
      const seen = byRule.get(rule);
      if (seen) seen.count++;
      else byRule.set(rule, { count: 1, ref: r.ref, error });
    }
  }
  return byRule;
}

/**
 * One warning per rule that threw, with how often and the first error, not one per item; kept
 * on the rule set too, where `GET /api/v1/rules` shows it (load.ts describeRules).
 */
function reportErrors(ruleSet: Pick<RuleSet, 'log'> & Partial<Pick<RuleSet, 'errors'>>, byRule: RuleErrors): void {
  const at = new Date().toISOString();
  for (const [rule, e] of byRule) {
    ruleSet.errors?.set(rule, { items: e.count, firstRef: e.ref, error: e.error, at });
    ruleSet.log?.warn({ rule, items: e.count, firstRef: e.ref }, `rule ${rule} failed on ${e.count} items: ${e.error}`);
  }
}

function errorSummary(byRule: RuleErrors): RuleErrorSummary[] {
  return [...byRule]
    .map(([rule, e]) => ({ rule, items: e.count, firstRef: e.ref, error: e.error }))
    .sort((a, b) => a.rule.localeCompare(b.rule));
}

export interface PreparedEvaluation {
  graph: ItemGraph;
  plan: FindingsPlan;
  evaluated: number;
  checks: number;
  /** Rules that applied to each evaluated, live item: the compliance denominator. */
  applicable: Map<string, number>;
  ruleErrors: RuleErrorSummary[];
  /** Items whose evaluation failed (EvaluationRun.failed). */
  failed: { ref: string; reason: string }[];
}

/** Rules whose stored findings this evaluation must leave alone. */
function keptRules(ruleSet: Pick<RuleSet, 'rules' | 'problems' | 'knownIds'>): (rule: string) => boolean {
  const broken = new Set(ruleSet.problems.map((p) => p.ruleId));
  // A file that could not be read at all hides which rules it held: leave every unknown rule's
  // findings alone rather than resolve them all because of a typo.
  const fileBroken = broken.has('-');
  const active = new Set(ruleSet.rules.map((r) => r.id));
  return (rule) => !active.has(rule) && (broken.has(rule) || (fileBroken && !ruleSet.knownIds.has(rule)));
}

/** Loads, evaluates and plans without writing: shared by `evaluateFindings` and preview. */
export async function prepareEvaluation(
  db: Db,
  ruleSet: Pick<RuleSet, 'rules' | 'problems' | 'knownIds' | 'log'>,
  opts: EvaluateFindingsOptions & { keep?: (rule: string) => boolean },
): Promise<PreparedEvaluation> {
  let items: GraphItem[];
  let refs: string[];
  const load = { raw: ruleSet.rules.some(readsRaw) };
  if (opts.refs) {
    const affected = await loadAffected(db, opts.refs, { ...load, owners: opts.owners });
    items = affected.items;
    refs = affected.evaluate;
  } else {
    items = await loadAllItems(db, load);
    refs = items.map((i) => i.ref);
  }
  const graph = createItemGraph(items, opts.now);
  const existing = await existingFindings(db, opts.refs ? refs : undefined);
  const { run, plan, applicable } = await evaluateAndPlan(graph, refs, existing, ruleSet.rules, {
    ...opts,
    keep: opts.keep ?? keptRules(ruleSet),
  });
  const errors = collectErrors(new Map(), run.results);
  reportErrors(ruleSet, errors);
  const failed = [...(run.failed ?? []), ...(plan.failed ?? [])];
  return {
    graph,
    plan,
    evaluated: applicable.size,
    checks: run.checks,
    applicable,
    ruleErrors: errorSummary(errors),
    failed,
  };
}

/** Evaluates `refs` over `graph` and plans their findings against the `existing` ones. */
async function evaluateAndPlan(
  graph: ItemGraph,
  refs: Iterable<string>,
  existing: readonly StoredFinding[],
  rules: readonly CompiledRule[],
  opts: { now: Date; waivers: Waiver[]; keep: (rule: string) => boolean },
) {
  // Sliced: the event loop keeps turning however many items a webhook burst affects.
  return planRun(graph, await evaluateItemsSliced(graph, rules, refs), existing, rules, opts);
}

/** Plans an evaluation's findings against the `existing` ones (see evaluateAndPlan). */
function planRun(
  graph: ItemGraph,
  run: EvaluationRun,
  existing: readonly StoredFinding[],
  rules: readonly CompiledRule[],
  opts: { now: Date; waivers: Waiver[]; keep: (rule: string) => boolean },
) {
  const plan = planFindings({
    results: run.results,
    existing,
    rules,
    item: (ref) => graph.get(ref),
    waivers: opts.waivers,
    now: opts.now,
    keep: opts.keep,
  });
  // Rules that applied to each evaluated, live item: the compliance denominator. An item whose
  // findings could not be planned keeps its count too.
  const failed = new Set(plan.failed?.map((f) => f.ref));
  const applicable = new Map<string, number>();
  for (const r of run.results) {
    const it = graph.get(r.ref);
    if (it && !it.deletedAt && !failed.has(r.ref)) applicable.set(r.ref, r.applicable);
  }
  return { run, plan, applicable };
}

/** What a pass's findings changes add up to, for the summary (FindingsSummary). */
function createTally() {
  const tally = { opened: 0, resolved: 0, changedRefs: new Set<string>() };
  const failed: { ref: string; reason: string }[] = [];
  return {
    fail(items: readonly { ref: string; reason: string }[] = []): void {
      for (const f of items) failed.push(f);
    },
    add(changes: readonly FindingChange[]): void {
      for (const c of changes) {
        tally.changedRefs.add(c.ref);
        if (c.kind === 'opened' || c.kind === 'reopened') tally.opened++;
        else if (c.kind === 'resolved') tally.resolved++;
      }
    },
    summary(
      counts: Awaited<ReturnType<typeof countFindings>>,
      evaluated: number,
      checks: number,
      ruleErrors: RuleErrorSummary[],
    ): FindingsSummary {
      return {
        ruleErrors,
        evaluated,
        checks,
        open: counts.open,
        opened: tally.opened,
        resolved: tally.resolved,
        waived: counts.waived,
        byRule: counts.byRule,
        changedRefs: [...tally.changedRefs].sort(),
        ...(failed.length > 0 ? { quarantined: failed } : {}),
      };
    },
  };
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
function addPlan(pipeline: Pipeline, db: Db, plan: FindingsPlan, now: Date): Promise<unknown>[] {
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

export async function countFindings(db: Db): Promise<{ open: number; waived: number; byRule: Record<string, number> }> {
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

/** The counts a plan would leave behind, from the counts before it. */
function projectCounts(
  before: Awaited<ReturnType<typeof countFindings>>,
  changes: readonly FindingChange[],
): Awaited<ReturnType<typeof countFindings>> {
  const byRule = { ...before.byRule };
  let { open, waived } = before;
  for (const c of changes) {
    if (c.from === c.to) continue;
    if (c.from === 'open') {
      open--;
      byRule[c.rule] = (byRule[c.rule] ?? 1) - 1;
      if (byRule[c.rule] === 0) delete byRule[c.rule];
    }
    if (c.from === 'waived') waived--;
    if (c.to === 'open') {
      open++;
      byRule[c.rule] = (byRule[c.rule] ?? 0) + 1;
    }
    if (c.to === 'waived') waived++;
  }
  return { open, waived, byRule: Object.fromEntries(Object.entries(byRule).sort(([a], [b]) => a.localeCompare(b))) };
}

/** Keeps each item's count of applicable rules, which rollups divide open findings by. */
function addApplicable(pipeline: Pipeline, db: Db, applicable: Map<string, number>): Promise<unknown>[] {
  const sent: Promise<unknown>[] = [];
  for (const c of chunks([...applicable], 20_000)) {
    sent.push(
      pipeline.add(
        db.execute(sql`insert into item_checks (ref, rule_checks)
      select ref, n from jsonb_to_recordset(${JSON.stringify(c.map(([ref, n]) => ({ ref, n })))}::jsonb) as x(ref text, n int)
      on conflict (ref) do update set rule_checks = excluded.rule_checks
        where item_checks.rule_checks is distinct from excluded.rule_checks`),
      ),
    );
  }
  return sent;
}

/** Evaluates the rule set and writes the findings lifecycle; see FindingsSummary. */
export async function evaluateFindings(
  db: Db,
  ruleSet: RuleSet,
  opts: EvaluateFindingsOptions,
): Promise<FindingsSummary> {
  if (chunkable(ruleSet) && (opts.refs === undefined || (await coversMostItems(db, opts.refs)))) {
    return evaluateInChunks(db, ruleSet, opts);
  }
  const prepared = await prepareEvaluation(db, ruleSet, opts);
  const changes = prepared.plan.changes;
  const tally = createTally();
  tally.add(changes);
  tally.fail(prepared.failed);
  let counts: Awaited<ReturnType<typeof countFindings>>;
  if (opts.dryRun) counts = projectCounts(await countFindings(db), changes);
  else {
    await withPipeline(async (pipeline) => {
      addPlan(pipeline, db, prepared.plan, opts.now);
      addApplicable(pipeline, db, prepared.applicable);
    });
    counts = await countFindings(db);
  }
  return tally.summary(counts, prepared.evaluated, prepared.checks, prepared.ruleErrors);
}

/**
 * Whether an evaluation may run over part of the store at a time. TypeScript rules other than
 * the built-in ones get the whole item graph: they may look at any item.
 */
function chunkable(ruleSet: Pick<RuleSet, 'rules'>): boolean {
  return ruleSet.rules.every((r) => r.def.function === undefined || BUILT_IN_FUNCTIONS.has(r.def.function));
}

/**
 * Items evaluated between two turns of the event loop (see letIoRun): some 10 ms of work. Each
 * turn lets the driver take a step of the chunk writes' protocol (a copy in a savepoint takes four), and with
 * 1,000 items a slice the database waited half the evaluation for them (BENCHMARKS.md, 25).
 */
const EVAL_SLICE = 250;

/**
 * A first or full evaluation, chunk by chunk (items.ts `planEvaluationChunks`): each chunk's
 * trees and their linked context are loaded, evaluated and planned, and its writes go out while
 * the next chunk is read and evaluated. The findings each chunk plans are those of its own
 * refs, so the result is the one a single pass over every item would give.
 */
async function evaluateInChunks(db: Db, ruleSet: RuleSet, opts: EvaluateFindingsOptions): Promise<FindingsSummary> {
  const reader = opts.reader ?? db;
  const planned = await planEvaluationChunks(reader, opts.refs, opts.chunkItems, opts.owners);
  const load = { raw: ruleSet.rules.some(readsRaw) };
  const keep = keptRules(ruleSet);
  const tally = createTally();
  let evaluated = 0;
  let checks = 0;
  const errors: RuleErrors = new Map();
  let projected = opts.dryRun ? await countFindings(db) : null;
  const read = (chunk: EvaluationChunk) =>
    Promise.all([loadChunk(reader, chunk, planned, load), existingFindings(reader, chunk.evaluate)]);
  await withPipeline(async (pipeline) => {
    const { chunks: list } = planned;
    const writing: Promise<unknown>[][] = [];
    // Reads go through `reader`: on Postgres another connection, on PGlite the one connection
    // whose copies are single calls. Neither waits for the transaction's copies.
    let next = list.length > 0 ? pipeline.beside(read(list[0]!)) : null;
    for (let i = 0; i < list.length; i++) {
      const chunk = list[i]!;
      const [items, existing] = await next!;
      next = i + 1 < list.length ? pipeline.beside(read(list[i + 1]!)) : null;
      const graph = createItemGraph(items, opts.now, { ownerWork: planned.ownerWork });
      // A slice at a time, letting I/O run between slices: the last chunks' writes go on
      // reaching the database, and the next chunk's rows arriving, while this one is evaluated.
      const run: EvaluationRun = { results: [], checks: 0 };
      for (const slice of chunks(chunk.evaluate, opts.sliceItems ?? EVAL_SLICE)) {
        await letIoRun();
        const part = await evaluateItemsSliced(graph, ruleSet.rules, slice);
        for (const r of part.results) run.results.push(r);
        run.checks += part.checks;
        tally.fail(part.failed);
      }
      const { plan, applicable } = planRun(graph, run, existing, ruleSet.rules, { ...opts, keep });
      collectErrors(errors, run.results);
      tally.fail(plan.failed);
      evaluated += applicable.size;
      checks += run.checks;
      tally.add(plan.changes);
      if (projected) projected = projectCounts(projected, plan.changes);
      else {
        // At most two chunks' writes wait in the driver: they hold their rows' JSON until sent,
        // and a backlog of every chunk's took tens of megabytes while the database caught up.
        const sent = [...addPlan(pipeline, db, plan, opts.now), ...addApplicable(pipeline, db, applicable)];
        if (opts.onChunk)
          sent.push(
            ...(await opts.onChunk({
              graph,
              refs: chunk.evaluate,
              findings: findingsAfter(existing, plan),
              applicable,
              pipeline,
            })),
          );
        writing.push(sent);
        if (writing.length > 2) await Promise.all(writing.shift()!);
      }
    }
  });
  reportErrors(ruleSet, errors);
  return tally.summary(projected ?? (await countFindings(db)), evaluated, checks, errorSummary(errors));
}
