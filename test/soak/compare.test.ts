// The soak's verdict and the bench's politeness check are only as good as these comparisons.
import { describe, expect, it } from 'vitest';
import { earlyRequests } from '../../bench/scenarios/pull.ts';
import { compareStates, type TrackerState } from '../../bench/soak.ts';

const state = (comments: Record<string, string[]>, labels: Record<string, string>): TrackerState => ({
  comments: new Map(Object.entries(comments)),
  labels: new Map(Object.entries(labels)),
});

describe('soak comparison', () => {
  it('finds no difference between identical states', () => {
    const a = state({ 'jira-main:PAY-1': ['fix it'] }, { 'jira-main:PAY-1': 'pmo:noncompliant' });
    const b = state({ 'jira-main:PAY-1': ['fix it'] }, { 'jira-main:PAY-1': 'pmo:noncompliant' });

    const diff = compareStates(
      a,
      b,
      new Set(['jira-main:PAY-1 owner-required']),
      new Set(['jira-main:PAY-1 owner-required']),
    );

    expect(diff).toEqual({
      findingsOnlyClean: [],
      findingsOnlySoak: [],
      commentDiffs: [],
      duplicateComments: [],
      labelDiffs: [],
    });
  });

  it('reports a doubled comment, a label and a finding that differ', () => {
    const clean = state({ 'ado-main:7': ['fix it'] }, { 'ado-main:7': 'pmo:noncompliant' });
    const soak = state({ 'ado-main:7': ['fix it', 'fix it'] }, { 'ado-main:7': '' });

    const diff = compareStates(clean, soak, new Set(['ado-main:7 owner-required']), new Set());

    expect(diff).toEqual({
      findingsOnlyClean: ['ado-main:7 owner-required'],
      findingsOnlySoak: [],
      commentDiffs: ['ado-main:7'],
      duplicateComments: ['ado-main:7: 2 bot comments'],
      labelDiffs: ['ado-main:7: clean [pmo:noncompliant] soak []'],
    });
  });
});

describe('requests sent before Retry-After expired', () => {
  it('counts a request to the throttled endpoint inside the window, not one after it or elsewhere', () => {
    const log = [
      { at: 1_000, label: 'POST search/jql', status: 429 as const },
      { at: 1_500, label: 'POST search/jql', status: 200 as const },
      { at: 1_600, label: 'GET field', status: 200 as const },
      { at: 2_100, label: 'POST search/jql', status: 200 as const },
    ];

    expect(earlyRequests(log, 1_000)).toBe(1);
  });
});
