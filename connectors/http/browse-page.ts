// The simulators' stand-in for a tracker's web page of an item (Jira /browse/KEY, Azure DevOps
// _workitems/edit/ID): the links pmo-sync shows open a readable page in the demo, not a JSON 401.
// Everything shown is escaped; the page runs no script and loads nothing.

export interface BrowsePage {
  tracker: string;
  key: string;
  title: string;
  type: string;
  status: string;
  comments: { author: string; text: string }[];
}

const html = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The text of an Atlassian Document Format body (its text nodes), or of an HTML string. */
export function plainText(body: unknown): string {
  if (typeof body === 'string')
    return body
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (!n || typeof n !== 'object') return;
    const node = n as { type?: string; text?: unknown; content?: unknown[] };
    if (typeof node.text === 'string') out.push(node.text);
    for (const c of node.content ?? []) walk(c);
    if (node.type === 'paragraph' || node.type === 'heading' || node.type === 'listItem') out.push('\n');
  };
  walk(body);
  return out.join('').replace(/\n+/g, '\n').trim();
}

export const BROWSE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
};

export function renderBrowsePage(p: BrowsePage): string {
  const comments = p.comments
    .map((c) => `<li><strong>${html(c.author)}</strong><pre>${html(c.text)}</pre></li>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${html(p.key)} ${html(p.title)}</title>
<style>body{font:16px system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem}pre{white-space:pre-wrap;font:inherit}</style></head>
<body><p>${html(p.tracker)} simulator</p><h1>${html(p.key)}: ${html(p.title)}</h1>
<p>${html(p.type)} · ${html(p.status)}</p><h2>Comments</h2><ul>${comments || '<li>none</li>'}</ul></body></html>`;
}
