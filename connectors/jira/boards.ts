// The issues a Jira board shows, for teams grouped by board (`forecast.teams[].match.board`): a
// board is a saved filter, so its issues are that filter's JQL's. Three reads: the board's
// configuration (`GET /rest/agile/1.0/board/{id}/configuration`) names its filter, the filter
// (`GET /rest/api/3/filter/{id}`) gives the JQL, and enhanced search reads the keys it selects,
// 5,000 a page. A Kanban board's sub-filter is not applied: it hides released work, and finished
// work is exactly what throughput counts.
import { z } from 'zod';
import type { BoardIssues } from '../types.ts';
import { validateReply } from '../validate.ts';
import type { JiraConnection } from './config.ts';

export const JiraBoardConfiguration = z.looseObject({
  id: z.number(),
  filter: z.looseObject({ id: z.union([z.string(), z.number()]).transform(String) }),
});
export type JiraBoardConfiguration = z.infer<typeof JiraBoardConfiguration>;

export const JiraFilter = z.looseObject({ id: z.string(), jql: z.string() });
export type JiraFilter = z.infer<typeof JiraFilter>;

/**
 * The JQL's condition without its ORDER BY (a board's filter orders by rank; the keys are read in
 * key order, which pages cannot shift). An ORDER BY inside quotes is text, not the clause.
 */
export function whereOf(jql: string): string {
  let quote: string | null = null;
  let cut = jql.length;
  for (let i = 0; i < jql.length; i++) {
    const c = jql[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (/^order\s+by\b/i.test(jql.slice(i, i + 12)) && (i === 0 || /[\s)]/.test(jql[i - 1]!))) {
      cut = i;
      break;
    }
  }
  return jql.slice(0, cut).trim();
}

export function createJiraBoards(deps: {
  config: JiraConnection;
  getConfiguration: (boardId: number) => Promise<unknown>;
  getFilter: (id: string) => Promise<unknown>;
  keysMatching: (jql: string, opts?: { signal?: AbortSignal }) => Promise<string[]>;
}) {
  const { config } = deps;
  async function boardIssues(opts: { board: number; signal?: AbortSignal }): Promise<BoardIssues> {
    const board = validateReply(
      JiraBoardConfiguration,
      await deps.getConfiguration(opts.board),
      'GET board/{id}/configuration',
      { tracker: 'jira', connection: config.id },
    );
    const filter = validateReply(JiraFilter, await deps.getFilter(board.filter.id), 'GET filter/{id}', {
      tracker: 'jira',
      connection: config.id,
    });
    const where = whereOf(filter.jql);
    const keys = await deps.keysMatching(where ? `(${where}) ORDER BY key ASC` : 'ORDER BY key ASC', opts);
    return { jql: filter.jql, keys };
  }
  return { boardIssues };
}
