// Renders the neutral CommentDoc as the HTML Azure DevOps work item comments take, and finds the
// bot's comment again. The marker and a hash of the body go in a visible footer line: ADO's
// sanitizer may drop HTML comments and data attributes, but it keeps text, so the footer is what
// survives a round trip. Comparing hashes (not HTML) keeps us convergent even when ADO rewrites
// the markup it stores.
import { createHash } from 'node:crypto';
import type { CommentDoc, CommentText } from '../types.ts';

const FOOTER = /pmo-sync:([A-Za-z0-9._:-]+?)#([0-9a-f]{12})/;

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function inline(parts: readonly CommentText[]): string {
  return parts
    .map((p) => {
      let html = escapeHtml(p.text);
      if (p.code) html = `<code>${html}</code>`;
      if (p.bold) html = `<b>${html}</b>`;
      if (p.href && /^https?:\/\//.test(p.href)) html = `<a href="${escapeHtml(p.href)}">${html}</a>`;
      return html;
    })
    .join('');
}

function body(doc: CommentDoc): string {
  return doc.blocks
    .map((b) => {
      if (b.type === 'heading') return `<h3>${escapeHtml(b.text)}</h3>`;
      if (b.type === 'paragraph') return `<p>${inline(b.content)}</p>`;
      return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`;
    })
    .join('');
}

export function commentHash(doc: CommentDoc): string {
  return createHash('sha256').update(doc.marker).update('\0').update(body(doc)).digest('hex').slice(0, 12);
}

/** The full comment HTML: body, then a small footer carrying marker and body hash. */
export function renderComment(doc: CommentDoc): string {
  return `${body(doc)}<p><sub>pmo-sync:${escapeHtml(doc.marker)}#${commentHash(doc)}</sub></p>`;
}

/** Marker and hash found in a stored comment's text, or null when it is not a bot comment. */
export function readFooter(text: string | null | undefined): { marker: string; hash: string } | null {
  const m = text ? FOOTER.exec(text) : null;
  return m ? { marker: m[1]!, hash: m[2]! } : null;
}
