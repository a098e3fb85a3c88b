// `pmo-sync rules lint` on rules whose CEL cost cannot be bounded at the item model's bounds:
// exit 2 and one `file:line: rule: problem` line each (the bound itself: rules/budget.test.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp.ts';

const rule = (id: string, check: string, message = 'x') =>
  `- id: ${id}\n  title: ${id}\n  severity: warning\n  check: ${JSON.stringify(check)}\n  message: ${JSON.stringify(message)}\n`;

/** Ten levels of `x + x` through cel.bind: text that doubles at each level. */
const doubling = (() => {
  let expr = 'j.size() > 0';
  const names = 'abcdefghij';
  for (let i = names.length - 1; i >= 0; i--) {
    const prev = i === 0 ? 'item.title' : names[i - 1]!;
    expr = `cel.bind(${names[i]}, ${prev} + ${prev}, ${expr})`;
  }
  return expr;
})();

const PATHOLOGICAL = [
  rule('nested-links', 'links.all(a, links.all(b, links.exists(c, a.ref == c.ref && b.ref != c.ref)))'),
  rule('labels-squared', 'item.labels.map(a, item.labels.map(b, a + b)).size() > 0'),
  rule('list-of-lists', 'links.map(a, links.map(b, links)).size() >= 0'),
  rule('text-doubling', doubling),
  rule('message-placeholder', 'false', 'Pairs: {{links.map(a, links.map(b, a.ref + b.ref))}}'),
  rule('js-only-regex', 'item.title.matches("^(?=PAY).*")'),
].join('');

describe('pmo-sync rules lint', () => {
  it('exits 2 on a file of unbounded rules and prints file:line: rule: problem', async () => {
    const dir = tempDir('pmo-budget-cli-');
    writeFileSync(join(dir, 'org.yaml'), PATHOLOGICAL);
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
