// The sync progress display, drawn into a terminal emulator and read back as a person sees it.
import { afterEach, describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.ts';
import { type TestTerminal, testTerminal } from '../helpers/terminal.ts';

describe('sync progress on a terminal', () => {
  let term: TestTerminal;
  afterEach(() => term.dispose());

  it('draws a bar with the total, names the phase, and writes log lines above the bars, whole', async () => {
    term = testTerminal({ cols: 90 });
    const progress = createProgress({ stream: term.stream, connections: ['jira-main', 'ado-main'] });
    progress.update({ connection: 'jira-main', phase: 'pull', done: 0, total: null });
    progress.update({ connection: 'jira-main', phase: 'pull', done: 0, total: 200 });
    progress.update({ connection: 'jira-main', phase: 'pull', done: 100, total: 200 });
    progress.update({ connection: 'ado-main', phase: 'pull', done: 1, total: null });
    progress.log('[12:00:00.000] WARN: jira asked us to slow down\n');
    // Several lines at once (an error with its stack, under --verbose) land where the bars were.
    progress.log('pmo-sync: connection ado-main: sync failed: Azure DevOps rejected the PAT (401)\n    at x\n');
    progress.update({ connection: 'ado-main', phase: 'failed', done: 1, total: null });
    expect(await term.screen()).toEqual([
      '[12:00:00.000] WARN: jira asked us to slow down',
      'pmo-sync: connection ado-main: sync failed: Azure DevOps rejected the PAT (401)',
      '    at x',
      ` jira-main  pull     ${'█'.repeat(15)}${'░'.repeat(15)}  50%  100/200 items`,
      ' ado-main   pull     1 item',
    ]);
    progress.update({ connection: 'jira-main', phase: 'store', done: 200, total: 200 });
    progress.update({ connection: 'jira-main', phase: 'done', done: 203, total: 200 });
    progress.update({ connection: null, phase: 'evaluate', done: 0, total: 203 });
    progress.update({ connection: null, phase: 'roll up', done: 0, total: 203 });
    progress.stop();
    progress.log('after the bars\n');
    expect(await term.screen()).toEqual([
      '[12:00:00.000] WARN: jira asked us to slow down',
      'pmo-sync: connection ado-main: sync failed: Azure DevOps rejected the PAT (401)',
      '    at x',
      ` jira-main  done     ${'█'.repeat(30)} 100%  203/203 items`,
      ' ado-main   failed   1 item',
      ' all        roll up  203 items',
      'after the bars',
    ]);
  });
});
