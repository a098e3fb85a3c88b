import { describe, expect, it } from 'vitest';
import { findWaiver } from './waivers.ts';

const item = { ref: 'jira-main:PAY-7', connection: 'jira-main', project: 'PAY', labels: [] as string[] };
const NOW = new Date('2027-03-31T22:00:00Z');

describe('findWaiver', () => {
  it('matches by ref or project until the end of the until day', () => {
    const byRef = [{ rule: 'epic-target-date', ref: 'jira-main:PAY-7', until: '2027-03-31', reason: 'board' }];
    const byProject = [{ rule: 'epic-target-date', project: 'jira-main:PAY', until: '2027-03-31', reason: 'pilot' }];
    expect([
      findWaiver(byRef, 'epic-target-date', item, NOW),
      findWaiver(byProject, 'epic-target-date', item, NOW),
      findWaiver(byRef, 'epic-target-date', item, new Date('2027-04-01T00:00:00Z')),
      findWaiver(byRef, 'overdue', item, NOW),
    ]).toEqual([{ reason: 'board', until: '2027-03-31' }, { reason: 'pilot', until: '2027-03-31' }, null, null]);
  });

  it('matches a pmo-waive label for that rule only', () => {
    const labelled = { ...item, labels: ['pmo-waive:overdue'] };
    expect([findWaiver([], 'overdue', labelled, NOW), findWaiver([], 'epic-target-date', labelled, NOW)]).toEqual([
      { reason: 'waived by the label pmo-waive:overdue on the item', until: null },
      null,
    ]);
  });
});
