// Forecasts end to end over both simulators, seeded with the flow portfolio: the first sync
// backfills status history from Jira's changelog and Azure DevOps's revisions, stores a forecast
// for every open epic, opens forecast-on-time findings and writes the forecast fields once; a
// second sync over unchanged trackers writes nothing.
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFlowPortfolio as seedAdo } from '../../connectors/azure-devops/simulator/flow.ts';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { planFlowPortfolio } from '../../connectors/flow-portfolio.ts';
import { createConnectors } from '../../connectors/index.ts';
import { seedFlowPortfolio as seedJira } from '../../connectors/jira/simulator/flow.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import type { Connector } from '../../connectors/types.ts';
import type { Database } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import {
  boardIssues,
  findings,
  forecasts,
  historyCursors,
  itemHistory,
  teamFlow,
  writeAudit,
} from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { buildSyncPipeline } from '../../src/sync/pipeline.ts';
import { runSync } from '../../src/sync/run.ts';
import { dbTargets } from '../helpers/db.ts';

const DAY = 86_400_000;

for (const target of dbTargets()) {
  describe(`forecasts over both trackers on ${target.name}`, () => {
    let database: Database;
    let jira: JiraSimulator;
    let ado: AdoSimulator;
    let config: Config;
    let connectors: Map<string, Connector>;
    let sync: (opts?: Parameters<typeof runSync>[1]) => ReturnType<typeof runSync>;
    let openEpics: number;
    let plan: ReturnType<typeof planFlowPortfolio>;
    beforeAll(async () => {
      database = await target.open();
      // The simulators' clock is the wall clock: the portfolio ends at "now", rounded to a day.
      const now = Math.floor(Date.now() / DAY) * DAY;
      plan = planFlowPortfolio({ teams: 3, epicsPerTeam: 6, weeksBack: 24, now, seed: 5 });
      openEpics = plan.filter((p) => p.kind === 'epic' && p.resolved === null).length;
      jira = await startJiraSimulator();
      ado = await startAdoSimulator();
      seedJira(
        jira.store,
        jira.url,
        plan.filter((p) => p.team < 2),
        'FLOW',
      );
      seedAdo(
        ado.store,
        plan.filter((p) => p.team === 2),
        'Flow',
      );
      // The second Jira team is its board: the board's filter selects its issues.
      const board = jira.store.addBoard({
        name: 'Team two',
        jql: 'project = FLOW AND labels = team-2 ORDER BY Rank ASC',
      });
      ({ config } = parseConfig(
        `
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: t-0001 }
    scope: { projects: [FLOW] }
    writeback: { comment: true, labels: true, fields: { forecastP85: customfield_10400, forecastOnTime: customfield_10401 } }
    limits: { concurrency: 8, requestsPerSecond: 500 }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${ado.url}
    auth: { pat: pat-0001 }
    scope: { projects: [Flow] }
    writeback: { comment: true, tags: true, fields: { forecastP85: Custom.ForecastP85, forecastOnTime: Custom.OnTimeProbability } }
    limits: { concurrency: 8, requestsPerSecond: 500 }
rules:
  overrides:
    forecast-on-time: { params: { threshold: 0.6 } }
forecast:
  teams:
    - { id: flow-one, match: { connection: jira-main, label: team-1 } }
    - { id: flow-two, match: { connection: jira-main, board: ${board.id} } }
`,
        { env: {} },
      ));
      const log = createLogger({ level: 'silent', pretty: false });
      connectors = createConnectors(config.connections, { log });
      const pipeline = await buildSyncPipeline({ config, cwd: process.cwd(), log, database, connectors });
      sync = (opts) => runSync({ database, config, connectors, log, pipeline }, opts);
    });
    afterAll(async () => {
      for (const c of connectors.values()) await c.close();
      await jira.close();
      await ado.close();
      await database.close();
    });

    const fieldWrites = async () =>
      (
        await queryRows<{ ref: string; n: number }>(
          database.db,
          sql`select ref, count(*)::int as n from ${writeAudit} where target = 'fields' group by ref`,
        )
      ).map((r) => ({ ref: r.ref, n: Number(r.n) }));

    it('backfills history, stores forecasts, fires the rule and writes the fields once', async () => {
      // Act
      const s = await sync();

      // Assert: history from both trackers, within the 180-day horizon.
      expect(s.connections.map((c) => c.status)).toEqual(['ok', 'ok']);
      const cursors = await database.db.select({ c: historyCursors.connection }).from(historyCursors);
      expect(cursors.map((c) => c.c).sort()).toEqual(['ado-main', 'jira-main']);
      const histories = await queryRows<{ connection: string; n: number }>(
        database.db,
        sql`select connection, count(*)::int as n from ${itemHistory} where jsonb_array_length(transitions) > 0 group by connection order by connection`,
      );
      expect(histories.map((h) => h.connection)).toEqual(['ado-main', 'jira-main']);
      // Every open epic has a forecast; most have dates (some have no history yet).
      const epics = await database.db.select().from(forecasts).where(eq(forecasts.kind, 'epic'));
      expect(epics.length).toBe(openEpics);
      expect(epics.filter((f) => f.p85 !== null).length).toBeGreaterThan(openEpics / 2);
      for (const f of epics) if (f.p85 === null) expect(f.confidence).toBe('low');
      const scopes = (await database.db.select({ s: forecasts.scope }).from(forecasts)).map((r) => r.s);
      expect(scopes).toEqual(expect.arrayContaining(['project:jira-main:FLOW', 'project:ado-main:Flow']));
      // Throughput per team: the two configured Jira teams (one project, told apart by a label and
      // by a board) and the Azure DevOps team by its area path.
      const teams = (await database.db.select({ t: teamFlow.team }).from(teamFlow)).map((r) => r.t).sort();
      expect(teams).toEqual(['Flow\\Team 3', 'flow-one', 'flow-two']);
      const [onBoard] = await database.db.select().from(boardIssues);
      expect(onBoard?.keys.length).toBe(plan.filter((p) => p.team === 1).length);
      const twoDone = plan.filter((p) => p.team === 1 && p.kind === 'story' && p.resolved !== null).length;
      const flowTwo = (await database.db.select().from(teamFlow).where(eq(teamFlow.team, 'flow-two')))[0]!;
      expect(flowTwo.weeks.reduce((a, w) => a + w.items, 0)).toBeGreaterThan(0);
      expect(flowTwo.weeks.reduce((a, w) => a + w.items, 0)).toBeLessThanOrEqual(twoDone);
      // The rule fired on the epics the forecast says will be late, and only on them.
      const late = epics
        .filter((f) => f.publishedOnTime !== null && f.publishedOnTime < 0.6)
        .map((f) => f.scope.slice(5));
      const fired = (
        await database.db
          .select({ ref: findings.ref })
          .from(findings)
          .where(and(eq(findings.rule, 'forecast-on-time'), eq(findings.status, 'open')))
      ).map((r) => r.ref);
      expect(late.length).toBeGreaterThan(0);
      expect(fired.sort()).toEqual(late.sort());
      // Fields written once per forecast epic, with the rounded values.
      const writes = await fieldWrites();
      expect(writes.length).toBeGreaterThan(0);
      expect(writes.every((w) => w.n === 1)).toBe(true);
      const jiraEpic = epics.find((f) => f.scope.startsWith('epic:jira-main:') && f.publishedP85 !== null)!;
      const issue = jira.store.getIssue(jiraEpic.scope.split(':')[2]!)!;
      expect({ p85: issue.fields.customfield_10400, onTime: issue.fields.customfield_10401 }).toEqual({
        p85: jiraEpic.publishedP85,
        onTime: Math.round(jiraEpic.publishedOnTime! * 100),
      });
      expect(s.writes.failed).toBe(0);
    });

    it('a second sync over unchanged trackers writes nothing', async () => {
      // Arrange
      const before = await fieldWrites();
      const stored = await database.db.select().from(forecasts);

      // Act
      const s = await sync();

      // Assert
      expect({ planned: s.writes.planned, sent: s.writes.sent }).toEqual({ planned: 0, sent: 0 });
      expect(await fieldWrites()).toEqual(before);
      const again = await database.db.select().from(forecasts);
      const strip = (rows: typeof stored) =>
        rows.map(({ computedAt: _c, ...r }) => r).sort((a, b) => a.scope.localeCompare(b.scope));
      expect(strip(again)).toEqual(strip(stored));
    });

    it('reads again only the history of what changed, in one request per tracker', async () => {
      // Arrange: one open Jira story and one open Azure DevOps story are finished by people.
      const open = await queryRows<{ ref: string; connection: string; key: string }>(
        database.db,
        sql`select ref, connection, key from work_items where kind = 'story' and status_category <> 'done' order by ref`,
      );
      const j = open.find((r) => r.connection === 'jira-main')!;
      const a = open.find((r) => r.connection === 'ado-main')!;
      jira.store.updateIssue(j.key, { status: 'Done' });
      ado.store.update(Number(a.key), { 'System.State': 'Closed' });
      jira.resetCounts();
      ado.resetCounts();

      // Act: with a progress display listening, as on a terminal.
      const s = await sync({ onProgress: () => {} });

      // Assert: every read Jira is sent (the writes are the forecast fields'). The pull's window
      // covers every seeded issue, so it is two search pages and one count for the display's
      // total; it reads the changelog of the done issue for its start date, and the history read
      // reads it once more (the status list the first sync read still serves). Something changed,
      // so the board is read again (an item may have joined or left it): its configuration,
      // filter and one page of keys.
      // The revisions stream is read past its watermark.
      expect(s.connections.map((c) => c.itemsChanged)).toEqual([1, 1]);
      const reads = Object.entries(jira.requestCounts()).filter(([label]) => /^(GET|POST) (?!issue\/)/.test(label));
      expect(Object.fromEntries(reads)).toEqual({
        'POST search/jql': 3,
        'POST search/approximate-count': 1,
        'POST changelog/bulkfetch': 2,
        'GET board/{id}/configuration': 1,
        'GET filter/{id}': 1,
      });
      expect(ado.requestCounts()['GET wit/reporting/workitemrevisions']).toBe(1);
      const h = await database.db
        .select({ ref: itemHistory.ref, transitions: itemHistory.transitions })
        .from(itemHistory)
        .where(sql`${itemHistory.ref} in (${j.ref}, ${a.ref})`);
      expect(h.map((r) => r.transitions.at(-1)![1])).toEqual(['d', 'd']);
    });

    it('takes a baseline over the admin API and shows slip and scope change against it', async () => {
      // Arrange
      const app = createApp({ database, config, log: createLogger({ level: 'silent', pretty: false }) });
      const admin = await createToken(database.db, { scope: 'admin' });
      const read = await createToken(database.db, { scope: 'read' });
      const as = (t: { token: string }) => ({ headers: { Authorization: `Bearer ${t.token}` } });
      const taken = await app.request('/api/v1/baselines?name=Q1', { method: 'POST', ...as(admin) });
      const refused = await app.request('/api/v1/baselines?name=Q2', { method: 'POST', ...as(read) });
      const epic = (await database.db.select().from(forecasts).where(eq(forecasts.kind, 'epic'))).find(
        (f) => f.scope.startsWith('epic:jira-main:') && f.target !== null,
      )!;
      const key = epic.scope.split(':')[2]!;
      const later = new Date(Date.parse(`${epic.target}T00:00:00Z`) + 14 * DAY).toISOString().slice(0, 10);
      jira.store.updateIssue(key, { duedate: later });
      const story = jira.store.createIssue({ project: 'FLOW', issuetype: 'Story', summary: 'New scope', parent: key });
      await sync();

      // Act
      const slip = await app.request('/api/v1/baselines/Q1/slip', as(read));
      const missing = await app.request('/api/v1/baselines/nope/slip', as(read));

      // Assert
      expect([taken.status, refused.status, slip.status, missing.status]).toEqual([201, 403, 200, 404]);
      expect(((await taken.json()) as { epics: number }).epics).toBe(openEpics);
      const body = (await slip.json()) as { rows: { ref: string; targetSlipDays: number | null; added: string[] }[] };
      expect(body.rows.find((r) => r.ref === `jira-main:${key}`)).toMatchObject({
        targetSlipDays: 14,
        added: [`jira-main:${story.key}`],
      });
    });
  });
}
