// The simulator child process (started by sim-process.ts): starts and seeds both simulators
// with the options of the first message, reports their URLs and what was seeded, then answers
// the parent's calls. Exits when told to close or when the IPC channel closes, so it never
// outlives the benchmark, even one killed with SIGKILL.
import { PEOPLE } from '../../connectors/jira/simulator/index.ts';
import type { Changed, ChildMessage, ParentMessage, SimCounts } from './sim-process.ts';
import { isDone, type Seeded, startSimulators } from './simulators.ts';
import { sampleRss } from './stats.ts';

const send = (m: ChildMessage, then?: () => void) => process.send!(m, undefined, {}, then);
process.on('disconnect', () => process.exit(0));

let sims: Seeded | null = null;
let rss = sampleRss();

async function answer(m: Extract<ParentMessage, { type: 'call' }>, s: Seeded): Promise<unknown> {
  switch (m.op) {
    case 'counts': {
      const jiraCounts = s.jira.requestCounts();
      const adoCounts = s.ado.requestCounts();
      const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
      return {
        jira: {
          requests: sum(jiraCounts),
          byEndpoint: jiraCounts,
          sim429: s.jira.requestLog().filter((r) => r.status === 429).length,
        },
        ado: { requests: sum(adoCounts), byEndpoint: adoCounts, sim429: 0 },
        peakRssMiB: rss.peak(),
      } satisfies SimCounts;
    }
    case 'resetCounts':
      s.jira.resetCounts();
      s.ado.resetCounts();
      rss.stop();
      rss = sampleRss();
      return undefined;
    case 'jiraLog':
      return s.jira.requestLog();
    case 'changeShare': {
      // A person's change: the assignee toggled (a rule outcome changes, so writes are planned).
      const jiraKeys = s.jiraKeys.filter((_, i) => i % m.every === m.offset);
      const adoIds = s.adoIds.filter((_, i) => i % m.every === m.offset);
      for (const [i, key] of jiraKeys.entries()) {
        const assigned = s.jira.store.liveIssue(key)?.fields.assignee != null;
        s.jira.store.updateIssue(key, { assignee: assigned ? null : PEOPLE[i % PEOPLE.length] }, { emit: false });
      }
      for (const id of adoIds) s.ado.store.update(id, { 'System.Title': `Changed ${id}` });
      return { jiraKeys, jiraDone: jiraKeys.filter((k) => isDone(s.jira, k)).length, adoIds } satisfies Changed;
    }
    case 'close':
      await s.jira.close();
      await s.ado.close();
      return undefined;
  }
}

process.on('message', async (m: ParentMessage) => {
  if (m.type === 'start') {
    sims = await startSimulators(m.options);
    rss.stop();
    rss = sampleRss();
    send({
      type: 'ready',
      jiraUrl: sims.jira.url,
      adoUrl: sims.ado.url,
      jiraKeys: sims.jiraKeys,
      jiraDone: sims.jiraKeys.filter((k) => isDone(sims!.jira, k)).length,
      adoIds: sims.adoIds,
    });
    return;
  }
  try {
    const result = await answer(m, sims!);
    send({ type: 'reply', id: m.id, ok: true, result }, m.op === 'close' ? () => process.disconnect() : undefined);
  } catch (e) {
    send({ type: 'reply', id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
