// `pmo-sync sync --dry-run --json` and `pmo-sync report --format json` for an Azure DevOps
// connection, end to end through the CLI against the simulator.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { configDir, runCli } from '../../test/helpers/cli.ts';
import { tempDir } from '../../test/helpers/temp.ts';
import { type AdoSimulator, startAdoSimulator } from './simulator/index.ts';

let sim: AdoSimulator;
let dir: string;

beforeAll(async () => {
  sim = await startAdoSimulator();
  sim.seedPortfolio({
    process: 'Agile',
    project: 'Payments',
    epics: 2,
    tasksPerStory: 1,
    violationRate: 0.3,
    seed: 11,
  });
  dir = configDir(
    [
      // A directory: sync and report are two processes' worth of CLI runs sharing one database.
      `database: { url: "${tempDir()}/db" }`,
      'connections:',
      '  - id: ado-main',
      '    kind: azure-devops',
      `    orgUrl: ${sim.url}`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: pmo-sync's own ${VAR} interpolation
      '    auth: { pat: "${ADO_PAT}" }',
      '    scope: { projects: [Payments] }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await sim.close();
});

test('sync --dry-run --json pulls and summarizes the Azure DevOps connection', async () => {
  // Act
  const r = await runCli(['sync', '--connection', 'ado-main', '--dry-run', '--json'], {
    cwd: dir,
    env: { ADO_PAT: 'pat-1234567' },
  });
  // Assert
  const out = JSON.parse(r.stdout) as {
    mode: string;
    connections: { id: string; tracker: string; itemsPulled: number }[];
  };
  expect({
    code: r.code,
    mode: out.mode,
    connections: out.connections.map((c) => [c.id, c.tracker, c.itemsPulled]),
  }).toEqual({
    code: 0,
    mode: 'dry-run',
    connections: [['ado-main', 'azure-devops', 56]],
  });
});

test('report --format json shows the stored normalized Azure DevOps items', async () => {
  // Arrange
  await runCli(['sync', '--connection', 'ado-main', '--dry-run', '--json'], {
    cwd: dir,
    env: { ADO_PAT: 'pat-1234567' },
  });
  // Act
  const r = await runCli(['report', '--format', 'json'], { cwd: dir, env: { ADO_PAT: 'pat-1234567' } });
  // Assert
  const out = JSON.parse(r.stdout) as { items: { ref: string; kind: string; parent: string | null }[] };
  const kinds: Record<string, number> = {};
  for (const i of out.items) kinds[i.kind] = (kinds[i.kind] ?? 0) + 1;
  expect({ code: r.code, kinds, orphans: out.items.filter((i) => i.kind !== 'epic' && !i.parent).length }).toEqual({
    code: 0,
    kinds: { epic: 2, feature: 6, story: 24, task: 24 },
    orphans: 0,
  });
});
