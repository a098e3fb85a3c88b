// Renders the tracker-neutral CommentDoc as Atlassian Document Format, with the marker embedded
// as the last paragraph so the bot comment can be found again when its stored id is lost, and
// decides whether a comment Jira holds already says what we would write.
import type { CommentBlock, CommentDoc, CommentText } from '../types.ts';

export interface AdfNode {
  type: string;
  text?: string;
  attrs?: Record<string, unknown>;
  marks?: { type: string; attrs?: Record<string, unknown> }[];
  content?: AdfNode[];
  version?: number;
}

/** Grey, so the marker reads as a footer rather than part of the message. */
const MARKER_COLOR = '#97a0af';

function inline(t: CommentText): AdfNode[] {
  // ADF rejects empty text nodes.
  if (t.text.length === 0) return [];
  const marks: NonNullable<AdfNode['marks']> = [];
  if (t.bold) marks.push({ type: 'strong' });
  if (t.code) marks.push({ type: 'code' });
  if (t.href) marks.push({ type: 'link', attrs: { href: t.href } });
  return [marks.length ? { type: 'text', text: t.text, marks } : { type: 'text', text: t.text }];
}

function block(b: CommentBlock): AdfNode {
  switch (b.type) {
    case 'heading':
      return { type: 'heading', attrs: { level: 3 }, content: inline({ text: b.text }) };
    case 'paragraph':
      return { type: 'paragraph', content: b.content.flatMap(inline) };
    case 'bullets':
      return {
        type: 'bulletList',
        content: b.items.map((item) => ({
          type: 'listItem',
          content: [{ type: 'paragraph', content: item.flatMap(inline) }],
        })),
      };
  }
}

export function renderAdf(doc: CommentDoc): AdfNode {
  const content = doc.blocks.map(block);
  content.push({
    type: 'paragraph',
    content: [{ type: 'text', text: doc.marker, marks: [{ type: 'textColor', attrs: { color: MARKER_COLOR } }] }],
  });
  return { type: 'doc', version: 1, content };
}

// Containers whose children are blocks (one per line); paragraphs and headings hold inline text.
const CONTAINERS = new Set([
  'doc',
  'bulletList',
  'orderedList',
  'listItem',
  'blockquote',
  'panel',
  'table',
  'tableRow',
  'tableCell',
]);

/** Plain text of an ADF document (or a wiki-markup string), blocks separated by newlines. */
export function adfToText(node: unknown): string {
  if (typeof node === 'string') return node;
  if (!node || typeof node !== 'object') return '';
  const n = node as AdfNode;
  if (n.type === 'text') return n.text ?? '';
  if (n.type === 'hardBreak') return '\n';
  const inner = (n.content ?? []).map(adfToText);
  return CONTAINERS.has(n.type) ? inner.filter((s) => s.length > 0).join('\n') : inner.join('');
}

export function hasMarker(body: unknown, marker: string): boolean {
  return adfToText(body).includes(marker);
}

// Jira adds attributes of its own (localId, panel defaults) when it stores a document, so two
// bodies are compared on what a reader sees: node types, text, marks, heading levels and links.
function normalize(node: unknown): unknown {
  if (!node || typeof node !== 'object') return null;
  const n = node as AdfNode;
  const out: Record<string, unknown> = { type: n.type };
  if (n.text !== undefined) out.text = n.text;
  if (n.type === 'heading') out.level = n.attrs?.level ?? null;
  if (n.marks?.length) {
    out.marks = n.marks
      .map(
        (m) =>
          `${m.type}${m.attrs?.href ? `:${String(m.attrs.href)}` : ''}${m.attrs?.color ? `:${String(m.attrs.color)}` : ''}`,
      )
      .sort();
  }
  if (n.content?.length) out.content = n.content.map(normalize);
  return out;
}

export function sameBody(existing: unknown, rendered: AdfNode): boolean {
  return JSON.stringify(normalize(existing)) === JSON.stringify(normalize(rendered));
}
