// Jira boards that configured teams are grouped by (forecast.teams[].match.board): the issues each
// shows, read from the tracker (its filter's JQL) and stored in board_issues, so every reader of
// team flow (the sync's forecasts, baselines, the backtest) groups items alike. A board that cannot
// be read keeps what was stored and the forecasts go on.
import { and, eq } from 'drizzle-orm';
import type { Connector } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import { boardIssues } from '../../db/schema.ts';
import type { ForecastTeam } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { makeRef } from '../core/work-item.ts';

export interface BoardsSummary {
  /** Boards read from the tracker this time. */
  read: number;
  /** Of those, boards whose issues differ from what was stored. */
  changed: number;
}

/** The boards the teams name, once each, by connection. */
function boardsOf(teams: readonly ForecastTeam[]): { connection: string; board: number }[] {
  const seen = new Map<string, { connection: string; board: number }>();
  for (const t of teams)
    if (t.match.board !== undefined && t.match.connection !== undefined)
      seen.set(`${t.match.connection}:${t.match.board}`, { connection: t.match.connection, board: t.match.board });
  return [...seen.values()];
}

/**
 * Reads the issues of every board the teams name and stores them; boards no team names any more
 * are forgotten. `unreadOnly`: read only boards never read (nothing changed since the last sync).
 */
export async function refreshBoards(
  db: Db,
  connectors: ReadonlyMap<string, Connector>,
  teams: readonly ForecastTeam[],
  opts: { now: Date; log: Logger; unreadOnly?: boolean },
): Promise<BoardsSummary> {
  const wanted = boardsOf(teams);
  const rows = await db.select().from(boardIssues);
  const stored = new Map(rows.map((r) => [`${r.connection}:${r.board}`, r.keys] as const));
  const keep = new Set(wanted.map((b) => `${b.connection}:${b.board}`));
  for (const r of rows)
    if (!keep.has(`${r.connection}:${r.board}`))
      await db.delete(boardIssues).where(and(eq(boardIssues.connection, r.connection), eq(boardIssues.board, r.board)));
  const summary: BoardsSummary = { read: 0, changed: 0 };
  for (const { connection, board } of wanted) {
    const before = stored.get(`${connection}:${board}`);
    if (opts.unreadOnly && before) continue;
    const connector = connectors.get(connection);
    if (!connector?.boardIssues) continue;
    try {
      const r = await connector.boardIssues({ board });
      const keys = [...new Set(r.keys)].sort();
      summary.read++;
      if (!before || before.length !== keys.length || before.some((k, i) => k !== keys[i])) summary.changed++;
      await db
        .insert(boardIssues)
        .values({ connection, board, jql: r.jql, keys, readAt: opts.now.toISOString() })
        .onConflictDoUpdate({
          target: [boardIssues.connection, boardIssues.board],
          set: { jql: r.jql, keys, readAt: opts.now.toISOString() },
        });
    } catch (err) {
      opts.log.warn(
        { connection, board, err: (err as Error).message },
        'board issues could not be read; its team keeps the issues read before',
      );
    }
  }
  return summary;
}

/** The boards each stored item is on, by ref, as last read. */
export async function boardsByRef(db: Db): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const r of await db.select().from(boardIssues))
    for (const key of r.keys) {
      const ref = makeRef(r.connection, key);
      const list = out.get(ref);
      if (list) list.push(r.board);
      else out.set(ref, [r.board]);
    }
  return out;
}
