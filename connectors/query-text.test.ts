// The user's JQL/WIQL keeps every literal whole: only a top-level ORDER BY is dropped, and a
// WHERE inside a literal or a bracketed field name is not the query's WHERE.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sliceQuery } from './azure-devops/wiql.ts';
import { scopeJql } from './jira/read.ts';
import { findTopLevel, withoutOrderBy } from './query-text.ts';

/** Text a literal may hold, biased towards the words and quotes that confuse a naive reader. */
const literalText = fc
  .array(
    fc.oneof(
      fc.constantFrom('order by', 'ORDER  BY', 'Order\tBy', 'where', 'WHERE', ' ', '(', ')', '[', ']', 'x', 'é'),
      fc.constantFrom("'", '"', '\\'),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

/** A JQL string literal holding `text`: double or single quotes, backslash escapes. */
const jqlLiteral = (text: string, quote: '"' | "'") =>
  `${quote}${text.replace(/\\/g, '\\\\').replaceAll(quote, `\\${quote}`)}${quote}`;

/** A WIQL string literal holding `text`: a doubled quote stands for itself, backslash is plain. */
const wiqlLiteral = (text: string, quote: '"' | "'") => `${quote}${text.replaceAll(quote, quote + quote)}${quote}`;

describe('withoutOrderBy', () => {
  it('keeps JQL literals whole and drops only the top-level ORDER BY (property)', () => {
    fc.assert(
      fc.property(literalText, fc.constantFrom<'"' | "'">('"', "'"), fc.boolean(), (text, quote, ordered) => {
        const condition = `project = PAY AND summary ~ ${jqlLiteral(text, quote)}`;
        const jql = ordered ? `${condition} ORDER BY created DESC, key` : condition;
        expect(withoutOrderBy(jql, 'jql')).toEqual(condition);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps WIQL literals and bracketed names whole and drops only the top-level ORDER BY (property)', () => {
    fc.assert(
      fc.property(literalText, fc.constantFrom<'"' | "'">('"', "'"), fc.boolean(), (text, quote, ordered) => {
        const body = `SELECT [System.Id], [Custom.Order By] FROM WorkItems WHERE [System.Title] = ${wiqlLiteral(text, quote)}`;
        const wiql = ordered ? `${body} ORDER BY [System.ChangedDate] DESC` : body;
        expect(withoutOrderBy(wiql, 'wiql')).toEqual(body);
      }),
      { numRuns: 500 },
    );
  });

  it('reads the examples a regular expression got wrong', () => {
    expect(withoutOrderBy('summary ~ "order by date" ORDER BY key', 'jql')).toEqual('summary ~ "order by date"');
    expect(withoutOrderBy("labels = 'a\\'order by b' order by rank", 'jql')).toEqual("labels = 'a\\'order by b'");
    expect(withoutOrderBy('issue in linkedIssues("PAY-1", "order by") ORDER BY key', 'jql')).toEqual(
      'issue in linkedIssues("PAY-1", "order by")',
    );
    expect(withoutOrderBy("[System.Title] = 'it''s order by' ORDER BY [System.Id]", 'wiql')).toEqual(
      "[System.Title] = 'it''s order by'",
    );
    // A WIQL backslash is an ordinary character: the literal ends at the next quote.
    expect(withoutOrderBy("[System.Title] = 'C:\\' ORDER BY [System.Id]", 'wiql')).toEqual("[System.Title] = 'C:\\'");
    // Words that merely contain the keywords are not the keywords.
    expect(withoutOrderBy('reorder by = 1', 'jql')).toEqual('reorder by = 1');
    expect(withoutOrderBy('project = PAY', 'jql')).toEqual('project = PAY');
  });
});

describe('findTopLevel', () => {
  it('finds the WHERE of a WIQL, not one inside a bracketed name or literal', () => {
    const wiql = "SELECT [Custom.Where] FROM WorkItems WHERE [System.Title] = 'where' AND [System.Id] > 1";
    expect(findTopLevel(wiql, 'wiql', /where/i)).toEqual(wiql.indexOf('WHERE'));
    expect(findTopLevel('SELECT [System.Id] FROM WorkItems', 'wiql', /where/i)).toEqual(-1);
  });
});

describe('the connectors’ queries', () => {
  it('Jira keeps a scope literal that mentions ORDER BY', () => {
    expect(scopeJql({ jql: 'project = PAY AND summary ~ "order by priority" ORDER BY rank' })).toEqual(
      '(project = PAY AND summary ~ "order by priority")',
    );
  });

  it('Azure DevOps keeps a scope literal that mentions ORDER BY or WHERE', () => {
    expect(
      sliceQuery(
        {
          wiql: "SELECT [System.Id] FROM WorkItems WHERE [System.Title] CONTAINS 'where order by' ORDER BY [System.Title]",
        },
        { afterId: 7, changedSince: null },
      ),
    ).toEqual(
      "SELECT [System.Id] FROM WorkItems WHERE ([System.Title] CONTAINS 'where order by') AND [System.Id] > 7 ORDER BY [System.Id] ASC",
    );
  });
});
