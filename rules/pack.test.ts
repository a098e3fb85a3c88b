// The pmo-standard pack: every rule has passing and failing test cases beside it, and every
// case gives the outcome it declares (the same cases `pmo-sync rules test` runs).
import { describe, expect, it } from 'vitest';
import { loadRuleSet, packFile } from './load.ts';
import { readTestFile, runTestCase, testFileFor } from './testing.ts';

const ruleSet = loadRuleSet({ config: { packs: ['pmo-standard'] }, cwd: process.cwd() });
const { cases, problems } = readTestFile(testFileFor(packFile('pmo-standard')));

describe('pmo-standard pack', () => {
  it('loads with no problems and at least 20 rules', () => {
    expect({ problems: ruleSet.problems, testProblems: problems, enough: ruleSet.rules.length >= 20 }).toEqual({
      problems: [],
      testProblems: [],
      enough: true,
    });
  });

  it('covers every area of the PMO standard', () => {
    const areas = [...new Set(ruleSet.rules.map((r) => r.area))].sort();
    expect(areas).toEqual(['dependencies', 'flow', 'hierarchy', 'required-fields', 'risk', 'schedule', 'stage-gate']);
  });

  it('has a passing and a failing case for every rule', () => {
    const missing = ruleSet.rules
      .map((r) => ({
        rule: r.id,
        pass: cases.some((c) => c.rule === r.id && c.expect === 'pass'),
        fail: cases.some((c) => c.rule === r.id && c.expect === 'fail'),
      }))
      .filter((x) => !x.pass || !x.fail);
    expect(missing).toEqual([]);
  });

  it('has a one-sentence message and a rationale on every rule', () => {
    const bad = ruleSet.rules
      .filter((r) => !r.rationale || !/[.!]$/.test(r.def.message.trim()) || r.def.message.split(/[.!] /).length > 1)
      .map((r) => r.id);
    expect(bad).toEqual([]);
  });

  describe.each(cases.map((c) => [`${c.rule}: ${c.name}`, c] as const))('%s', (_name, tc) => {
    it(`gives ${tc.expect}`, () => {
      const r = runTestCase(ruleSet, tc);
      expect({ ok: r.ok, reason: r.reason }).toEqual({ ok: true, reason: undefined });
    });
  });
});
