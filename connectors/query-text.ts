// Finds keywords of a user's JQL or WIQL by reading it the way the tracker does: a keyword inside
// a string literal, a bracketed WIQL field name or a function's parentheses is text, not syntax.
// The connectors use it to drop the user's own ORDER BY (they impose the order paging relies on)
// and to splice conditions into a WIQL WHERE; a regular expression over the raw text cut
// `summary ~ "order by date"` in half.

/**
 * How literals are written. JQL: `"…"` or `'…'` with backslash escapes. WIQL: `'…'` or `"…"`
 * where a doubled quote stands for itself and a backslash is an ordinary character; field
 * names may be bracketed (`[Custom.Order By]`).
 */
export type QueryDialect = 'jql' | 'wiql';

const WORD = /[A-Za-z0-9_.]/;

/**
 * Index of the first occurrence of `keyword` (a sticky regular expression, matched
 * case-insensitively by the caller's flags) at the top level of `query`: outside literals,
 * brackets and parentheses, and not inside a longer word. -1 when there is none.
 */
export function findTopLevel(query: string, dialect: QueryDialect, keyword: RegExp): number {
  const re = new RegExp(keyword.source, `${keyword.flags.replace(/[gy]/g, '')}y`);
  let depth = 0;
  let i = 0;
  const n = query.length;
  while (i < n) {
    const ch = query[i]!;
    if (ch === '"' || ch === "'") {
      i = skipLiteral(query, i, dialect);
      continue;
    }
    if (dialect === 'wiql' && ch === '[') {
      const end = query.indexOf(']', i + 1);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && (i === 0 || !WORD.test(query[i - 1]!))) {
      re.lastIndex = i;
      const m = re.exec(query);
      if (m) {
        const after = query[i + m[0].length];
        if (after === undefined || !WORD.test(after)) return i;
      }
    }
    i++;
  }
  return -1;
}

/** Index just past the literal that opens at `start` (the end of the text when it is unclosed). */
function skipLiteral(query: string, start: number, dialect: QueryDialect): number {
  const quote = query[start]!;
  let i = start + 1;
  while (i < query.length) {
    const ch = query[i]!;
    if (dialect === 'jql' && ch === '\\') {
      i += 2;
      continue;
    }
    if (ch === quote) {
      if (dialect === 'wiql' && query[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return query.length;
}

const ORDER_BY = /order\s+by/i;

/** The query without its top-level ORDER BY clause (which runs to the end), trimmed. */
export function withoutOrderBy(query: string, dialect: QueryDialect): string {
  const at = findTopLevel(query, dialect, ORDER_BY);
  return (at < 0 ? query : query.slice(0, at)).trim();
}
