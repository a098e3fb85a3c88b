// The rollout every user is told to follow — dry run first, then enforce — through the real CLI
// against both simulators: a dry run plans exactly what the enforce run after it sends, however
// many dry runs came before and whether or not the items changed in between, and a dry run never
// keeps a later enforce run from sending.

import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AdoSimulator, startAdoSimulator } from '../../connectors/azure-devops/simulator/index.ts';
import { type JiraSimulator, startJiraSimulator } from '../../connectors/jira/simulator/index.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { queryRows } from '../../db/query.ts';
import { configDir, runCli } from '../helpers/cli.ts';
import { covers, openIsolatedPostgres, postgresUrl } from '../helpers/db.ts';

const env = { JIRA_API_TOKEN: 'dry-jira-token', ADO_PAT: 'dry-ado-pat' };

interface Reviewed {
  ref: string;
  target: string;
  action: string;
  change: string;
  commentText: string | null;
  commentDiff: string[];
  labels: { add: string[]; remove: string[] } | null;
}

interface Write {
  ref: string;
  target: string;
  hash: string;
}

/** A database URL for the CLI, and how to drop it once the test is done. */
const targets: { name: string; url: () => Promise<{ url: string; drop: () => Promise<void> }> }[] = [];
if (covers('pglite')) targets.push({ name: 'pglite', url: async () => ({ url: './db', drop: async () => {} }) });
const pgUrl = postgresUrl();
if (pgUrl) {
  targets.push({
    name: 'postgres',
    url: async () => {
      const db = await openIsolatedPostgres(pgUrl);
      // The CLI opens its own connections; this one only made the database, and drops it.
      return { url: db.url, drop: () => db.close() };
    },
  });
}

for (const target of targets) {
  describe(`dry run, then enforce, on ${target.name}`, () => {
    let jira: JiraSimulator;
    let ado: AdoSimulator;
    let dir: string;
    let dbUrl: string;
    let dropDb: () => Promise<void>;

    const sync = async (...args: string[]) => {
      const r = await runCli(['sync', '--json', ...args], { cwd: dir, env });
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      return JSON.parse(r.stdout) as { mode: string; writes: { planned: number; sent: number; failed: number } };
    };
    /** Reads the database between CLI runs (PGlite allows one process at a time: closed after). */
    const query = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>): Promise<T[]> => {
      const database: Database = await openDatabase(dbUrl, { cwd: dir });
      try {
        return await queryRows<T>(database.db, q);
      } finally {
        await database.close();
      }
    };
    const plannedWrites = () =>
      query<Write & Record<string, unknown>>(
        sql`select ref, target, desired_hash as hash from write_outbox where status = 'planned' order by ref, target`,
      );
    const sentSince = (id: number) =>
      query<Write & Record<string, unknown>>(
        sql`select ref, target, desired_hash as hash from write_outbox
            where status = 'done' and id > ${id} order by ref, target`,
      );
    const lastOutboxId = async () =>
      Number((await query<{ n: number }>(sql`select coalesce(max(id), 0)::int as n from write_outbox`))[0]!.n);
    const botComments = () =>
      jira.store
        .all()
        .reduce((n, i) => n + i.comments.filter((c) => c.author.accountId === jira.me.accountId).length, 0) +
      [...ado.store.items.values()].reduce(
        (n, w) => n + w.comments.filter((c) => !c.isDeleted && c.createdBy.id === ado.identity.id).length,
        0,
      );
    /** An open Jira story with an assignee: unassigning it opens a finding, so its comment changes. */
    const assignedStory = () =>
      jira.store
        .all()
        .find(
          (i) =>
            (i.fields.issuetype as { name: string }).name === 'Story' &&
            (i.fields.status as { statusCategory: { key: string } }).statusCategory.key !== 'done' &&
            i.fields.assignee,
        )!;

    // Each test gets its own trackers, database and config directory: what one test's runs
    // planned or sent is never another's starting point.
    beforeEach(async () => {
      jira = await startJiraSimulator();
      ado = await startAdoSimulator();
      jira.seedPortfolio({
        projects: ['PAY'],
        epics: 3,
        storiesPerEpic: 4,
        bugsPerEpic: 1,
        violationRate: 0.4,
        seed: 21,
      });
      ado.addProject('Payments', 'Agile');
      ado.seedPortfolio({
        process: 'Agile',
        project: 'Payments',
        epics: 2,
        featuresPerEpic: 2,
        storiesPerFeature: 3,
        seed: 22,
      });
      ({ url: dbUrl, drop: dropDb } = await target.url());
      dir = configDir(`
database: { url: "${dbUrl}" }
mode: enforce
connections:
  - id: jira-main
    kind: jira
    baseUrl: ${jira.url}
    auth: { email: pmo-bot@example.com, apiToken: \${JIRA_API_TOKEN} }
    scope: { projects: [PAY] }
    writeback: { comment: true, labels: true }
  - id: ado-main
    kind: azure-devops
    orgUrl: ${ado.url}
    auth: { pat: \${ADO_PAT} }
    scope: { projects: [Payments] }
    writeback: { comment: true, tags: true }
`);
    });
    afterEach(async () => {
      await jira.close();
      await ado.close();
      await dropDb();
    });

    it('sends what the last of several dry runs planned, then nothing', async () => {
      const first = await sync('--dry-run');
      expect(first.mode).toBe('dry-run');
      expect(first.writes.sent).toBe(0);
      expect(first.writes.planned).toBeGreaterThan(10);
      expect(botComments()).toBe(0);

      // A second dry run over the same trackers plans the same writes, and says so.
      const second = await sync('--dry-run');
      expect(second.writes).toEqual({ ...first.writes });
      const planned = await plannedWrites();
      expect(planned).toHaveLength(second.writes.planned);

      const before = await lastOutboxId();
      const enforce = await sync();
      expect(enforce.mode).toBe('enforce');
      expect({ sent: enforce.writes.sent, failed: enforce.writes.failed }).toEqual({
        sent: second.writes.planned,
        failed: 0,
      });
      expect(await sentSince(before)).toEqual(planned);
      expect(await plannedWrites()).toEqual([]);
      expect(botComments()).toBeGreaterThan(0);

      const again = await sync();
      expect({ planned: again.writes.planned, sent: again.writes.sent }).toEqual({ planned: 0, sent: 0 });
    });

    it('plans, after a change between dry runs, what the enforce run then sends on that state', async () => {
      // Enforced once already, so the comments posted then show up as changes.
      const first = await sync();
      expect(first.writes.sent).toBeGreaterThan(0);
      // A person breaks one story (its assignee goes) and fixes another flagged one between runs.
      const dry1 = await sync('--dry-run');
      const unassign = assignedStory();
      jira.store.updateIssue(unassign.key, { assignee: null });
      const dry2 = await sync('--dry-run');
      expect(dry2.writes.planned).toBeGreaterThanOrEqual(dry1.writes.planned);
      const planned = await plannedWrites();
      expect(planned.map((w) => w.ref)).toContain(`jira-main:${unassign.key}`);
      // What a PMO reviews before enforcing: every planned write, with its text and its change.
      const review = await runCli(['report', '--writes', '--format', 'json'], { cwd: dir, env });
      expect({ code: review.code, stderr: review.stderr }).toEqual({ code: 0, stderr: '' });
      const writes = (JSON.parse(review.stdout) as { writes: Reviewed[] }).writes;
      expect(writes.map((w) => [w.ref, w.target]).sort()).toEqual(planned.map((w) => [w.ref, w.target]).sort());
      const open = await query<{ ref: string; message: string }>(
        sql`select ref, message from findings where status = 'open'`,
      );
      for (const w of writes.filter((x) => x.target === 'comment' && x.action === 'ensure')) {
        for (const f of open.filter((o) => o.ref === w.ref)) expect(w.commentText).toContain(f.message);
        // A comment the first enforce run posted is shown as the lines that change.
        if (w.change === 'changed') expect(w.commentDiff.length).toBeGreaterThan(0);
      }
      expect(writes.some((w) => w.target === 'comment' && w.change === 'changed')).toBe(true);
      const unassigned = writes.find((w) => w.ref === `jira-main:${unassign.key}` && w.target === 'comment')!;
      expect(unassigned.commentText).toMatch(/\S/);
      for (const w of writes.filter((x) => x.target === 'labels')) expect(w.labels).not.toBeNull();
      const table = await runCli(['report', '--writes'], { cwd: dir, env });
      expect(table.stdout).toContain(`planned  jira-main:${unassign.key}  comment`);
      const csv = await runCli(['report', '--writes', '--format', 'csv'], { cwd: dir, env });
      expect(csv.stdout.split('\r\n')[0]).toMatch(/^id,connection,ref,target,status,change,action,commentText,/);
      const before = await lastOutboxId();
      const enforce = await sync();
      expect(enforce.writes.sent).toBe(dry2.writes.planned);
      expect(await sentSince(before)).toEqual(planned);
      expect((await sync()).writes.sent).toBe(0);
    });

    it('needs nothing but the mode to switch: a dry run per command, then the config says enforce', async () => {
      const story = assignedStory();
      jira.store.updateIssue(story.key, { assignee: null });
      const dry = await sync('--dry-run');
      expect(dry.writes.planned).toBeGreaterThan(0);
      // An enforce pass that pulls nothing new still sends the dry run's plan.
      const enforce = await sync('--connection', 'jira-main', '--connection', 'ado-main');
      expect(enforce.writes.sent).toBe(dry.writes.planned);
      expect((await sync()).writes.sent).toBe(0);
    });
  });
}
