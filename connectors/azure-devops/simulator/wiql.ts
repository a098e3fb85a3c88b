// A small WIQL parser and evaluator for the subset pmo-sync generates (and a little more):
// SELECT fields FROM WorkItems [WHERE cond] [ORDER BY field [ASC|DESC], …], where cond combines
// comparisons (=, <>, >, >=, <, <=), [NOT] IN (…), AND, OR and parentheses; literals are strings,
// numbers and the @project / @today / @me macros.

export class WiqlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WiqlError';
  }
}

type Tok = { t: 'field' | 'word' | 'str' | 'num' | 'op' | 'macro'; v: string };

/** Friendly names WIQL accepts besides reference names. */
const ALIASES: Readonly<Record<string, string>> = {
  id: 'System.Id',
  title: 'System.Title',
  state: 'System.State',
  tags: 'System.Tags',
  'work item type': 'System.WorkItemType',
  'team project': 'System.TeamProject',
  'changed date': 'System.ChangedDate',
  'created date': 'System.CreatedDate',
  'assigned to': 'System.AssignedTo',
  'area path': 'System.AreaPath',
  'iteration path': 'System.IterationPath',
  priority: 'Microsoft.VSTS.Common.Priority',
};

export function canonicalField(name: string): string {
  return ALIASES[name.toLowerCase()] ?? name;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '[') {
      const j = src.indexOf(']', i);
      if (j < 0) throw new WiqlError('Expecting "]" to close a field name.');
      out.push({ t: 'field', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let v = '';
      for (;;) {
        if (j >= src.length) throw new WiqlError('Unterminated string literal.');
        if (src[j] === c && src[j + 1] === c) {
          v += c;
          j += 2;
        } else if (src[j] === c) break;
        else v += src[j++];
      }
      out.push({ t: 'str', v });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if ('<>=!'.includes(c)) {
      const two = src.slice(i, i + 2);
      const op = ['<>', '>=', '<=', '!='].includes(two) ? two : c;
      out.push({ t: 'op', v: op === '!=' ? '<>' : op });
      i += op.length;
    } else if ('(),'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
    } else if (c === '@') {
      const m = /^@\w+/.exec(src.slice(i))!;
      out.push({ t: 'macro', v: m[0].toLowerCase() });
      i += m[0].length;
    } else {
      const m = /^[\w.]+/.exec(src.slice(i));
      if (!m) throw new WiqlError(`Unexpected character "${c}" at position ${i}.`);
      out.push({ t: 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

export type Value = string | number;
export type Cond =
  | { k: 'and' | 'or'; a: Cond; b: Cond }
  | { k: 'cmp'; field: string; op: string; value: Value }
  | { k: 'in'; field: string; not: boolean; values: Value[] };

export interface WiqlQuery {
  select: string[];
  from: string;
  where: Cond | null;
  orderBy: { field: string; desc: boolean }[];
}

export interface WiqlContext {
  project?: string;
  me?: string;
  now: number;
}

export function parseWiql(src: string, ctx: WiqlContext): WiqlQuery {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const kw = (w: string) => peek()?.t === 'word' && peek()!.v.toLowerCase() === w;
  const expectKw = (w: string) => {
    if (!kw(w)) throw new WiqlError(`Expecting "${w.toUpperCase()}" at token ${p + 1}.`);
    p++;
  };
  const isOp = (v: string) => peek()?.t === 'op' && peek()!.v === v;
  const field = (): string => {
    const t = toks[p++];
    if (!t || (t.t !== 'field' && t.t !== 'word')) throw new WiqlError(`Expecting a field name at token ${p}.`);
    return canonicalField(t.v);
  };
  const value = (): Value => {
    const t = toks[p++];
    if (!t) throw new WiqlError('Expecting a value.');
    if (t.t === 'str') return t.v;
    if (t.t === 'num') return Number(t.v);
    if (t.t === 'macro') {
      if (t.v === '@project' && ctx.project) return ctx.project;
      if (t.v === '@today') return new Date(ctx.now).toISOString().slice(0, 10);
      if (t.v === '@me' && ctx.me) return ctx.me;
      throw new WiqlError(`The macro ${t.v} is not supported here.`);
    }
    throw new WiqlError(`Expecting a value at token ${p}.`);
  };
  const primary = (): Cond => {
    if (isOp('(')) {
      p++;
      const c = or();
      if (!isOp(')')) throw new WiqlError('Expecting ")".');
      p++;
      return c;
    }
    const f = field();
    let not = false;
    if (kw('not')) {
      p++;
      not = true;
    }
    if (kw('in')) {
      p++;
      if (!isOp('(')) throw new WiqlError('Expecting "(" after IN.');
      p++;
      const values = [value()];
      while (isOp(',')) {
        p++;
        values.push(value());
      }
      if (!isOp(')')) throw new WiqlError('Expecting ")" to close IN.');
      p++;
      return { k: 'in', field: f, not, values };
    }
    if (not) throw new WiqlError('Expecting IN after NOT.');
    const op = toks[p++];
    if (op?.t !== 'op' || !['=', '<>', '>', '>=', '<', '<='].includes(op.v)) {
      throw new WiqlError(`Expecting a comparison operator after [${f}].`);
    }
    return { k: 'cmp', field: f, op: op.v, value: value() };
  };
  const and = (): Cond => {
    let c = primary();
    while (kw('and')) {
      p++;
      c = { k: 'and', a: c, b: primary() };
    }
    return c;
  };
  const or = (): Cond => {
    let c = and();
    while (kw('or')) {
      p++;
      c = { k: 'or', a: c, b: and() };
    }
    return c;
  };

  expectKw('select');
  const select = [field()];
  while (isOp(',')) {
    p++;
    select.push(field());
  }
  expectKw('from');
  const from = toks[p++]?.v ?? '';
  if (from.toLowerCase() !== 'workitems')
    throw new WiqlError(`The simulator only supports FROM WorkItems, not "${from}".`);
  let where: Cond | null = null;
  if (kw('where')) {
    p++;
    where = or();
  }
  const orderBy: WiqlQuery['orderBy'] = [];
  if (kw('order')) {
    p++;
    expectKw('by');
    do {
      if (isOp(',')) p++;
      const f = field();
      let desc = false;
      if (kw('asc') || kw('desc')) desc = toks[p++]!.v.toLowerCase() === 'desc';
      orderBy.push({ field: f, desc });
    } while (isOp(','));
  }
  if (p < toks.length) throw new WiqlError(`Unexpected "${toks[p]!.v}" at token ${p + 1}.`);
  return { select, from, where, orderBy };
}

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}/;

/** Compares like WIQL: dates as instants (or days without time precision), text case-insensitively. */
export function compareValues(a: unknown, b: Value, timePrecision: boolean): number | null {
  if (a === undefined || a === null) return null;
  if (typeof b === 'number') {
    const n = typeof a === 'number' ? a : Number(a);
    return Number.isNaN(n) ? null : n - b;
  }
  if (typeof a === 'string' && DATE_LIKE.test(a) && DATE_LIKE.test(b)) {
    const day = (s: string) => Date.parse(`${s.slice(0, 10)}T00:00:00Z`);
    const x = timePrecision ? Date.parse(a) : day(a);
    const y = timePrecision ? Date.parse(b) : day(b);
    return x - y;
  }
  const sa = (typeof a === 'object' ? ((a as { uniqueName?: string }).uniqueName ?? '') : String(a)).toLowerCase();
  const sb = b.toLowerCase();
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function evaluate(c: Cond, get: (field: string) => unknown, timePrecision: boolean): boolean {
  switch (c.k) {
    case 'and':
      return evaluate(c.a, get, timePrecision) && evaluate(c.b, get, timePrecision);
    case 'or':
      return evaluate(c.a, get, timePrecision) || evaluate(c.b, get, timePrecision);
    case 'in': {
      const hit = c.values.some((v) => compareValues(get(c.field), v, timePrecision) === 0);
      return c.not ? !hit : hit;
    }
    case 'cmp': {
      const d = compareValues(get(c.field), c.value, timePrecision);
      if (d === null) return c.op === '<>';
      return { '=': d === 0, '<>': d !== 0, '>': d > 0, '>=': d >= 0, '<': d < 0, '<=': d <= 0 }[c.op] ?? false;
    }
  }
}
