// Atlassian Document Format to wiki markup, as Jira's REST API v2 returns rich-text fields
// (comment bodies, description): v3 answers with the ADF document, v2 with this string. Covers
// the nodes and marks pmo-sync's comments and the generator's descriptions use; anything else
// is reduced to its text.
import type { AdfNode } from '../comment.ts';

function marked(n: AdfNode): string {
  let text = n.text ?? '';
  for (const m of n.marks ?? []) {
    if (m.type === 'strong') text = `*${text}*`;
    else if (m.type === 'em') text = `_${text}_`;
    else if (m.type === 'strike') text = `-${text}-`;
    else if (m.type === 'code') text = `{{${text}}}`;
    else if (m.type === 'link' && typeof m.attrs?.href === 'string') text = `[${text}|${m.attrs.href}]`;
    else if (m.type === 'textColor' && typeof m.attrs?.color === 'string')
      text = `{color:${m.attrs.color}}${text}{color}`;
  }
  return text;
}

function inline(nodes: AdfNode[] | undefined): string {
  return (nodes ?? [])
    .map((n) => {
      if (n.type === 'text') return marked(n);
      if (n.type === 'hardBreak') return '\n';
      if (n.type === 'mention') return String(n.attrs?.text ?? '');
      if (n.type === 'emoji') return String(n.attrs?.text ?? n.attrs?.shortName ?? '');
      return inline(n.content);
    })
    .join('');
}

function list(n: AdfNode, bullet: string): string[] {
  return (n.content ?? []).flatMap((item) =>
    (item.content ?? []).flatMap((child, i) => {
      if (child.type === 'bulletList') return list(child, `${bullet}*`);
      if (child.type === 'orderedList') return list(child, `${bullet}#`);
      const text = block(child);
      return i === 0 ? [`${bullet} ${text}`] : [text];
    }),
  );
}

function block(n: AdfNode): string {
  switch (n.type) {
    case 'paragraph':
      return inline(n.content);
    case 'heading':
      return `h${Number(n.attrs?.level ?? 1)}. ${inline(n.content)}`;
    case 'bulletList':
      return list(n, '*').join('\n');
    case 'orderedList':
      return list(n, '#').join('\n');
    case 'codeBlock':
      return `{code}\n${inline(n.content)}\n{code}`;
    case 'blockquote':
      return `{quote}\n${(n.content ?? []).map(block).join('\n\n')}\n{quote}`;
    case 'rule':
      return '----';
    default:
      return n.content ? (n.content.some((c) => c.type === 'text') ? inline(n.content) : blocks(n.content)) : '';
  }
}

function blocks(nodes: AdfNode[]): string {
  return nodes
    .map(block)
    .filter((s) => s.length > 0)
    .join('\n\n');
}

/** Wiki markup of an ADF document; a string (already wiki markup) is returned as it is. */
export function adfToWiki(body: unknown): string {
  if (typeof body === 'string') return body;
  if (!body || typeof body !== 'object') return '';
  const doc = body as AdfNode;
  return doc.type === 'doc' ? blocks(doc.content ?? []) : block(doc);
}
