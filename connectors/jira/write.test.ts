// Writes and reconcile reads against the simulator through the real jira.js client: one bot
// comment per item found by id or marker, label operations that leave people's labels alone,
// fields, deletions, field discovery, search lag and the captured DevLake issues.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkItem } from '../../src/core/work-item.ts';
import type { CommentDoc, Connector } from '../types.ts';
import { renderAdf } from './comment.ts';
import { createJiraConnector } from './index.ts';
import { type JiraSimulator, PEOPLE, startJiraSimulator } from './simulator/index.ts';
import { jiraConfig, noRefs, silentLog } from './testing.ts';

const doc = (text: string): CommentDoc => ({
  marker: 'pmo-sync:finding:v1',
  blocks: [
    { type: 'heading', text: 'PMO standard' },
    {
      type: 'bullets',
      items: [
        [{ text: text, bold: true }, { text: ' (rule ' }, { text: 'epic-target-date', code: true }, { text: ')' }],
      ],
    },
  ],
});

describe('the connector against the simulator', () => {
  let sim: JiraSimulator;
  let jira: Connector;

  beforeEach(async () => {
    sim = await startJiraSimulator();
    sim.seedPortfolio({ epics: 2, storiesPerEpic: 4, seed: 11, violationRate: 0 });
    jira = createJiraConnector({
      config: jiraConfig({ webhookSecret: 'hook-secret' }),
      log: silentLog,
      resolveRef: noRefs,
      baseUrl: sim.url,
    });
    await jira.whoami();
    sim.resetCounts();
  });
  afterEach(async () => {
    await jira.close();
    await sim.close();
  });

  describe('ensureComment', () => {
    it('creates once, then leaves an unchanged body alone, edits a changed one, and finds it by marker when the id is lost', async () => {
      // Act
      const created = await jira.ensureComment({ key: 'PAY-1', doc: doc('Set a target date'), commentId: null });
      const same = await jira.ensureComment({
        key: 'PAY-1',
        doc: doc('Set a target date'),
        commentId: created.commentId,
      });
      const countsAfterSame = sim.requestCounts();
      const edited = await jira.ensureComment({
        key: 'PAY-1',
        doc: doc('Set a due date'),
        commentId: created.commentId,
      });
      const lostId = await jira.ensureComment({ key: 'PAY-1', doc: doc('Set a due date'), commentId: null });
      const staleId = await jira.ensureComment({ key: 'PAY-1', doc: doc('Set a due date'), commentId: '999999' });

      // Assert
      const id = created.commentId;
      expect([created, same, edited, lostId, staleId]).toEqual([
        { outcome: 'created', commentId: id },
        { outcome: 'unchanged', commentId: id },
        { outcome: 'updated', commentId: id },
        { outcome: 'unchanged', commentId: id },
        { outcome: 'unchanged', commentId: id },
      ]);
      expect(countsAfterSame).toEqual({
        'GET issue/{key}/comment': 1,
        'POST issue/{key}/comment': 1,
        'GET issue/{key}/comment/{id}': 1,
      });
      expect(
        sim.store.getIssue('PAY-1')!.comments.map((c) => ({ id: c.id, body: c.body, author: c.author.displayName })),
      ).toEqual([{ id, body: renderAdf(doc('Set a due date')), author: 'pmo-sync bot' }]);
    });

    it('never takes over a person’s comment that quotes the marker', async () => {
      // Arrange
      const quote = {
        type: 'doc',
        version: 1,
        content: [{ type: 'paragraph', content: [{ type: 'text', text: 'why does pmo-sync:finding:v1 say this?' }] }],
      };
      sim.store.addComment('PAY-3', quote, { actor: PEOPLE[2] });

      // Act
      const result = await jira.ensureComment({ key: 'PAY-3', doc: doc('Set a target date'), commentId: null });

      // Assert
      expect(result.outcome).toBe('created');
      expect(sim.store.getIssue('PAY-3')!.comments.map((c) => [c.author.displayName, c.body])).toEqual([
        [PEOPLE[2]!.displayName, quote],
        ['pmo-sync bot', renderAdf(doc('Set a target date'))],
      ]);
    });

    it('deletes the bot comment by marker, and reports absent after', async () => {
      // Arrange
      sim.store.addComment('PAY-2', {
        type: 'doc',
        version: 1,
        content: [{ type: 'paragraph', content: [{ type: 'text', text: 'a person' }] }],
      });
      await jira.ensureComment({ key: 'PAY-2', doc: doc('x'), commentId: null });

      // Act
      const first = await jira.deleteComment({ key: 'PAY-2', commentId: null, marker: 'pmo-sync:finding:v1' });
      const second = await jira.deleteComment({ key: 'PAY-2', commentId: null, marker: 'pmo-sync:finding:v1' });

      // Assert
      expect([first, second, sim.store.getIssue('PAY-2')!.comments.length]).toEqual(['deleted', 'absent', 1]);
    });
  });

  describe('updateLabels and updateFields', () => {
    it('adds and removes with update.labels operations, keeping labels people set', async () => {
      // Arrange
      sim.store.updateIssue('PAY-3', { labels: ['team-a', 'pmo-stale'] }, { actor: PEOPLE[1] });

      // Act
      const first = await jira.updateLabels({
        key: 'PAY-3',
        add: ['pmo-flag', 'team-a'],
        remove: ['pmo-stale', 'never-there'],
      });
      const again = await jira.updateLabels({ key: 'PAY-3', add: ['pmo-flag'], remove: ['pmo-stale'] });

      // Assert
      expect([first, again, sim.store.getIssue('PAY-3')!.fields.labels]).toEqual([
        'updated',
        'unchanged',
        ['team-a', 'pmo-flag'],
      ]);
      expect(sim.requestCounts()).toEqual({ 'GET issue/{key}': 2, 'PUT issue/{key}': 1 });
    });

    it('writes only fields whose value differs', async () => {
      // Act
      const first = await jira.updateFields({ key: 'PAY-1', fields: { customfield_10100: 'Amber: 2 open findings' } });
      const again = await jira.updateFields({ key: 'PAY-1', fields: { customfield_10100: 'Amber: 2 open findings' } });

      // Assert
      expect([first, again, sim.store.getIssue('PAY-1')!.fields.customfield_10100]).toEqual([
        'updated',
        'unchanged',
        'Amber: 2 open findings',
      ]);
    });
  });

  describe('reconcile reads', () => {
    it('lists keys in one page and re-reads by key; deleted issues are missing', async () => {
      // Arrange
      sim.store.deleteIssue('PAY-3');

      // Act
      const keys = await jira.listKeys();
      const items = await jira.fetchItems(['PAY-2', 'PAY-3', 'PAY-4']);

      // Assert
      expect(keys).toEqual(['PAY-1', 'PAY-2', 'PAY-4', 'PAY-5', 'PAY-6', 'PAY-7', 'PAY-8', 'PAY-9', 'PAY-10']);
      expect(items.map((i) => i.key).sort()).toEqual(['PAY-2', 'PAY-4']);
      expect(sim.requestCounts()['POST search/jql']).toBe(1);
      expect(sim.requestCounts()['POST issue/bulkfetch']).toBe(1);
    });
  });

  it('discovers story points, start date, sprint and epic link from the field list', async () => {
    // Arrange
    const items: WorkItem[] = [];

    // Act
    await jira.pull({ cursor: null, onPage: async (p) => void items.push(...p) });

    // Assert
    const raw = sim.store.getIssue('PAY-2')!.fields;
    const story = items.find((i) => i.key === 'PAY-2')!;
    const epic = items.find((i) => i.key === 'PAY-1')!;
    expect({ points: story.points, parent: story.parent, iteration: story.iteration?.name, start: epic.start }).toEqual(
      {
        points: raw.customfield_10016,
        parent: 'jira-main:PAY-1',
        iteration: (raw.customfield_10020 as { name: string }[])[0]!.name,
        start: sim.store.getIssue('PAY-1')!.fields.customfield_10015,
      },
    );
    expect(sim.requestCounts()['GET field']).toBe(1);
  });

  it('generated dependencies arrive as blocks / blocked_by links on both sides', async () => {
    // Arrange
    const fresh = await startJiraSimulator();
    const manifest = fresh.seedPortfolio({ epics: 4, storiesPerEpic: 8, seed: 21, linkRate: 0.5 });
    const reader = createJiraConnector({
      config: jiraConfig(),
      log: silentLog,
      resolveRef: noRefs,
      baseUrl: fresh.url,
    });
    const items: WorkItem[] = [];

    // Act
    await reader.pull({ cursor: null, onPage: async (p) => void items.push(...p) });
    await reader.close();
    await fresh.close();

    // Assert
    const edges = items.flatMap((i) => i.links.map((l) => `${i.key} ${l.type} ${l.target.split(':')[1]}`)).sort();
    const expected = manifest.links.flatMap((l) => [`${l.from} blocks ${l.to}`, `${l.to} blocked_by ${l.from}`]).sort();
    expect(manifest.links.length).toBeGreaterThan(0);
    expect(edges).toEqual(expected);
  });

  it('reports configured fields the site does not have', async () => {
    // Arrange
    const drifting = createJiraConnector({
      config: jiraConfig({ fields: { points: 'customfield_10016', budget: 'customfield_77777' } }),
      log: silentLog,
      resolveRef: noRefs,
      baseUrl: sim.url,
    });

    // Act
    const drift = await drifting.checkMapping!();

    // Assert
    expect(drift).toEqual([
      {
        what: 'field',
        name: 'budget',
        message: 'field "budget" is configured as customfield_77777, which this Jira site does not have',
      },
    ]);
  });
});

describe('search lag and captured data', () => {
  it('an issue not yet searchable when a pull runs is read by the next incremental pull', async () => {
    // Arrange
    let clock = Date.parse('2026-11-20T12:00:00Z');
    const sim = await startJiraSimulator({ now: () => clock, faults: { searchLagMs: 60_000 } });
    const jira = createJiraConnector(
      { config: jiraConfig(), log: silentLog, resolveRef: noRefs, baseUrl: sim.url },
      { now: () => clock },
    );
    sim.seedPortfolio({ epics: 1, storiesPerEpic: 2, seed: 1 });
    const late = sim.store.createIssue({ project: 'PAY', issuetype: 'Story', summary: 'just created' }).key;
    const read = async (cursor: string | null) => {
      const keys: string[] = [];
      const r = await jira.pull({ cursor, onPage: async (p) => void keys.push(...p.map((i) => i.key)) });
      return { keys, cursor: r.cursor };
    };

    // Act
    const first = await read(null);
    clock += 5 * 60_000;
    const second = await read(first.cursor);
    await jira.close();
    await sim.close();

    // Assert
    expect(first.keys).toEqual(['PAY-1', 'PAY-2', 'PAY-3']);
    expect(second.keys).toEqual([late]);
  });

  it('pulls the 33 real DevLake issues with their localized types', async () => {
    // Arrange
    const sim = await startJiraSimulator();
    sim.seedFromDevlake();
    const jira = createJiraConnector({
      config: jiraConfig({
        scope: { projects: ['EE', 'K5'] },
        fields: {
          points: 'customfield_10024',
          start: 'customfield_10015',
          sprint: 'customfield_10020',
          epicLink: 'customfield_10014',
        },
      }),
      log: silentLog,
      resolveRef: noRefs,
      baseUrl: sim.url,
    });
    const items: WorkItem[] = [];

    // Act
    await jira.pull({ cursor: null, onPage: async (p) => void items.push(...p) });
    await jira.close();
    await sim.close();

    // Assert
    const byKind: Record<string, string[]> = {};
    for (const i of items) byKind[`${i.kind}/${i.type}`] = [...(byKind[`${i.kind}/${i.type}`] ?? []), i.key];
    expect(Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, v.length]))).toEqual({
      'story/故事': 8,
      'task/任务': 8,
      'bug/缺陷': 1,
      'subtask/子任务': 12,
      'other/Test Execution': 1,
      'story/Story': 2,
      'epic/Epic': 1,
    });
    expect(items.find((i) => i.key === 'EE-25')!.started).toBe('2020-06-12T00:45:12.459Z');
  });
});
