import { expect, test } from 'vitest';
import { commentHash, readFooter, renderComment } from './comment.ts';

const doc = {
  marker: 'pmo-sync:ado:299',
  blocks: [
    { type: 'heading' as const, text: 'PMO check: 1 problem' },
    { type: 'paragraph' as const, content: [{ text: 'Set a ' }, { text: 'target date', bold: true }] },
    {
      type: 'bullets' as const,
      items: [[{ text: '<script>', code: true }], [{ text: 'guide', href: 'https://pmo.example.com/g' }]],
    },
  ],
};

test('renders HTML with escaped text and a footer holding marker and hash', () => {
  // Act
  const html = renderComment(doc);
  // Assert
  expect(html).toEqual(
    '<h3>PMO check: 1 problem</h3><p>Set a <b>target date</b></p>' +
      '<ul><li><code>&lt;script&gt;</code></li><li><a href="https://pmo.example.com/g">guide</a></li></ul>' +
      `<p><sub>pmo-sync:pmo-sync:ado:299#${commentHash(doc)}</sub></p>`,
  );
});

test('the footer is found again in text ADO stored with its markup rewritten', () => {
  // Arrange: the sanitizer may drop tags and attributes; the footer is plain text and survives.
  const stored = renderComment(doc).replace(/<[^>]+>/g, ' ');
  // Act
  const footer = readFooter(stored);
  // Assert
  expect(footer).toEqual({ marker: 'pmo-sync:ado:299', hash: commentHash(doc) });
});

test('a person’s comment has no footer, and a changed body changes the hash', () => {
  // Act
  const found = readFooter('<p>I will fix it tomorrow</p>');
  const changed = commentHash({ ...doc, blocks: [{ type: 'heading', text: 'Compliant' }] });
  // Assert
  expect({ found, same: changed === commentHash(doc) }).toEqual({ found: null, same: false });
});
