// A small JQL interpreter for the simulator: the clauses pmo-sync and its users' scopes use
// (project, key, type, status, statusCategory, labels, assignee, parent, created, updated, with
// AND/OR/NOT, IN, comparisons, EMPTY, relative and absolute dates) and ORDER BY. Anything else is
// a 400, as Jira answers an unknown field.
export interface JqlIssue {
  key: string;
  id: string;
  fields: Record<string, unknown>;
}

export type JqlPredicate = (issue: JqlIssue, nowMs: number) => boolean;

export interface JqlQuery {
  where: JqlPredicate;
  orderBy: { field: string; desc: boolean }[];
  /** A relative date (`updated >= -5m`) makes the result depend on the clock, not only on the issues. */
  relative: boolean;
}

export class JqlError extends Error {}

type Tok = { t: 'word' | 'str' | 'op' | 'lp' | 'rp' | 'comma'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(!=|>=|<=|=|>|<|~)|(\()|(\))|(,)|([^\s=!<>~(),"']+)|(\S)/g;
  for (const m of src.matchAll(re)) {
    if (m[1] !== undefined || m[2] !== undefined) out.push({ t: 'str', v: (m[1] ?? m[2]!).replace(/\\(.)/g, '$1') });
    else if (m[3]) out.push({ t: 'op', v: m[3] });
    else if (m[4]) out.push({ t: 'lp', v: '(' });
    else if (m[5]) out.push({ t: 'rp', v: ')' });
    else if (m[6]) out.push({ t: 'comma', v: ',' });
    else if (m[7]) out.push({ t: 'word', v: m[7] });
    else throw new JqlError(`Error in the JQL Query: unexpected character '${m[8]}'.`);
  }
  return out;
}

const ALIASES: Record<string, string> = { issuekey: 'key', type: 'issuetype', id: 'key' };

/** The value of a field as JQL compares it: names for objects, timestamps as ms. */
export function jqlValue(issue: JqlIssue, field: string): unknown {
  const f = issue.fields;
  switch (field) {
    case 'key':
      return issue.key;
    case 'project':
      return (f.project as { key?: string } | undefined)?.key ?? null;
    case 'issuetype':
      return (f.issuetype as { name?: string } | undefined)?.name ?? null;
    case 'status':
      return (f.status as { name?: string } | undefined)?.name ?? null;
    case 'statuscategory':
      return (
        (f.status as { statusCategory?: { name?: string; key?: string } } | undefined)?.statusCategory?.key ?? null
      );
    case 'assignee':
      return (f.assignee as { accountId?: string } | null | undefined)?.accountId ?? null;
    case 'parent':
      return (f.parent as { key?: string } | null | undefined)?.key ?? null;
    case 'labels':
      return f.labels ?? [];
    case 'created':
    case 'updated':
      return typeof f[field] === 'string' ? Date.parse(String(f[field]).replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : null;
    default:
      throw new JqlError(`Field '${field}' does not exist or you do not have permission to view it.`);
  }
}

const RELATIVE_DATE = /^([+-])?(\d+)([mhdw])$/;

function dateValue(v: string, nowMs: number): number {
  const rel = RELATIVE_DATE.exec(v.trim());
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[3] as 'm' | 'h' | 'd' | 'w'];
    return nowMs + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * unit;
  }
  const abs = /^(\d{4})[-/](\d{2})[-/](\d{2})(?:\s+(\d{2}):(\d{2}))?$/.exec(v.trim());
  // The simulator's users all live in UTC.
  if (abs) return Date.UTC(+abs[1]!, +abs[2]! - 1, +abs[3]!, +(abs[4] ?? 0), +(abs[5] ?? 0));
  throw new JqlError(`Date value '${v}' for field is invalid.`);
}

function compare(actual: unknown, op: string, expected: string | null, field: string, nowMs: number): boolean {
  if (Array.isArray(actual)) {
    const any = actual.some((a) => compare(a, '=', expected, field, nowMs));
    return op === '!=' ? !any : any;
  }
  if (expected === null) return op === '=' ? actual === null : actual !== null;
  if (field === 'created' || field === 'updated') {
    if (actual === null) return false;
    const a = actual as number;
    const e = dateValue(expected, nowMs);
    return { '=': a === e, '!=': a !== e, '>=': a >= e, '<=': a <= e, '>': a > e, '<': a < e }[op] ?? false;
  }
  const eq = String(actual ?? '').toLowerCase() === expected.toLowerCase();
  if (op === '=') return eq;
  if (op === '!=') return !eq;
  throw new JqlError(`The operator '${op}' is not supported by the '${field}' field.`);
}

export function parseJql(src: string): JqlQuery {
  const toks = tokenize(src);
  let i = 0;
  let relative = false;
  const noteDate = (field: string, v: string | null) => {
    if ((field === 'created' || field === 'updated') && v !== null && RELATIVE_DATE.test(v.trim())) relative = true;
  };
  const peek = () => toks[i];
  const word = (w: string) => peek()?.t === 'word' && peek()!.v.toLowerCase() === w;
  const next = () => {
    const t = toks[i++];
    if (!t) throw new JqlError('Error in the JQL Query: unexpected end of the query.');
    return t;
  };
  const value = (): string | null => {
    const t = next();
    if (t.t !== 'word' && t.t !== 'str')
      throw new JqlError(`Error in the JQL Query: expecting a value but got '${t.v}'.`);
    return t.t === 'word' && /^(empty|null)$/i.test(t.v) ? null : t.v;
  };

  const clause = (): JqlPredicate => {
    const ft = next();
    const field = ALIASES[ft.v.toLowerCase()] ?? ft.v.toLowerCase();
    jqlValue({ key: 'X-1', id: '1', fields: {} }, field); // throws for unknown fields
    if (word('is')) {
      i++;
      const not = word('not');
      if (not) i++;
      value();
      return (issue) => {
        const v = jqlValue(issue, field);
        const empty = v === null || (Array.isArray(v) && v.length === 0);
        return not ? !empty : empty;
      };
    }
    let negate = false;
    if (word('not')) {
      i++;
      negate = true;
    }
    if (word('in')) {
      i++;
      if (next().t !== 'lp') throw new JqlError("Error in the JQL Query: expecting '(' after 'in'.");
      const list: (string | null)[] = [];
      for (;;) {
        const v = value();
        noteDate(field, v);
        list.push(v);
        const t = next();
        if (t.t === 'rp') break;
        if (t.t !== 'comma') throw new JqlError("Error in the JQL Query: expecting ',' or ')'.");
      }
      return (issue, now) => {
        const hit = list.some((v) => compare(jqlValue(issue, field), '=', v, field, now));
        return negate ? !hit : hit;
      };
    }
    const op = next();
    if (op.t !== 'op') throw new JqlError(`Error in the JQL Query: expecting an operator after '${ft.v}'.`);
    const v = value();
    noteDate(field, v);
    return (issue, now) => compare(jqlValue(issue, field), op.v, v, field, now);
  };

  const unary = (): JqlPredicate => {
    if (word('not')) {
      i++;
      const inner = unary();
      return (x, n) => !inner(x, n);
    }
    if (peek()?.t === 'lp') {
      i++;
      const inner = or();
      if (next().t !== 'rp') throw new JqlError("Error in the JQL Query: expecting ')'.");
      return inner;
    }
    return clause();
  };
  const and = (): JqlPredicate => {
    const parts = [unary()];
    while (word('and')) {
      i++;
      parts.push(unary());
    }
    return (x, n) => parts.every((p) => p(x, n));
  };
  const or = (): JqlPredicate => {
    const parts = [and()];
    while (word('or')) {
      i++;
      parts.push(and());
    }
    return (x, n) => parts.some((p) => p(x, n));
  };

  const where: JqlPredicate = word('order') ? () => true : or();
  const orderBy: JqlQuery['orderBy'] = [];
  if (word('order')) {
    i++;
    if (!word('by')) throw new JqlError("Error in the JQL Query: expecting 'by' after 'order'.");
    i++;
    for (;;) {
      const f = next().v.toLowerCase();
      const field = ALIASES[f] ?? f;
      let desc = false;
      if (word('asc') || word('desc')) desc = next().v.toLowerCase() === 'desc';
      orderBy.push({ field, desc });
      if (peek()?.t !== 'comma') break;
      i++;
    }
  }
  if (i < toks.length) throw new JqlError(`Error in the JQL Query: unexpected '${toks[i]!.v}'.`);
  return { where, orderBy, relative };
}

/** Sort key for ORDER BY; `key` sorts by project, then number, as Jira does. */
export function sortValue(issue: JqlIssue, field: string): (string | number)[] {
  if (field === 'key') {
    const [p, n] = issue.key.split('-');
    return [p ?? '', Number(n ?? 0)];
  }
  const v = jqlValue(issue, field);
  return [typeof v === 'number' ? v : String(v ?? ''), Number(issue.id)];
}
