// Rule files for the cost-budget tests: rules whose CEL cost cannot be bounded at the item
// model's bounds (rules lint rejects them) and rules that pass lint but run into the runtime
// budget on hostile items. Shared by the engine's, the findings pass's and the CLI's tests.

export const ruleYaml = (id: string, check: string, message = 'x') =>
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

export const PATHOLOGICAL_RULES = [
  ruleYaml('nested-links', 'links.all(a, links.all(b, links.exists(c, a.ref == c.ref && b.ref != c.ref)))'),
  ruleYaml('labels-squared', 'item.labels.map(a, item.labels.map(b, a + b)).size() > 0'),
  ruleYaml('list-of-lists', 'links.map(a, links.map(b, links)).size() >= 0'),
  ruleYaml('text-doubling', doubling),
  ruleYaml('message-placeholder', 'false', 'Pairs: {{links.map(a, links.map(b, a.ref + b.ref))}}'),
  ruleYaml('js-only-regex', 'item.title.matches("^(?=PAY).*")'),
].join('');

export const BOUNDED_RULES = [
  ruleYaml('blocked', 'links.exists(l, l.relation in ["blocked_by", "depends_on"]) == false'),
  ruleYaml('short-labels', 'item.labels.all(x, x.size() < 100)'),
  ruleYaml('no-bang', 'item.title.split("").exists(c, c == "!") == false'),
  ruleYaml('redos-pattern', '!item.title.matches("^(a+)+$")'),
  ruleYaml('swallowed', 'item.labels.all(x, x.size() < 100) || true'),
  ruleYaml('plain', 'has(item.due)'),
].join('');
