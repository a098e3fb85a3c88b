// The sync's forecast step: histories from the trackers, the issues of the Jira boards teams are
// grouped by, then every forecast. A tracker whose history or board cannot be read is logged and
// the forecasts go on with what is stored.
import { max } from 'drizzle-orm';
import type { Connector } from '../../connectors/types.ts';
import type { Db } from '../../db/client.ts';
import { forecasts } from '../../db/schema.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { refreshBoards } from './boards.ts';
import { refreshBurnUps } from './burnup.ts';
import { refreshForecasts } from './compute.ts';
import { syncHistory } from './history.ts';

async function forecastedOn(db: Db): Promise<string | null> {
  const [row] = await db.select({ at: max(forecasts.computedAt) }).from(forecasts);
  return row?.at ? new Date(row.at).toISOString().slice(0, 10) : null;
}

export async function forecastStage(
  db: Db,
  opts: {
    changedRefs: string[] | undefined;
    now: Date;
    config: Config;
    connectors: ReadonlyMap<string, Connector>;
    log: Logger;
  },
): Promise<string[]> {
  const f = opts.config.forecast;
  let changes = opts.changedRefs === undefined ? 1 : opts.changedRefs.length;
  let histories = 0;
  for (const [id, connector] of opts.connectors) {
    try {
      const [summary] = await syncHistory(db, new Map([[id, connector]]), {
        now: opts.now,
        horizonDays: f.horizonDays,
        changedRefs: opts.changedRefs,
      });
      if (summary) {
        changes += summary.items;
        histories += summary.items;
        opts.log.info(summary, 'status history read');
      }
    } catch (err) {
      opts.log.warn(
        { connection: id, err: (err as Error).message },
        'status history could not be read; forecasts use what is stored',
      );
    }
  }
  // Boards teams are grouped by: read again when anything changed (an item may have joined or left
  // one), else only those never read.
  if (f.teams.some((t) => t.match.board !== undefined)) {
    const boards = await refreshBoards(db, opts.connectors, f.teams, {
      now: opts.now,
      log: opts.log,
      unreadOnly: changes === 0,
    });
    if (boards.read > 0) opts.log.info(boards, 'board issues read');
    changes += boards.changed;
  }
  // Histories moved while no item did: no rollup follows in this pass, and the burn-ups read them.
  if (histories > 0 && opts.changedRefs?.length === 0)
    await refreshBurnUps(db, { programs: opts.config.portfolio.programs, now: opts.now });
  // Nothing changed and today's forecasts are stored: they would come out the same.
  if (changes === 0 && (await forecastedOn(db)) === opts.now.toISOString().slice(0, 10)) return [];
  const r = await refreshForecasts(db, { now: opts.now, programs: opts.config.portfolio.programs, settings: f });
  opts.log.info(
    { scopes: r.scopes, simulated: r.simulated, teams: r.teams, moved: r.changedRefs.length },
    'forecasts refreshed',
  );
  return r.changedRefs;
}
