// The generator is deterministic and its violations are real; the simulator's JQL evaluates the
// clauses pmo-sync and typical scopes use.
import { describe, expect, it } from 'vitest';
import { startJiraSimulator } from './index.ts';
import { parseJql } from './jql.ts';

describe('seedPortfolio', () => {
  it('is deterministic for a seed, with the requested shape and about the requested share of violations', async () => {
    // Arrange
    const [a, b] = await Promise.all([startJiraSimulator(), startJiraSimulator()]);
    const opts = {
      epics: 20,
      storiesPerEpic: 10,
      bugsPerEpic: 2,
      subtasksPerStory: 1,
      violationRate: 0.2,
      seed: 99,
      now: Date.parse('2026-11-20T00:00:00Z'),
    };

    // Act
    const ma = a.seedPortfolio(opts);
    const mb = b.seedPortfolio(opts);
    const sameData = ma.keys.every(
      (k) =>
        JSON.stringify(a.store.getIssue(k)).replaceAll(a.url, '') ===
        JSON.stringify(b.store.getIssue(k)).replaceAll(b.url, ''),
    );
    await Promise.all([a.close(), b.close()]);

    // Assert
    expect(mb).toEqual(ma);
    expect(sameData).toBe(true);
    expect(ma.counts).toEqual({ epic: 20, story: 200, bug: 40, subtask: 200 });
    expect(ma.keys.length).toBe(460);
    const share = ma.violations.length / ma.keys.length;
    expect(share).toBeGreaterThan(0.14);
    expect(share).toBeLessThan(0.26);
  });

  it('applies each violation to the data', async () => {
    // Arrange
    const sim = await startJiraSimulator();
    const m = sim.seedPortfolio({ epics: 30, storiesPerEpic: 5, bugsPerEpic: 1, violationRate: 0.5, seed: 3 });

    // Act
    const broken = m.violations.filter(({ key, violation }) => {
      const f = sim.store.getIssue(key)!.fields;
      const parentDue = f.parent ? sim.store.getIssue((f.parent as { key: string }).key)!.fields.duedate : null;
      switch (violation) {
        case 'epic-missing-due':
          return f.duedate === null;
        case 'start-after-due':
          return String(f.customfield_10015) > String(f.duedate);
        case 'story-missing-points':
          return f.customfield_10016 === null;
        case 'missing-assignee':
          return f.assignee === null;
        case 'child-due-after-parent':
          return parentDue !== null && String(f.duedate) > String(parentDue);
        case 'bug-missing-priority':
          return f.priority === null;
        default:
          return false;
      }
    });
    await sim.close();

    // Assert
    expect(broken.length).toBe(m.violations.length);
  });
});

describe('simulator JQL', () => {
  const issue = (key: string, fields: Record<string, unknown>) => ({ key, id: key.split('-')[1]!, fields });
  const now = Date.parse('2026-11-20T12:00:00Z');

  it('evaluates the clauses scopes and pulls use', () => {
    // Arrange
    const a = issue('PAY-1', {
      project: { key: 'PAY' },
      labels: ['x'],
      updated: '2026-11-20T11:50:00.000+0000',
      status: { name: 'Done', statusCategory: { key: 'done' } },
    });
    const b = issue('WEB-2', {
      project: { key: 'WEB' },
      labels: [],
      updated: '2026-11-19T11:50:00.000+0000',
      status: { name: 'To Do', statusCategory: { key: 'new' } },
    });
    const queries = [
      'project in ("PAY", "WEB") AND updated >= "-15m" ORDER BY key ASC',
      'project = WEB OR labels = x',
      'NOT (statusCategory = done) AND labels is EMPTY',
      'updated >= "2026-11-20 00:00"',
      'project not in (PAY)',
    ];

    // Act
    const hits = queries.map((q) => [a, b].filter((i) => parseJql(q).where(i, now)).map((i) => i.key));

    // Assert
    expect(hits).toEqual([['PAY-1'], ['PAY-1', 'WEB-2'], ['WEB-2'], ['PAY-1'], ['WEB-2']]);
  });

  it('answers an unknown field as Jira does', () => {
    // Act / Assert
    expect(() => parseJql('sprintt = 4')).toThrow(
      "Field 'sprintt' does not exist or you do not have permission to view it.",
    );
  });
});
