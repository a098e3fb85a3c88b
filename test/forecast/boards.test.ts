// Teams grouped by Jira board: the boards' issues read from the simulator and stored, read again
// only when asked, kept when a board cannot be read, forgotten when no team names it any more;
// and an item's team is the board's team once the board's issues are stored.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJiraConnector } from '../../connectors/jira/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from '../../connectors/jira/testing.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { boardIssues } from '../../db/schema.ts';
import { ForecastConfig } from '../../src/config/schema.ts';
import { refreshBoards } from '../../src/forecast/boards.ts';
import { loadFlowItems } from '../../src/forecast/compute.ts';
import { storeItems } from '../../src/sync/store.ts';
import { dbTargets } from '../helpers/db.ts';

for (const target of dbTargets()) {
  describe(`teams grouped by Jira board on ${target.name}`, () => {
    let database: Database;
    let sim: JiraSimulator;
    let connector: Connector;
    let board: { id: number; filterId: string };
    const now = new Date('2026-12-01T12:00:00Z');
    const warnings: Record<string, unknown>[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const teamsFor = (boardId: number) =>
      ForecastConfig.parse({ teams: [{ id: 'customers', match: { connection: 'jira-main', board: boardId } }] }).teams;

    beforeAll(async () => {
      database = await target.open();
      sim = await startJiraSimulator();
      sim.seedPortfolio({ epics: 3, storiesPerEpic: 5, seed: 2 });
      board = sim.store.addBoard({ name: 'Customers', jql: 'project = PAY AND labels = customer ORDER BY Rank' });
      connector = createJiraConnector({ config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: sim.url });
      await connector.pull({ cursor: null, onPage: async (page) => void (await storeItems(database.db, page)) });
    });
    afterAll(async () => {
      await connector.close();
      await sim.close();
      await database.close();
    });

    const customers = () =>
      sim.store
        .all()
        .filter((i) => (i.fields.labels as string[]).includes('customer'))
        .map((i) => `jira-main:${i.key}`)
        .sort();

    it("stores a board's issues and gives them its team", async () => {
      // Act
      const r = await refreshBoards(database.db, new Map([['jira-main', connector]]), teamsFor(board.id), {
        now,
        log,
      });
      const items = await loadFlowItems(database.db, { teams: teamsFor(board.id) });

      // Assert
      expect(r).toEqual({ read: 1, changed: 1 });
      expect(customers().length).toBeGreaterThan(0);
      expect(
        items
          .filter((i) => i.team === 'customers')
          .map((i) => i.ref)
          .sort(),
      ).toEqual(customers());
      expect(items.filter((i) => i.team !== 'customers').every((i) => i.team === 'jira-main:PAY')).toBe(true);
    });

    it('reads a board again only when asked, and a changed filter changes its issues', async () => {
      // Arrange
      sim.store.setFilterJql(board.filterId, 'project = PAY ORDER BY Rank');
      sim.resetCounts();

      // Act
      const quiet = await refreshBoards(database.db, new Map([['jira-main', connector]]), teamsFor(board.id), {
        now,
        log,
        unreadOnly: true,
      });
      const again = await refreshBoards(database.db, new Map([['jira-main', connector]]), teamsFor(board.id), {
        now,
        log,
      });

      // Assert
      expect([quiet, again]).toEqual([
        { read: 0, changed: 0 },
        { read: 1, changed: 1 },
      ]);
      expect(sim.requestCounts()['GET board/{id}/configuration']).toBe(1);
      const [row] = await database.db.select().from(boardIssues);
      expect(row!.keys.length).toBe(sim.store.size());
    });

    it('keeps what it read when a board cannot be read, and forgets boards no team names', async () => {
      // Arrange
      const teams = ForecastConfig.parse({
        teams: [
          { id: 'customers', match: { connection: 'jira-main', board: board.id } },
          { id: 'gone', match: { connection: 'jira-main', board: 404 } },
        ],
      }).teams;

      // Act
      const r = await refreshBoards(database.db, new Map([['jira-main', connector]]), teams, { now, log });
      const before = await database.db.select().from(boardIssues);
      await refreshBoards(database.db, new Map([['jira-main', connector]]), [], { now, log });
      const after = await database.db.select().from(boardIssues);

      // Assert
      expect(r).toEqual({ read: 1, changed: 0 });
      expect(warnings).toEqual([
        expect.objectContaining({
          connection: 'jira-main',
          board: 404,
          err: expect.stringMatching(/Board does not exist/),
          msg: 'board issues could not be read; its team keeps the issues read before',
        }),
      ]);
      expect(before.map((b) => b.board)).toEqual([board.id]);
      expect(after).toEqual([]);
    });
  });
}
