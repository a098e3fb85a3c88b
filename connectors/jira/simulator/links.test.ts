// Issue links as Jira keeps them: made by a person on both issues, and deleted with an issue
// without any trace on the issue at their other end (DefaultIssueDeleteHelper removes them with
// IssueLinkManager.removeIssueLinksNoChangeItems: no changelog, no `updated`, no event).
import { describe, expect, it } from 'vitest';
import { startJiraSimulator } from './index.ts';

describe('issue links', () => {
  it('go with a deleted issue, leaving the issue at the other end untouched otherwise', async () => {
    // Arrange: PAY-2 blocks PAY-1, and PAY-3 relates to PAY-1.
    const sim = await startJiraSimulator();
    const create = (summary: string) =>
      sim.store.createIssue({ project: 'PAY', issuetype: 'Story', summary, status: 'To Do' }).key;
    const [kept, gone, other] = [create('kept'), create('gone'), create('other')];
    sim.linkIssues(gone, kept, 'Blocks');
    sim.linkIssues(other, kept, 'Relates');
    const linked = (key: string) =>
      (
        sim.store.getIssue(key)!.fields.issuelinks as {
          inwardIssue?: { key: string };
          outwardIssue?: { key: string };
        }[]
      ).map((l) => (l.inwardIssue ?? l.outwardIssue)!.key);

    const before = structuredClone(sim.store.getIssue(kept)!);
    const linkedBefore = linked(kept);

    // Act
    sim.store.deleteIssue(gone);
    const after = sim.store.getIssue(kept)!;
    const state = {
      linked: linked(kept),
      updated: after.fields.updated,
      histories: after.histories.length,
      other: linked(other),
    };
    await sim.close();

    // Assert
    expect({ linkedBefore, ...state }).toEqual({
      linkedBefore: [gone, other],
      linked: [other],
      updated: before.fields.updated,
      histories: before.histories.length,
      other: [kept],
    });
  });
});
