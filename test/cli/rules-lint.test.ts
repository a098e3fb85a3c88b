// `pmo-sync rules lint` on rules whose CEL cost cannot be bounded at the item model's bounds:
// exit 2 and one `file:line: rule: problem` line each (the bound itself: rules/budget.test.ts).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PATHOLOGICAL_RULES } from '../../rules/budget-fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

describe('pmo-sync rules lint', () => {
  it('exits 2 on a file of unbounded rules and prints file:line: rule: problem', async () => {
    const dir = tempDir('pmo-budget-cli-');
    writeFileSync(join(dir, 'org.yaml'), PATHOLOGICAL_RULES);
    const r = await runCli(['rules', 'lint', 'org.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes('cost cannot be bounded')).map((l) => l.split(': ')[1])).toEqual([
      'nested-links',
      'labels-squared',
      'list-of-lists',
      'text-doubling',
      'message-placeholder',
    ]);
  });
});
