// A baseline as of a past date, over both simulators: after date D an epic's target moved and a
// story moved to another epic in each tracker; `pmo-sync baseline create --as-of D` and the admin
// API's `?asOf=D` both record the target and the scope as they were at D (from the Jira changelog
// and the Azure DevOps revisions), while a baseline taken now records them as they are.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFlowPortfolio as seedAdo } from '../../connectors/azure-devops/simulator/flow.ts';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type FlowPlannedItem, planFlowPortfolio } from '../../connectors/flow-portfolio.ts';
import { seedFlowPortfolio as seedJira } from '../../connectors/jira/simulator/flow.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { baselineItems, baselines } from '../../db/schema.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/core/log.ts';
import { createApp } from '../../src/http/app.ts';
import { configDir, runCli } from '../helpers/cli.ts';
import { openIsolatedPostgres } from '../helpers/db.ts';
import { covers, postgresUrl } from '../helpers/targets.ts';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Where the CLI and the test meet: a PGlite folder beside the config, or a fresh Postgres database. */
const targets: { name: string; url: () => Promise<string> }[] = [];
if (covers('pglite')) targets.push({ name: 'pglite', url: async () => './db' });
const base = postgresUrl();
if (base) {
  targets.push({
    name: 'postgres',
    url: async () => {
      const db = await openIsolatedPostgres(base, { migrate: false });
      return db.url;
    },
  });
}

for (const target of targets) {
  describe(`a baseline as of a past date over both trackers on ${target.name}`, () => {
    let jira: JiraSimulator;
    let ado: AdoSimulator;
    let dir: string;
    let yaml: string;
    let database: Database;
    const asOf = day(Date.now() - 3 * DAY);
    // Per tracker: the epic whose target moves, the epic a story moves to, the story, the targets.
    const moves: Record<string, { epic: string; other: string; story: string; before: string; after: string }> = {};

    beforeAll(async () => {
      const now = Math.floor(Date.now() / DAY) * DAY;
      const plan = planFlowPortfolio({ teams: 2, epicsPerTeam: 6, weeksBack: 12, now, seed: 3 });
      jira = await startJiraSimulator();
      ado = await startAdoSimulator();
      const jiraKeys = seedJira(
        jira.store,
        jira.url,
        plan.filter((p) => p.team === 0),
        'FLOW',
      );
      const adoIds = seedAdo(
        ado.store,
        plan.filter((p) => p.team === 1),
        'Flow',
      );
      yaml = `
database: { url: "${await target.url()}" }
mode: dry-run
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: t-0001 }
    scope: { projects: [FLOW] }
    limits: { concurrency: 8, requestsPerSecond: 500 }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${ado.url}
    auth: { pat: pat-0001 }
    scope: { projects: [Flow] }
    limits: { concurrency: 8, requestsPerSecond: 500 }
`;
      dir = configDir(yaml);
      expect(await runCli(['sync'], { cwd: dir })).toMatchObject({ code: 0 });

      // After D, in each tracker: an open epic's target moves three weeks out, and a story of it
      // moves to another open epic of its team.
      const pick = (team: number) => {
        const open = plan.filter(
          (p) => p.kind === 'epic' && p.team === team && p.resolved === null && p.due && p.created < now - 4 * DAY,
        );
        const [epic, other] = open as [FlowPlannedItem, FlowPlannedItem];
        const story = plan.find((p) => p.parent === epic.id)!;
        return { epic, other, story, before: day(epic.due!), after: day(epic.due! + 21 * DAY) };
      };
      const j = pick(0);
      jira.store.updateIssue(jiraKeys.get(j.epic.id)!, { duedate: j.after });
      jira.store.updateIssue(jiraKeys.get(j.story.id)!, { parent: jiraKeys.get(j.other.id)! });
      moves.jira = {
        epic: `jira-main:${jiraKeys.get(j.epic.id)}`,
        other: `jira-main:${jiraKeys.get(j.other.id)}`,
        story: `jira-main:${jiraKeys.get(j.story.id)}`,
        before: j.before,
        after: j.after,
      };
      const a = pick(1);
      ado.store.update(adoIds.get(a.epic.id)!, {
        'Microsoft.VSTS.Scheduling.TargetDate': `${a.after}T00:00:00.000Z`,
      });
      ado.store.setParent(adoIds.get(a.story.id)!, adoIds.get(a.other.id)!);
      moves.ado = {
        epic: `ado-main:${adoIds.get(a.epic.id)}`,
        other: `ado-main:${adoIds.get(a.other.id)}`,
        story: `ado-main:${adoIds.get(a.story.id)}`,
        before: a.before,
        after: a.after,
      };
      expect(await runCli(['sync'], { cwd: dir })).toMatchObject({ code: 0 });
    });
    afterAll(async () => {
      await database?.close();
      await jira.close();
      await ado.close();
    });

    /** What a baseline recorded for the moved epics and the story: target, and whose scope holds the story. */
    async function recorded(name: string) {
      database ??= await openDatabase(parseConfig(yaml, { env: {} }).config.database.url, { cwd: dir });
      const [b] = await database.db.select().from(baselines).where(eq(baselines.name, name));
      const rows = await database.db.select().from(baselineItems).where(eq(baselineItems.baselineId, b!.id));
      const row = (ref: string) => rows.find((r) => r.ref === ref)!;
      return Object.fromEntries(
        Object.entries(moves).map(([tracker, m]) => [
          tracker,
          {
            target: row(m.epic).target,
            storyIn: [m.epic, m.other].filter((e) => row(e).scope.includes(m.story)),
          },
        ]),
      );
    }

    it('records the old target and the old scope through the CLI, and the new ones without --as-of', async () => {
      // Act
      const then = await runCli(['baseline', 'create', 'as-of-d', '--as-of', asOf], { cwd: dir });
      const now = await runCli(['baseline', 'create', 'today'], { cwd: dir });

      // Assert
      expect([then.code, now.code, then.stderr]).toEqual([0, 0, '']);
      expect(then.stdout).toMatch(new RegExp(`as of ${asOf}`));
      expect(await recorded('as-of-d')).toEqual({
        jira: { target: moves.jira!.before, storyIn: [moves.jira!.epic] },
        ado: { target: moves.ado!.before, storyIn: [moves.ado!.epic] },
      });
      expect(await recorded('today')).toEqual({
        jira: { target: moves.jira!.after, storyIn: [moves.jira!.other] },
        ado: { target: moves.ado!.after, storyIn: [moves.ado!.other] },
      });
    });

    it('records the same through the admin API, and slip against it shows the move', async () => {
      // Arrange
      database ??= await openDatabase(parseConfig(yaml, { env: {} }).config.database.url, { cwd: dir });
      const { config } = parseConfig(yaml, { env: {} });
      const app = createApp({ database, config, log: createLogger({ level: 'silent', pretty: false }) });
      const admin = await createToken(database.db, { scope: 'admin' });
      const auth = { headers: { Authorization: `Bearer ${admin.token}` } };

      // Act
      const taken = await app.request(`/api/v1/baselines?name=api-as-of-d&asOf=${asOf}`, { method: 'POST', ...auth });
      const slip = await app.request('/api/v1/baselines/api-as-of-d/slip', auth);

      // Assert
      expect([taken.status, slip.status]).toEqual([201, 200]);
      expect(((await taken.json()) as { asOf: string }).asOf.slice(0, 10)).toBe(asOf);
      expect(await recorded('api-as-of-d')).toEqual(await recorded('as-of-d'));
      const rows = ((await slip.json()) as { rows: { ref: string; targetSlipDays: number; removed: string[] }[] }).rows;
      for (const m of Object.values(moves))
        expect(rows.find((r) => r.ref === m.epic)).toMatchObject({ targetSlipDays: 21, removed: [m.story] });
    });
  });
}
